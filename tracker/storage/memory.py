"""An in-process backend for tests: the same behaviour, no files."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..journey.counters import Stats
from .base import People, Record, Storage
from .view import PeopleView, Transaction, linked_events, now_iso


class MemoryStorage(Storage):
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._events: list[Record] = []
        self._view = PeopleView()
        self._meta: dict[str, Any] = {}
        self._ledgers: dict[str, set[str]] = {}
        self._version = 0

    def people_version(self) -> Any:
        return (self._version, len(self._view.contacts))

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
                self._view.apply(record)

    def get_contact(self, contact_id: str) -> Record | None:
        return self._view.contacts.get(contact_id)

    def find_contact(self, email: str) -> Record | None:
        return self._view.contacts.get(self._view.emails.get(email, ""))

    def iter_contacts(self) -> Iterator[Record]:
        yield from list(self._view.contacts.values())

    def iter_people(self) -> Iterator[tuple[Record, list[Record]]]:
        view = self._view
        for contact_id, contact in list(view.contacts.items()):
            yield contact, list(view.timelines.get(contact_id, []))  # as made

    def decisions(self, contact_id: str) -> list[Record]:
        return list(self._view.timelines.get(contact_id, []))

    def timeline(self, contact_id: str) -> list[Record]:
        contact = self._view.contacts.get(contact_id)
        if contact is None:
            return []
        decisions = list(self._view.timelines.get(contact_id, []))
        return linked_events(decisions, contact, lambda *_: self.iter_events())

    def erase_contact(self, contact_id: str) -> bool:
        with self._lock:
            contact = self._view.contacts.pop(contact_id, None)
            if contact is None:
                return False
            self._view._unindex(contact)
            self._view.timelines.pop(contact_id, None)
            return True

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
