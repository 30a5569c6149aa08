"""The embedded default backend: append-only journals plus TinyDB documents.

- Observations go to `journal/events/<month>/<writer>.jsonl` (one append each;
  constant cost; flushed to disk at least once a second).
- A person's decisions go to `journal/people/<segment>.jsonl`, one journal
  shared by every process, written only under a file lock and fsynced before
  returning: processes never race on the same contact, and the journal's
  order is the order the decisions were made in, for every process.
- Small mutable documents (daily salts, ledgers) live in `keys.json`, a TinyDB
  database whose storage replaces the file atomically.
Every process folds the people journal into an in-memory view (contacts and
indexes), reading only the bytes appended since its last look; a new process
starts from the view's snapshot (`people.json`) and folds only the rest.
Erasing a person rewrites the people journal without them and bumps a
generation number, so every process rebuilds its view; their id is blanked in
place wherever else it stays. A directory written by an earlier version (one
people file per writer and month) is converted on opening, once, the same way.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from tinydb import Query, TinyDB

from .. import clock
from ..journey.counters import OPEN_DAYS, Stats
from .base import People, Record, Storage, StorageUnavailable
from .files import AtomicJSONStorage, atomic_write, file_lock, writable
from .journal import Journal, blanked
from .people_journal import PeopleJournal, Rewound
from .snapshots import (
    FREEZE_AFTER,
    AggregateSnapshot,
    PeopleSnapshot,
    collector_paused,
    settle,
)
from .view import PeopleView, Transaction, linked_events, now_iso

log = logging.getLogger(__name__)


def ledger_folder(ledger: str) -> str:
    """Return a safe folder name for a ledger (its name is ours, but stay careful)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in ledger)[:100]


def month_of(ts: str) -> str:
    return ts[:7]


def read_number(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().strip() or 0)
    except FileNotFoundError:
        return None


