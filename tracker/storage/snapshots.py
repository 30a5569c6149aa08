"""The people view's snapshot, so a new process need not fold the whole journal.

`people.json` holds the people view and the people-journal offsets it covers,
replaced atomically: old or new, never half. (The aggregates' are per month:
aggregates.py.)
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
from collections.abc import Callable

from . import view_json
from .files import atomic_write, writable
from .view import Lines, PeopleView

log = logging.getLogger(__name__)
FREEZE_AFTER = 10_000  # folded records


def settle(big: bool) -> None:
    """After a large fold, move its records out of the collector's sight for good.

    Walking millions of them on every full collection cost a third of a
    dashboard request.
    """
    if big:
        gc.freeze()


class PeopleSnapshot:
    """The people view on disk, so that a new process need not fold the journal.

    It holds personal data like the journal it summarises: erasing someone
    deletes it (under the people lock), and a save happens under that lock
    only if no erase came in between, so an erased person never comes back.
    """

    EVERY_LINES = 10_000

    def __init__(self, path: str) -> None:
        self.path = path
        self.unsaved = 0

    def load(self, generation: int, lines: Lines) -> PeopleView | None:
        """The view on disk if it is of this generation; its records are read
        through lines."""
        try:
            with open(self.path, "rb") as f:
                view = view_json.from_json(f.read(), lines)
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as e:
            log.error(
                "people snapshot %s unreadable (%s): folding the journal", self.path, e
            )
            return None
        if view is None:
            log.info("people snapshot %s is of an older format: folding", self.path)
            return None
        return view if view.generation == generation else None

    def save(self, view: PeopleView, current: Callable[[], int]) -> None:
        """Write the view if it is still of the current generation."""
        data = view_json.to_json(view)
        with writable():
            if current() == view.generation:
                atomic_write(self.path, data)
        self.unsaved = 0

    def write(self, view: PeopleView) -> None:
        """Write the view of a generation about to begin (a compaction's)."""
        with writable():
            atomic_write(self.path, view_json.to_json(view))
        self.unsaved = 0

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
