"""Snapshots of the views folded from the people journal, so a new process
need not fold it all.

`people.json` holds the people view, `facts.json` the people's facts, each
with the people-journal offsets it covers, replaced atomically: old or new,
never half. (The aggregates' are per month: aggregates.py.)
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
    """A view of the people journal on disk (the people view, or with the facts
    view's codec its facts), so that a new process need not fold the journal.

    It holds personal data like the journal it summarises: erasing someone
    deletes it (under the people lock), and a save happens under that lock
    only if no erase came in between, so an erased person never comes back.
    """

    EVERY_LINES = 10_000

    def __init__(self, path: str, codec=view_json) -> None:
        self.path = path
        self.codec = codec  # to_json(view), from_json(data, lines)
        self.unsaved = 0

    def load(self, generation: int, lines: Lines) -> PeopleView | None:
        """The view on disk if it is of this generation; its records are read
        through lines."""
        try:
            with open(self.path, "rb") as f:
                view = self.codec.from_json(f.read(), lines)
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as e:
            log.error(
                "people snapshot %s unreadable (%s): folding the journal", self.path, e
            )
            return None
        if view is None:
            log.info("snapshot %s is of an earlier shape: folding", self.path)
            return None
        return view if view.generation == generation else None

    def save(self, view: PeopleView, current: Callable[[], int]) -> None:
        """Write the view if it is still of the current generation."""
        data = self.codec.to_json(view)
        with writable():
            if current() == view.generation:
                atomic_write(self.path, data)
        self.unsaved = 0

    def write(self, view: PeopleView) -> None:
        """Write the view of a generation about to begin (a compaction's)."""
        with writable():
            atomic_write(self.path, self.codec.to_json(view))
        self.unsaved = 0

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
