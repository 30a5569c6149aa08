"""An in-process backend for tests: the same behaviour, no files."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from ..journey.counters import Stats
from .base import People, Record, Storage
from .facts_view import FactsView
from .timelines import linked_events
from .view import PeopleView, RecordList, Transaction, now_iso


class MemoryStorage(Storage):
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._events: list[Record] = []
        self._saved = RecordList()
        self._view = PeopleView(lines=self._saved)
        self._facts = FactsView()
        self._meta: dict[str, Any] = {}
        self._ledgers: dict[str, set[str]] = {}
        self._version = 0

    def people_version(self) -> Any:
        return (self._version, len(self._view.entries))

    def append_event(self, event: Record) -> None:
        with self._lock:
            self._events.append(copy.deepcopy(event))

    def iter_events(self, since: str | None = None) -> Iterator[Record]:
        with self._lock:
            events = sorted(self._events, key=lambda e: e["ts"][:7])
        yield from (e for e in events if since is None or e["ts"] >= since)

    def events_of_visitors(self, visitors: set[str], since: str) -> list[Record]:
        return [e for e in self.iter_events(since) if e.get("visitor") in visitors]

    def summary(
        self,
        since: str | None = None,
        until: str | None = None,
        filters: dict[str, str] | None = None,
    ) -> dict:
        stats = Stats()
        for event in self.iter_events():
            stats.add(event)
        return stats.summary(since, until, filters)

    @contextmanager
    def transaction(self) -> Iterator[People]:
        with self._lock:
            tx = Transaction(self._view)
            yield tx
            self._version += len(tx.pending)
            for record in copy.deepcopy(tx.pending):
                record["ts"] = record.get("ts") or now_iso()
                self._saved.append(record)
                self._view.apply(record, len(self._saved) - 1)
                self._facts.apply(record)

    def get_contact(self, contact_id: str) -> Record | None:
        return self._view.contact(contact_id)

    def find_contact(self, email: str) -> Record | None:
        return self._view.find(email)

    def iter_contacts(self) -> Iterator[Record]:
        yield from self._view.contacts()

    def people_facts(
        self,
        since: str | None = None,
        until: str | None = None,
        referred: bool = False,
        stages: Collection[str] = (),
        having: str | None = None,
    ) -> Iterator[Record]:
        yield from self._facts.facts(since, until, referred, stages, having)

    def contacts_page(
        self, offset: int, limit: int, search: str = "", stage: str = ""
    ) -> tuple[list[tuple[Record, list[Record]]], int]:
        ids, total = self._facts.ranked(offset, limit, search, stage)
        return self._view.people_of(ids), total

    def iter_people(self) -> Iterator[tuple[Record, list[Record]]]:
        yield from self._view.people()  # decisions as made

    def decisions(self, contact_id: str) -> list[Record]:
        return self._view.decisions(contact_id)

    def visitor_owner(self, visitor: str) -> str | None:
        return self._view.visitor_owner(visitor)

    def timeline(self, contact_id: str) -> list[Record]:
        contact = self._view.contact(contact_id)
        if contact is None:
            return []
        decisions = self._view.decisions(contact_id)
        return linked_events(decisions, contact, lambda *_: self.iter_events())

    def erase_contact(self, contact_id: str) -> bool:
        with self._lock:
            self._facts.drop(contact_id)
            return self._view.drop(contact_id)

    def ledger_add(self, ledger: str, key: str, sync: bool = True) -> None:
        with self._lock:
            self._ledgers.setdefault(ledger, set()).add(key)

    def ledger_keys(self, ledger: str) -> set[str]:
        return set(self._ledgers.get(ledger, set()))

    def get_meta(self, key: str, default: Any = None) -> Any:
        return copy.deepcopy(self._meta.get(key, default))

    def update_meta(self, key: str, change: Callable[[Any], Any]) -> Any:
        with self._lock:
            value = change(copy.deepcopy(self._meta.get(key)))
            if value is None:
                self._meta.pop(key, None)
            else:
                self._meta[key] = copy.deepcopy(value)
            return value
