"""The embedded default backend: append-only journals plus TinyDB documents.

- Observations go to `journal/events/<month>/<writer>.jsonl` (one append each;
  constant cost; flushed to disk at least once a second).
- A person's decisions go to `journal/people/<segment>.jsonl`, one journal
  shared by every process, written only under a file lock and fsynced before
  returning: processes never race on the same contact, and the journal's
  order is the order the decisions were made in, for every process.
- Small mutable documents (daily salts, ledgers) live in `keys.json`, a TinyDB
  database whose storage replaces the file atomically.
The people half (the view each process folds, the snapshot, erasure and
compaction of the journal) is people_store.py's. Erasing a person rewrites the
people journal without them; their id is blanked in place wherever else it
stays.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager
from typing import Any

from tinydb import Query, TinyDB

from .aggregates import MonthlyAggregates
from .base import People, Record, Storage
from .files import AtomicJSONStorage, file_lock, writable
from .journal import Journal
from .people_index import PeopleIndex, StaleIndex
from .people_store import PeopleStore
from .timelines import linked_events
from .view import PeopleView, now_iso

log = logging.getLogger(__name__)


NOT_INDEXED = object()  # the people index cannot answer: the view does


def ledger_folder(ledger: str) -> str:
    """Return a safe folder name for a ledger (its name is ours, but stay careful)."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in ledger)[:100]


def month_of(ts: str) -> str:
    return ts[:7]


class TinyDBStorage(Storage):
    def __init__(
        self, data_dir: str, flush_interval: float = 1.0, compact_after: int = 0
    ) -> None:
        self.dir = data_dir
        journal_dir = os.path.join(data_dir, "journal")
        self.events = Journal(os.path.join(journal_dir, "events"), flush_interval)
        self.people = PeopleStore(data_dir, compact_after)
        self.index = PeopleIndex(
            os.path.join(data_dir, "people-index.sqlite"), self.people
        )
        self.ledgers = Journal(os.path.join(journal_dir, "ledgers"), flush_interval)
        self._keys_lock_path = os.path.join(data_dir, "locks", "keys.lock")
        self._keys_path = os.path.join(data_dir, "keys.json")
        self.aggregates = MonthlyAggregates(data_dir, self.events)

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

    def events_of(
        self, since: str | None, types: Collection[str], names: Collection[str] = ()
    ) -> Iterator[Record]:
        """Only the lines holding a wanted type or name as a JSON string are
        parsed (one written plainly: ASCII, nothing to escape)."""
        wanted = [*types, *names]
        escaped = ('"', "\\")
        if not all(w.isascii() and w.isprintable() for w in wanted) or any(
            c in w for w in wanted for c in escaped
        ):
            yield from super().events_of(since, types, names)
            return
        if not wanted:
            return
        needles = tuple(f'"{w}"'.encode() for w in wanted)
        found = self.events.read(months=self._months_since(since), needles=needles)
        for _, _, event in found:
            kind = event.get("type")
            if since is not None and event["ts"] < since:
                continue
            if kind in types or (kind == "event" and event.get("name") in names):
                yield event

    def summary(
        self,
        since: str | None = None,
        until: str | None = None,
        filters: dict[str, str] | None = None,
    ) -> dict:
        """The months asked for, folded up to the newest event (aggregates.py)."""
        return self.aggregates.summary(since, until, filters)

    def _months_since(self, since: str | None) -> set[str] | None:
        if since is None or not os.path.isdir(self.events.root):
            return None
        return {m for m in os.listdir(self.events.root) if m >= month_of(since)}

    # -- people (people_store) ----------------------------------------------

    def erasures(self) -> int:
        """How many erasures this directory has seen (see PeopleStore.erasures)."""
        return self.people.erasures()

    def _refresh(self) -> PeopleView:
        return self.people.refresh()

    def compact_people(self):
        """Compact the people journal (see compaction.compact)."""
        from . import compaction

        return compaction.compact(self.people)

    def transaction(self) -> AbstractContextManager[People]:
        return self.people.transaction()

    def people_version(self) -> Any:
        """From the facts: only the dashboard asks, and it holds them, not the view."""
        facts = self.people.refresh_facts()
        return (facts.generation, sum(facts.offsets.values()))

    def get_contact(self, contact_id: str) -> Record | None:
        found = self._indexed(contact_id)
        if found is not NOT_INDEXED:
            return found and found[0]
        return self._refresh().contact(contact_id)

    def find_contact(self, email: str) -> Record | None:
        return self._refresh().find(email)

    def iter_contacts(self) -> Iterator[Record]:
        yield from self._refresh().contacts()

    def people_facts(
        self,
        since: str | None = None,
        until: str | None = None,
        referred: bool = False,
        stages: Collection[str] = (),
        having: str | None = None,
    ) -> Iterator[Record]:
        yield from self.people.refresh_facts().facts(
            since, until, referred, stages, having
        )

    def iter_people(self) -> Iterator[tuple[Record, list[Record]]]:
        yield from self._refresh().people()  # decisions in the journal's order

    def contacts_page(
        self, offset: int, limit: int, search: str = "", stage: str = ""
    ) -> tuple[list[tuple[Record, list[Record]]], int]:
        """From the facts' order: only the page's people are read."""
        ids, total = self.people.refresh_facts().ranked(offset, limit, search, stage)
        return self._refresh().people_of(ids), total

    def decisions(self, contact_id: str) -> list[Record]:
        found = self._indexed(contact_id)
        if found is not NOT_INDEXED:
            return found[1] if found else []
        return self._refresh().decisions(contact_id)

    def _indexed(self, contact_id: str):
        """A contact and their decisions from people-index.sqlite, for a process
        that holds no people view (one that serves the site): None if there
        is no such contact, NOT_INDEXED where the view must answer."""
        if self.people.view is not None or not self._index_usable():
            return NOT_INDEXED
        try:
            return self.index.person(contact_id)
        except (sqlite3.Error, OSError, StaleIndex) as e:
            log.warning("people index unavailable (%s): using the people view", e)
            return NOT_INDEXED

    def _index_usable(self) -> bool:
        self.people.check_layout()
        return not self.people.read_only_legacy

    def visitor_owner(self, visitor: str) -> str | None:
        """The contact who proved this browser (visitor id) theirs, from
        people-index.sqlite: the workers that serve the site load no people
        view. Where it cannot be kept (a read-only copy), from the view."""
        if self._index_usable():
            try:
                return self.index.owner(visitor)
            except (sqlite3.Error, OSError) as e:
                log.warning("people index unavailable (%s): using the people view", e)
        return self._refresh().visitor_owner(visitor)

    def timeline(self, contact_id: str) -> list[Record]:
        view = self._refresh()
        contact = view.contact(contact_id)
        if contact is None:
            return []
        return linked_events(view.decisions(contact_id), contact, self._scan)

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

        def blank(needle: bytes) -> None:
            self.events.blank(needle)
            self.ledgers.blank(needle)

        erased = self.people.erase(contact_id, blank)
        try:
            self.index.forget(contact_id)
        except (sqlite3.Error, OSError) as e:  # its next fold starts anew anyway
            log.warning("people index: %s", e)
        return erased

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
        self.aggregates.close()
        self.index.close()
        self.events.close()
        self.people.close()
        self.ledgers.close()
