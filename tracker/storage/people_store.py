"""The embedded backend's people: the journal, its lock, and this process's views.

A process folds the people journal into a small view (view.py: where each
contact's records are, not the records), reading only the bytes appended
since its last look; a new process starts from the view's snapshot
(`people.json`) and folds only the rest. The view is loaded on the first
request that needs a person, never by beacons and pixels. The people's facts
(facts_view.py, `facts.json`) are folded the same way, apart, by a process
that shows the dashboard.

Rewriting the journal (an erasure, the conversion of an old layout, a
compaction) happens under the people lock between a marker file and a new
generation number: a process that folded while a rewrite was under way folds
again, and a rewrite cut short by a crash is finished by the next process
that sees the marker.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from . import facts_view
from .base import People, StorageUnavailable
from .facts_view import FactsView
from .files import atomic_write, file_lock, fsync_dir, writable
from .people_journal import PeopleJournal, Rewound, Segments
from .people_legacy import needs_upgrade, read_legacy, upgrade
from .people_lines import without
from .snapshots import FREEZE_AFTER, PeopleSnapshot, settle
from .view import PeopleView, RecordList, Transaction, collector_paused

log = logging.getLogger(__name__)


def read_number(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except FileNotFoundError:
        return None


class Held:
    """A view this process folds from the people journal, and its snapshot."""

    def __init__(self, make, snapshot: PeopleSnapshot) -> None:
        self.make = make  # make(generation, lines): an empty view
        self.snapshot = snapshot
        self.view = None


class PeopleStore:
    """The people journal of one data directory, as one process sees it."""

    RETRY_COMPACT = 60.0  # seconds between automatic attempts of one process

    def __init__(self, data_dir: str, compact_after: int = 0) -> None:
        journal_dir = os.path.join(data_dir, "journal")
        self.journal = PeopleJournal(os.path.join(journal_dir, "people"))
        self.journal_dir = journal_dir
        self._generation_path = os.path.join(journal_dir, "people.generation")
        self._erased_path = os.path.join(journal_dir, "people.erased")
        self.marker = os.path.join(journal_dir, "people.rewriting")
        self._lock_path = os.path.join(data_dir, "locks", "people.lock")
        self.compact_lock = os.path.join(data_dir, "locks", "compact.lock")
        self.held = Held(
            PeopleView, PeopleSnapshot(os.path.join(data_dir, "people.json"))
        )
        self.held_facts = Held(
            FactsView,
            PeopleSnapshot(os.path.join(data_dir, "facts.json"), facts_view),
        )
        self.view_lock = threading.RLock()
        self._lock_holder: int | None = None
        self._layout_checked = False
        self.read_only_legacy = False
        self.compact_after = compact_after
        self._compact_tried = -self.RETRY_COMPACT

    @property
    def view(self) -> PeopleView | None:
        return self.held.view

    @view.setter
    def view(self, view: PeopleView) -> None:
        self.held.view = view

    @property
    def snapshot(self) -> PeopleSnapshot:
        return self.held.snapshot

    @property
    def facts_snapshot(self) -> PeopleSnapshot:
        return self.held_facts.snapshot

    def delete_snapshots(self) -> None:
        """They hold personal data like the journal: gone with a person."""
        self.snapshot.delete()
        self.facts_snapshot.delete()

    # -- generations -----------------------------------------------------------

    def generation(self) -> int:
        return read_number(self._generation_path) or 0

    def erasures(self) -> int:
        """How many erasures this directory has seen.

        Its people generation, until the generation first moved for another
        reason (a conversion, a compaction): from then on, counted apart.
        """
        found = read_number(self._erased_path)
        return self.generation() if found is None else found

    def bump_generation(self, erased: int) -> None:
        """Make every process fold the people journal anew (erased: one more
        erasure to count, or none)."""
        count = self.erasures() + erased
        if erased or read_number(self._erased_path) is None:
            atomic_write(self._erased_path, str(count).encode())
        atomic_write(self._generation_path, str(self.generation() + 1).encode())

    def rewriting(self) -> bool:
        return os.path.exists(self.marker)

    @contextmanager
    def rewrite(self, kind: str) -> Iterator[None]:
        """Mark a rewrite of the journal (under the people lock); after it, or
        after it failed half way, every process folds anew."""
        atomic_write(self.marker, kind.encode())
        try:
            yield
        finally:
            self.bump_generation(erased=int(kind == "erase"))
            os.unlink(self.marker)
            fsync_dir(self.journal_dir)

    # -- the lock --------------------------------------------------------------

    def holds_lock(self) -> bool:
        return self._lock_holder == threading.get_ident()

    @contextmanager
    def locked(self) -> Iterator[None]:
        with file_lock(self._lock_path), self.view_lock:
            self._lock_holder = threading.get_ident()  # a flock is not reentrant
            try:
                yield
            finally:
                self._lock_holder = None

    # -- the view --------------------------------------------------------------

    def refresh(self) -> PeopleView:
        """The people view, up to date (see _refreshed)."""
        return self._refreshed(self.held)

    def refresh_facts(self) -> FactsView:
        """The people's facts, up to date (see _refreshed)."""
        return self._refreshed(self.held_facts)

    def _refreshed(self, held: Held):
        """Fold what other processes appended since this one last looked.

        A new process starts from the snapshot when it is of the current
        generation; every EVERY_LINES folded lines, the snapshot is renewed.
        A fold that a rewrite overlapped is done again.
        """
        self.check_layout()
        while True:
            generation = self.generation()
            if self.rewriting():
                self._finish_rewrite()
                continue
            with self.view_lock, collector_paused():
                view = held.view
                loaded = view is None or generation != view.generation
                if loaded:
                    self.journal.reopen()
                    view = self._load(held, generation)
                try:
                    folded = self._fold(held, view)
                except Rewound as e:
                    log.warning("people journal %s was cut short: folding it anew", e)
                    view, loaded = self._new(held, generation), True
                    folded = self._fold(held, view)
                held.view = view
                if not self.rewriting() and self.generation() == generation:
                    break
        settle(loaded or folded >= FREEZE_AFTER)
        due = held.snapshot.unsaved >= PeopleSnapshot.EVERY_LINES
        if due and not self.holds_lock() and not self.read_only_legacy:
            self._save(held)
        return view

    def _new(self, held: Held, generation: int):
        lines = RecordList() if self.read_only_legacy else Segments(self.journal.root)
        return held.make(generation, lines)

    def _load(self, held: Held, generation: int):
        if not self.read_only_legacy:
            found = held.snapshot.load(generation, Segments(self.journal.root))
            if found is not None:
                return found
        return self._new(held, generation)

    def _fold(self, held: Held, view) -> int:
        folded = 0
        if self.read_only_legacy:
            if not view.offsets:
                for record in read_legacy(self.journal.root):
                    view.lines.append(record)
                    view.apply(record, len(view.lines) - 1)
                    folded += 1
                view.offsets["legacy"] = 1
            return folded
        for name, end, loc, record in view.lines.scan(view.offsets):
            view.apply(record, loc)
            view.offsets[name] = end
            folded += 1
        held.snapshot.unsaved += folded
        return folded

    def _finish_rewrite(self) -> None:
        """Wait for a rewrite under way, or finish one a crash cut short."""
        if self.holds_lock():
            self.upgrade()
            return
        with self.locked():
            self.upgrade()

    def save_snapshot(self) -> None:
        """Renew the snapshots of the views held."""
        for held in (self.held, self.held_facts):
            self._save(held)

    def _save(self, held: Held) -> None:
        """Renew a snapshot (locks taken in a transaction's order: file, view)."""
        try:
            with self.locked():
                if held.view is not None and not self.rewriting():
                    held.snapshot.save(held.view, self.generation)
        except (OSError, StorageUnavailable) as e:
            log.warning("people snapshot not saved: %s", e)

    # -- the layout --------------------------------------------------------------

    def check_layout(self) -> None:
        """Once per process: convert a people journal of the old layout first.

        A directory that cannot be written (a read-only copy) is read as it
        is, its files merged by time, without converting it.
        """
        if self._layout_checked:
            return
        try:
            if needs_upgrade(self.journal) or self.rewriting():
                if self.holds_lock():
                    self.upgrade()
                else:
                    with self.locked():
                        self.upgrade()
        except StorageUnavailable as e:
            log.warning("%s: reading the old people journal unconverted: %s", self, e)
            self.read_only_legacy = True
        self._layout_checked = True

    def upgrade(self) -> None:
        """Finish what a crash cut short, convert an old layout (under the lock).

        Checked before every write too: a crash of another process's
        rewrite, or a server of an earlier version still writing its own
        files, is taken care of before anyone appends.
        """
        rewriting = self.rewriting()
        if not rewriting and not needs_upgrade(self.journal):
            return
        with writable():
            changed = upgrade(self.journal)
            if rewriting:
                with open(self.marker) as f:
                    kind = f.read()
                log.warning("people journal: finishing an interrupted %s", kind)
                if kind != "compact":  # its snapshots are written after the swap
                    self.delete_snapshots()
                self.bump_generation(erased=int(kind == "erase"))
                os.unlink(self.marker)
                fsync_dir(self.journal_dir)
            elif changed:
                self.delete_snapshots()
                self.bump_generation(erased=0)

    # -- writing -----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[People]:
        with self.locked():
            self.upgrade()
            tx = Transaction(self.refresh())
            yield tx
            if tx.pending:
                with writable():
                    try:
                        self.journal.append(tx.pending)
                    except OSError as e:
                        if getattr(e, "seen", False):  # read, then cut off
                            self.bump_generation(erased=0)
                        raise
                self.refresh()
        if tx.pending:
            self._maybe_compact()

    def erase(self, contact_id: str, blank) -> bool:
        """Rewrite the people journal without the contact, then fold anew.

        blank(needle) overwrites their id in the other journals first: should
        it fail half way, the person is still there to erase again.
        """
        from .compaction import discard_leftover

        needle = contact_id.encode()
        with self.locked():
            self.upgrade()
            if self.refresh().contact(contact_id) is None:
                return False
            with writable(), self.rewrite("erase"):
                blank(needle)
                self.delete_snapshots()
                discard_leftover(self)
                for name in self.journal.files():
                    path = os.path.join(self.journal.root, name)
                    rewrite_without(path, needle, contact_id)
            self.refresh()
            return True

    def _maybe_compact(self) -> None:
        """Compact in a thread once the journal grew by compact_after bytes."""
        if not self.compact_after or self.view is None:
            return
        if time.monotonic() - self._compact_tried < self.RETRY_COMPACT:
            return
        from . import compaction

        if compaction.growth(self) < self.compact_after:
            return
        self._compact_tried = time.monotonic()
        threading.Thread(
            target=compaction.run_quietly,
            args=(self,),
            name="polku-compact",
            daemon=True,  # a process may end mid-way: the next one cleans up
        ).start()

    def close(self) -> None:
        self.journal.close()


def rewrite_without(path: str, needle: bytes, contact_id: str) -> None:
    """Replace a segment with one that holds nothing of the contact."""
    with open(path, "rb") as f:
        data = f.read()
    if needle not in data and b'"zlib"' not in data:
        return
    kept = []
    for line in data.splitlines(keepends=True):
        found = without(line, needle, contact_id)
        if found is not None:
            kept.append(found)
    rewritten = b"".join(kept)
    if rewritten != data:
        atomic_write(path, rewritten)