class TinyDBStorage(Storage):
    def __init__(self, data_dir: str, flush_interval: float = 1.0) -> None:
        self.dir = data_dir
        journal_dir = os.path.join(data_dir, "journal")
        self.events = Journal(os.path.join(journal_dir, "events"), flush_interval)
        self.people_journal = PeopleJournal(os.path.join(journal_dir, "people"))
        self.ledgers = Journal(os.path.join(journal_dir, "ledgers"), flush_interval)
        self._generation_path = os.path.join(journal_dir, "people.generation")
        self._erased_path = os.path.join(journal_dir, "people.erased")
        self._people_lock_path = os.path.join(data_dir, "locks", "people.lock")
        self._keys_lock_path = os.path.join(data_dir, "locks", "keys.lock")
        self._keys_path = os.path.join(data_dir, "keys.json")
        self._view: PeopleView | None = None
        self._people_snapshot = PeopleSnapshot(os.path.join(data_dir, "people.json"))
        self._view_lock = threading.RLock()
        self._lock_holder: int | None = None
        self._layout_checked = False
        self._read_only_legacy = False
        self._snapshot = AggregateSnapshot(os.path.join(data_dir, "aggregates.json"))
        self._stats: Stats | None = None
        self._stats_offsets: dict[str, int] = {}
        self._stats_lock = threading.Lock()
        self._unsaved = 0

    # -- observations --------------------------------------------------------

    def append_event(self, event: Record) -> None:
        with writable():
            self.events.append(event, month_of(event["ts"]))

    def iter_events(self, since: str | None = None) -> Iterator[Record]:
        for _, _, event in self.events.read(months=self._months_since(since)):
            if since is None or event["ts"] >= since:
                yield event

    def events_of_visitors(self, visitors: set[str], since: str) -> list[Record]:
        if not visitors:
            return []
        needles = tuple(v.encode() for v in visitors)
        found = self.events.read(months=self._months_since(since), needles=needles)
        return [
            e for _, _, e in found if e.get("visitor") in visitors and e["ts"] >= since
        ]

    def summary(
        self,
        since: str | None = None,
        until: str | None = None,
        filters: dict[str, str] | None = None,
    ) -> dict:
        """Fold the observations appended since the last call, then summarise."""
        with self._stats_lock:
            self._fold_events()
            return self._stats.summary(since, until, filters)

    def _fold_events(self) -> None:
        """Bring the aggregates up to date: the snapshot first, then the journal's tail.

        The snapshot (`aggregates.json`, a TinyDB database with one table per
        month and the journal offsets it covers, replaced atomically) spares a
        fresh process from reading every event ever stored.
        """
        folded, loaded = 0, self._stats is None
        with collector_paused():
            if loaded:
                self._stats, self._stats_offsets = self._snapshot.load()
            for name, offset, event in self.events.read(self._stats_offsets):
                self._stats.add(event)
                self._stats_offsets[name] = offset
                folded += 1
        settle(loaded or folded >= FREEZE_AFTER)
        yesterday = (clock.now() - timedelta(days=OPEN_DAYS - 1)).date()
        self._stats.close_before(yesterday.isoformat())
        self._unsaved += folded
        if self._unsaved and self._snapshot.due(self._unsaved):
            with writable():
                self._snapshot.save(self._stats, self._stats_offsets)
            self._unsaved = 0

    def _months_since(self, since: str | None) -> set[str] | None:
        if since is None or not os.path.isdir(self.events.root):
            return None
        return {m for m in os.listdir(self.events.root) if m >= month_of(since)}

    # -- people --------------------------------------------------------------

    def erasures(self) -> int:
        """How many erasures this directory has seen.

        Its people generation, until the generation first moved for another
        reason (the conversion of an old layout): from then on, counted apart.
        """
        found = read_number(self._erased_path)
        return self._read_generation() if found is None else found

    def _read_generation(self) -> int:
        return read_number(self._generation_path) or 0

    def _refresh(self) -> PeopleView:
        """Fold what other processes appended since this one last looked.

        A new process starts from the snapshot when it is of the current
        generation; every EVERY_LINES folded lines, the snapshot is renewed.
        """
        self._check_layout()
        with self._view_lock, collector_paused():
            generation = self._read_generation()
            view = self._view
            loaded = view is None or generation != view.generation
            if loaded:
                self.people_journal.reopen()
                snapshot = None if self._read_only_legacy else self._people_snapshot
                self._view = (snapshot and snapshot.load(generation)) or PeopleView(
                    generation
                )
            try:
                folded = self._fold_people(self._view)
            except Rewound as e:
                log.warning("people journal %s was cut short: folding it anew", e)
                self._view, loaded = PeopleView(generation), True
                folded = self._fold_people(self._view)
            view = self._view
        settle(loaded or folded >= FREEZE_AFTER)
        due = self._people_snapshot.unsaved >= PeopleSnapshot.EVERY_LINES
        if due and self._lock_holder != threading.get_ident():
            self._save_people()
        return view

    def _fold_people(self, view: PeopleView) -> int:
        folded = 0
        if self._read_only_legacy and not view.offsets:
            records = self.people_journal.read_legacy()
        else:
            records = self.people_journal.read(view.offsets)
        for name, offset, record in records:
            view.apply(record)
            view.offsets[name] = offset
            folded += 1
            self._people_snapshot.unsaved += 1
        return folded

    def _check_layout(self) -> None:
        """Once per process: convert a people journal of the old layout first.

        A directory that cannot be written (a read-only copy) is read as it
        is, its files merged by time, without converting it.
        """
        if self._layout_checked:
            return
        try:
            if self.people_journal.needs_upgrade():
                if self._lock_holder == threading.get_ident():
                    self._upgrade()
                else:
                    with self._locked():
                        self._upgrade()
        except StorageUnavailable as e:
            log.warning(
                "%s: reading the old people journal unconverted: %s", self.dir, e
            )
            self._read_only_legacy = True
        self._layout_checked = True

    def _upgrade(self) -> None:
        """Finish or make the conversion of an old layout (under the people lock).

        Checked before every write too: a crash of another process's
        conversion, or a server of an earlier version still writing its own
        files, is taken care of before anyone appends.
        """
        if not self.people_journal.needs_upgrade():
            return
        with writable():
            if self.people_journal.upgrade():
                self._people_snapshot.delete()
                self._bump_generation(erased=0)

    def _bump_generation(self, erased: int) -> None:
        """Make every process fold the people journal anew (erased: one more
        erasure to count, or none)."""
        count = self.erasures() + erased
        if erased or read_number(self._erased_path) is None:
            atomic_write(self._erased_path, str(count).encode())
        atomic_write(self._generation_path, str(self._read_generation() + 1).encode())

    def _save_people(self) -> None:
        """Renew the snapshot (locks taken in a transaction's order: file, view)."""
        try:
            with self._locked():
                self._people_snapshot.save(self._view, self._read_generation)
        except (OSError, StorageUnavailable) as e:
            log.warning("people snapshot not saved: %s", e)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with file_lock(self._people_lock_path), self._view_lock:
            self._lock_holder = threading.get_ident()  # a flock is not reentrant
            try:
                yield
            finally:
                self._lock_holder = None

    @contextmanager
    def transaction(self) -> Iterator[People]:
        with self._locked():
            self._upgrade()
            tx = Transaction(self._refresh())
            yield tx
            if tx.pending:
                with writable():
                    try:
                        self.people_journal.append(tx.pending)
                    except OSError as e:
                        if getattr(e, "seen", False):  # read, then cut off
                            self._bump_generation(erased=0)
                        raise
                self._refresh()

    def people_version(self) -> Any:
        view = self._refresh()
        return (view.generation, sum(view.offsets.values()))

    def get_contact(self, contact_id: str) -> Record | None:
        return self._refresh().contacts.get(contact_id)

    def find_contact(self, email: str) -> Record | None:
        view = self._refresh()
        return view.contacts.get(view.emails.get(email, ""))

    def iter_contacts(self) -> Iterator[Record]:
        yield from list(self._refresh().contacts.values())

    def iter_people(self) -> Iterator[tuple[Record, list[Record]]]:
        view = self._refresh()
        for contact_id, contact in list(view.contacts.items()):
            yield contact, view.timelines.get(contact_id, [])  # in the journal's order

    def decisions(self, contact_id: str) -> list[Record]:
        return list(self._refresh().timelines.get(contact_id, []))

    def timeline(self, contact_id: str) -> list[Record]:
        view = self._refresh()
        contact = view.contacts.get(contact_id)
        if contact is None:
            return []
        events = list(view.timelines.get(contact_id, []))
        return linked_events(events, contact, self._scan)

    def _scan(
        self, needles: tuple[bytes, ...], months: set[str] | None
    ) -> Iterator[Record]:
        """Every month, however long before the signup: the needle scan reads
        only the lines holding an id, at little more than the cost of the bytes."""
        for _, _, event in self.events.read(months=months, needles=needles):
            yield event

    def erase_contact(self, contact_id: str) -> bool:
        """Rewrite the people journal without the contact, then bump the generation.

        Their id is overwritten wherever else it stays: other people's records
        (who they referred), email clicks and guide fetches, send ledgers.
        """
        needle = contact_id.encode()
        with self._locked():
            self._upgrade()
            if contact_id not in self._refresh().contacts:
                return False
            with writable():
                # The blanking first: should it fail half way, the person is
                # still there to erase again (it can be repeated at no cost).
                self.events.blank(needle)
                self.ledgers.blank(needle)
                self._people_snapshot.delete()
                for name in self.people_journal.files():
                    self._rewrite_without(
                        os.path.join(self.people_journal.root, name), needle, contact_id
                    )
                self._bump_generation(erased=1)
            self._refresh()
            return True

    @staticmethod
    def _rewrite_without(path: str, needle: bytes, contact_id: str) -> None:
        with open(path, "rb") as f:
            data = f.read()
        if needle not in data:
            return
        kept = []
        for line in data.splitlines(keepends=True):
            if needle in line and line.endswith(b"\n"):
                record = json.loads(line)
                if (record.get("contact") or {}).get("id") == contact_id:
                    continue
                if (record.get("event") or {}).get("contact") == contact_id:
                    continue
            kept.append(line.replace(needle, blanked(needle)))
        atomic_write(path, b"".join(kept))

    # -- ledgers -------------------------------------------------------------

    def ledger_add(self, ledger: str, key: str, sync: bool = True) -> None:
        with writable():
            self.ledgers.append(
                {"k": key, "ts": now_iso()}, ledger_folder(ledger), sync=sync
            )

    def ledger_keys(self, ledger: str) -> set[str]:
        found = self.ledgers.read(months={ledger_folder(ledger)})
        return {record["k"] for _, _, record in found}

    # -- small documents -----------------------------------------------------

    def _open_keys(self) -> TinyDB:
        """Open keys.json afresh: TinyDB caches its next document id per instance,
        which another process's insert would make stale."""
        return TinyDB(self._keys_path, storage=AtomicJSONStorage)

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self._open_keys() as db:
            doc = db.get(Query().key == key)
        return default if doc is None else doc["value"]

    def update_meta(self, key: str, change: Callable[[Any], Any]) -> Any:
        with file_lock(self._keys_lock_path), writable(), self._open_keys() as db:
            doc = db.get(Query().key == key)
            value = change(None if doc is None else doc["value"])
            if value is None:
                db.remove(Query().key == key)
            else:
                db.upsert({"key": key, "value": value}, Query().key == key)
            return value

    def close(self) -> None:
        with self._stats_lock:
            if self._stats is not None and self._unsaved:
                try:
                    self._snapshot.save(self._stats, self._stats_offsets)
                except OSError:
                    pass  # the journal still has every event; the next fold catches up
        self.events.close()
        self.people_journal.close()
        self.ledgers.close()
