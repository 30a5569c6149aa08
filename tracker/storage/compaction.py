"""Compaction: the people journal keeps each contact once, and every decision.

A transaction appends the whole contact on every change, so the journal grows
with the changes, not the contacts (3.9 KB per contact at 100k contacts).
Compaction writes each contact's decisions, in the order made, and its
current state once, deflated (people_lines), and puts that in place of the
older segments while the tracker runs:

1. under the people lock, a new segment begins (`seal`): writers append
   there from now on, and the older segments no longer change;
2. without the lock, those are folded and written compacted into
   `people.compact/`, each file fsynced: writers and readers go on;
3. under the lock again, if no erasure came in between, the compacted
   segments and the newer ones (linked) become the journal by two renames,
   and the snapshots of the new layout (people and facts) are written; the
   generation moves, so every process folds anew (from those snapshots).

A `kill -9` at any moment leaves either the old journal whole (a half-built
`people.compact/` is removed by the next compaction or erasure) or the new
one, and a marker the next process finishes from (people_store). Only one
compaction runs at a time (`locks/compact.lock`).

`store` is the PeopleStore of the data directory (people_store).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import orjson

from .base import StorageError
from .facts_view import FactsView
from .files import atomic_write, fsync_dir, writable
from .people_journal import PeopleJournal, Segments
from .people_lines import GROUP_MAX, compacted, pack
from .view import PeopleView

log = logging.getLogger(__name__)


class Busy(StorageError):
    """Another process is compacting the people journal."""


@dataclass
class Compacted:
    """What a compaction did: bytes of the segments it replaced and wrote."""

    before: int
    after: int
    contacts: int
    decisions: int
    seconds: float


@contextmanager
def only_one(store) -> Iterator[None]:
    """Hold the compaction lock, or raise Busy at once."""
    with writable():
        os.makedirs(os.path.dirname(store.compact_lock), exist_ok=True)
        fd = os.open(store.compact_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy("the people journal is being compacted already") from None
        yield
    finally:
        os.close(fd)


def built_dir(store) -> str:
    return store.journal.root + ".compact"


def discard_leftover(store) -> None:
    """Remove what a compaction killed mid-way left (none runs now)."""
    built = built_dir(store)
    if not os.path.exists(built):
        return
    try:
        with only_one(store):
            shutil.rmtree(built, ignore_errors=True)
    except Busy:
        pass  # a live one: it sees the erasure and discards its own work


def record_path(store) -> str:
    return os.path.join(store.journal_dir, "people.compacted")


def growth(store) -> int:
    """Bytes the journal gained since its last compaction (as folded here)."""
    view = store.view
    if view is None:
        return 0
    try:
        with open(record_path(store), "rb") as f:
            base = orjson.loads(f.read()).get("bytes", 0)
    except (FileNotFoundError, ValueError):
        base = 0
    return sum(view.offsets.values()) - base


def compact(store) -> Compacted | None:
    """Compact the people journal; None if there was nothing to gain.

    Raises Busy if another process is at it, StorageError if an erasure
    came in between (nothing changed; run it again).
    """
    started = time.monotonic()
    journal = store.journal
    with only_one(store):
        with store.locked():
            store.upgrade()
            if store.read_only_legacy:
                raise StorageError("the data directory cannot be written")
            if unchanged_since_last(store):
                return None
            generation = store.generation()
            with writable():
                names = journal.seal()
        if not names:
            return None
        built = built_dir(store)
        shutil.rmtree(built, ignore_errors=True)
        with writable():
            os.makedirs(built)
            view, facts, stats = write_compacted(journal, names, built, generation + 1)
            fsync_dir(built)
        with store.locked():
            if store.generation() != generation or store.rewriting():
                shutil.rmtree(built, ignore_errors=True)
                raise StorageError("a person was erased meanwhile: compact again")
            with writable(), store.rewrite("compact"):
                kept = [n for n in journal.files() if n not in names]
                journal.swap(built, kept)
                view.lines = facts.lines = Segments(journal.root)
                for name, end, loc, record in view.lines.scan({}, kept):
                    view.apply(record, loc)
                    facts.apply(record, loc)
                    view.offsets[name] = facts.offsets[name] = end
                store.snapshot.write(view)
                store.facts_snapshot.write(facts)
                after = sum(view.offsets.values())
                atomic_write(record_path(store), orjson.dumps({"bytes": after}))
            store.view, store.held_facts.view = view, facts
    result = Compacted(
        before=stats["before"],
        after=stats["after"],
        contacts=stats["contacts"],
        decisions=stats["decisions"],
        seconds=time.monotonic() - started,
    )
    log.info("people journal compacted: %s", result)
    return result


def unchanged_since_last(store) -> bool:
    """True if nothing was appended since the last compaction."""
    try:
        with open(record_path(store), "rb") as f:
            base = orjson.loads(f.read()).get("bytes")
    except (FileNotFoundError, ValueError):
        return False
    return base == store.journal.size()


def write_compacted(
    journal: PeopleJournal, names: list[str], built: str, generation: int
) -> tuple[PeopleView, FactsView, dict[str, int]]:
    """Fold the segments named, write them compacted into built; return the
    views of what was written (people and facts) and the counts."""
    old = PeopleView(0, Segments(journal.root))
    for _, _, loc, record in old.lines.scan({}, names):
        old.apply(record, loc)
    before = sum(os.path.getsize(os.path.join(journal.root, n)) for n in names)
    first_kept = int(names[-1][:6]) + 1
    new, facts = PeopleView(generation), FactsView(generation)
    out = Output(built, journal, first_kept)
    contacts = decisions = 0
    try:
        for entry in sorted(old.entries.values(), key=last_saved):
            decided = entry.decided or []
            state = [entry.where] if entry.where is not None else []
            found = old.lines.read([*decided, *state])
            group = [{"event": r["event"]} for r in found[: len(decided)]]
            if state:
                group.append(
                    {"ts": found[-1].get("ts"), "contact": found[-1]["contact"]}
                )
                contacts += 1
            decisions += len(decided)
            for at in range(0, len(group), GROUP_MAX):
                part = group[at : at + GROUP_MAX]
                loc = out.write(compacted(entry.id, part))
                for index, record in enumerate(part):
                    new.apply(record, loc | index)
                    facts.apply(record)
    finally:
        out.close()
    new.offsets, facts.offsets = out.sizes, dict(out.sizes)
    stats = {
        "before": before,
        "after": sum(out.sizes.values()),
        "contacts": contacts,
        "decisions": decisions,
    }
    return new, facts, stats


def last_saved(entry) -> int:
    """Where the contact was last saved: the compacted journal keeps that order,
    so whoever last proved a browser theirs still did so last."""
    return entry.where if entry.where is not None else entry.decided[-1]


class Output:
    """Compacted segments numbered from 1, each fsynced when full or closed."""

    def __init__(self, folder: str, journal: PeopleJournal, limit: int) -> None:
        self.folder, self.journal, self.limit = folder, journal, limit
        self.sizes: dict[str, int] = {}
        self.segment = 0
        self.f = None

    def write(self, line: bytes) -> int:
        """Append a line; return its location (record index 0)."""
        if self.f is None or self.sizes[self.name] >= self.journal.SEGMENT_BYTES:
            self._next()
        start = self.sizes[self.name]
        self.f.write(line)
        self.sizes[self.name] = start + len(line)
        return pack(self.segment, start, len(line))

    @property
    def name(self) -> str:
        return self.journal.name(self.segment)

    def _next(self) -> None:
        self.close()
        self.segment += 1
        if self.segment >= self.limit:  # never reached in practice: it shrinks
            raise StorageError("the compacted journal would not be smaller")
        path = os.path.join(self.folder, self.name)
        self.f = open(path, "wb")  # noqa: SIM115 - closed in close()
        self.sizes[self.name] = 0

    def close(self) -> None:
        if self.f is not None:
            self.f.flush()
            os.fsync(self.f.fileno())
            self.f.close()
            self.f = None


def run_quietly(store) -> None:
    """Compact from a background thread; log instead of raising."""
    try:
        compact(store)
    except Busy:
        pass
    except (OSError, StorageError) as e:
        log.warning("people journal not compacted: %s", e)
