"""The embedded backend's aggregates, held a month at a time.

The daily cubes are folded from the event journal, whose folders are the
months of the events' own time (`journal/events/<YYYY-MM>/`): a month's days
depend on that folder's files alone. So each month is a snapshot of its own,
`aggregates/<YYYY-MM>.json` (its days and the offsets of its folder's files
they cover, replaced atomically: any process may write it, old or new, never
half), and a process loads and folds only the months a summary asks for. A
30-day overview reads two or three months, not every month since the site
began: at 1M events a year of cubes is about 280 MB and most of a fresh
process's first overview. A late event lands in its own month's folder and is
folded whenever that month is next held.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from datetime import timedelta

import orjson

from .. import clock
from ..journey.counters import OPEN_DAYS, Day, Stats
from .files import atomic_write, writable
from .journal import Journal
from .snapshots import FREEZE_AFTER, settle
from .view import collector_paused, now_iso

log = logging.getLogger(__name__)
LEGACY = "aggregates.json"  # one file for every month, before 2026-12


class MonthlyAggregates:
    """This process's months of daily cubes, brought up to date on demand."""

    EVERY_EVENTS = 50_000
    EVERY_SECONDS = 60.0
    UNASKED = 16  # summaries a held month may go unasked for before it is let go

    def __init__(self, data_dir: str, journal: Journal) -> None:
        self.folder = os.path.join(data_dir, "aggregates")
        self.legacy = os.path.join(data_dir, LEGACY)
        self.journal = journal
        self.stats = Stats()
        self.offsets: dict[str, int] = {}  # journal file -> bytes folded (held months)
        self.asked: dict[str, int] = {}  # month held -> the summary that last asked
        self.dirty: set[str] = set()
        self.unsaved = 0
        self.saved_at = time.monotonic()
        self.calls = 0
        self.lock = threading.Lock()

    def summary(
        self, since: str | None, until: str | None, filters: dict[str, str] | None
    ) -> dict:
        with self.lock:
            self._refresh(since, until)
            return self.stats.summary(since, until, filters)

    def _refresh(self, since: str | None, until: str | None) -> None:
        self.calls += 1
        if os.path.exists(self.legacy):
            self._split_legacy()
        months = self._months(since, until)
        with collector_paused():
            loaded = [m for m in sorted(months) if m not in self.asked]
            for month in loaded:
                self._load(month)
            for month in months:
                self.asked[month] = self.calls
            folded = 0
            for name, offset, event in self.journal.read(
                self.offsets, months=set(self.asked)
            ):
                self.stats.add(event)
                self.offsets[name] = offset
                self.dirty.add(name[:7])
                folded += 1
        settle(bool(loaded) or folded >= FREEZE_AFTER)
        yesterday = (clock.now() - timedelta(days=OPEN_DAYS - 1)).date().isoformat()
        days = self.stats.days.items()
        self.dirty |= {k[:7] for k, d in days if k < yesterday and not d.closed}
        self.stats.close_before(yesterday)
        self.unsaved += folded
        elapsed = time.monotonic() - self.saved_at
        if self.dirty and (
            self.unsaved >= self.EVERY_EVENTS or elapsed >= self.EVERY_SECONDS
        ):
            self.save()
        self._let_go()

    def _months(self, since: str | None, until: str | None) -> set[str]:
        """The months of [since, until] that have events or a snapshot."""
        found = set()
        for folder, suffix in ((self.journal.root, ""), (self.folder, ".json")):
            with contextlib.suppress(FileNotFoundError):
                for name in os.listdir(folder):
                    if name.endswith(suffix) and not name.startswith("."):
                        found.add(name.removesuffix(suffix))
        return {
            m
            for m in found
            if (not since or m >= since[:7]) and (not until or m <= until[:7])
        }

    def _path(self, month: str) -> str:
        return os.path.join(self.folder, f"{month}.json")

    def _load(self, month: str) -> None:
        try:
            with open(self._path(month), "rb") as f:
                data = orjson.loads(f.read())
        except FileNotFoundError:
            return
        except ValueError as e:  # the journal has everything: fold it again
            log.error("aggregates of %s unreadable (%s): folding them", month, e)
            return
        self.stats.days.update({d: Day(v) for d, v in data["days"].items()})
        self.offsets.update(data["offsets"])
        if any(v["closed"] and "rollup" not in v for v in data["days"].values()):
            self.dirty.add(month)  # written before closed days kept their rollup

    def save(self) -> None:
        """Write each month changed since it was last written."""
        with writable():
            for month in sorted(self.dirty):
                days = {
                    d: day.to_json()
                    for d, day in self.stats.days.items()
                    if d[:7] == month
                }
                offsets = {n: o for n, o in self.offsets.items() if n[:7] == month}
                data = {"days": days, "offsets": offsets, "saved": now_iso()}
                atomic_write(self._path(month), _dumps(data))
        self.dirty.clear()
        self.unsaved = 0
        self.saved_at = time.monotonic()

    def _let_go(self) -> None:
        """Forget the months no recent summary asked for (written first if changed)."""
        unasked = [m for m, at in self.asked.items() if self.calls - at > self.UNASKED]
        if not unasked:
            return
        if self.dirty & set(unasked):
            self.save()
        for month in unasked:
            del self.asked[month]
            for day in [d for d in self.stats.days if d[:7] == month]:
                del self.stats.days[day]
            for name in [n for n in self.offsets if n[:7] == month]:
                del self.offsets[name]

    def _split_legacy(self) -> None:
        """Turn the one-file snapshot into a file per month (any process may;
        each month file it writes is as consistent as the file it came from)."""
        try:
            with open(self.legacy, "rb") as f:
                tables = orjson.loads(f.read())
        except FileNotFoundError:
            return
        except ValueError as e:
            log.error("%s unreadable (%s): folding the journal", self.legacy, e)
            tables = {}
        state = (tables.pop("state", None) or {}).get("1", {})
        offsets = state.get("offsets", {})
        with writable():
            for month, docs in tables.items():
                if os.path.exists(self._path(month)):
                    continue  # already written by a process that folded more
                data = {  # each day read and written again: with its rollup
                    "days": {d["day"]: Day(d["data"]).to_json() for d in docs.values()},
                    "offsets": {n: o for n, o in offsets.items() if n[:7] == month},
                    "saved": state.get("saved") or now_iso(),
                }
                atomic_write(self._path(month), _dumps(data))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.legacy)

    def close(self) -> None:
        with self.lock:
            if self.dirty:
                try:
                    self.save()
                except OSError:
                    pass  # the journal still has every event; the next fold catches up


def _dumps(data: dict) -> bytes:
    """JSON of a month (an open day's visit paths are keyed by visitor number)."""
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
