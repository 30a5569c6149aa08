"""The people view every backend shares: contacts, their indexes and timelines.

Folded from decision records ({"ts", "contact", "event"}) in the order they were
made (the people journal's order, never their timestamps'): the last saved
state of a contact is its state, and its decisions stay in that order. A
transaction sees the view plus its own unsaved changes.

The view holds what look-ups need (email, indexed fields) and where each
record is; the records themselves are read when asked for. A whole contact
held in memory cost about 15 KB of Python objects (1.5 GB at 100k contacts
in every process); this costs about 1 KB. The people's facts, which only the
dashboard reads, are a view of their own (facts_view.py).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from ..clock import now_iso
from .base import People, Record

INDEXED = ("ref_code",)
KEEP_SCAN = 30.0  # seconds a whole pass over the contacts is kept


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the garbage collector while many long-lived records are made.

    They are never garbage, yet the collector walked them over and over as
    they grew: loading the people snapshot of 100k whole contacts took 2.3 s
    with it running, 0.65 s paused; reading 100k contacts from the journal
    into a list, 7.1 s against 2.1. Refcounting still frees what is dropped.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Lines(Protocol):
    """Where a view reads its records: the journal's segments, or a list."""

    def read(self, locs: list[int]) -> list[Record]: ...


class RecordList(list):
    """Records kept in memory, in the order saved; a location is a position."""

    def read(self, locs: list[int]) -> list[Record]:
        return [self[loc] for loc in locs]


class Entry:
    """What a view keeps of one contact: where its records are, not the records."""

    __slots__ = (
        "id",
        "email",
        "where",
        "keys",
        "visitors",
        "decided",
    )

    def __init__(self, contact_id: str) -> None:
        self.id = contact_id
        self.email: str | None = None
        self.where: int | None = None  # its current state
        self.keys: tuple[str, ...] = ()  # its indexed fields
        self.visitors: tuple[str, ...] = ()  # the browsers it proved its own
        self.decided: list[int] | None = None  # its decisions, in the order made


def key(field: str, value: str) -> str:
    return f"{field}\x1f{value}"


def keys_of(contact: Record) -> tuple[str, ...]:
    found = [key(f, contact[f]) for f in INDEXED if contact.get(f)]
    found += [key("order", o) for o in contact.get("orders") or ()]
    return tuple(found)


class PeopleView:
    """The contacts' look-ups, folded from the people journal: per contact its
    email, indexed fields and the locations of its records (read on demand),
    a few hundred bytes however large the contact is."""

    def __init__(self, generation: int = 0, lines: Lines | None = None) -> None:
        self.generation = generation
        self.lines = lines
        self.offsets: dict[str, int] = {}
        self.entries: dict[str, Entry] = {}
        self.emails: dict[str, str] = {}
        self.index: dict[str, str] = {}
        self.visitors: dict[str, str] = {}
        self.changes = 0  # records folded or contacts dropped: a pass kept is stale
        self._scanned: tuple[int, float, list] | None = None

    def apply(self, record: Record, loc: int) -> None:
        """Fold one record found at loc: a contact's new state, a decision, or both."""
        self.changes += 1
        contact = record.get("contact")
        if contact:
            entry = self._entry(contact["id"])
            self._unindex(entry)
            entry.where, entry.email = loc, contact["email"]
            entry.keys = keys_of(contact)
            entry.visitors = tuple(contact.get("visitors") or ())
            self._index(entry)
        event = record.get("event")
        if event:
            entry = self._entry(event["contact"])
            if entry.decided is None:
                entry.decided = [loc]
            else:
                entry.decided.append(loc)

    def _entry(self, contact_id: str) -> Entry:
        entry = self.entries.get(contact_id)
        if entry is None:
            entry = self.entries[contact_id] = Entry(contact_id)
        return entry

    def __len__(self) -> int:
        return sum(1 for e in self.entries.values() if e.where is not None)

    def contact(self, contact_id: str) -> Record | None:
        entry = self.entries.get(contact_id)
        if entry is None or entry.where is None:
            return None
        return self.lines.read([entry.where])[0]["contact"]

    def find(self, email: str) -> Record | None:
        return self.contact(self.emails.get(email, ""))

    def find_by(self, field: str, value: str) -> Record | None:
        return self.contact(self.index.get(key(field, value), ""))

    def decisions(self, contact_id: str) -> list[Record]:
        entry = self.entries.get(contact_id)
        if entry is None or not entry.decided:
            return []
        return [r["event"] for r in self.lines.read(entry.decided)]

    def people(self) -> Iterator[tuple[Record, list[Record]]]:
        """Every contact with its decisions in the order made (one read each).

        A whole pass is kept for KEEP_SCAN seconds, while nothing changes: the
        dashboard's overview goes over everyone three times (its numbers, the
        requests, the sends), and reading 100k contacts costs seconds.
        """
        kept = self._scanned
        if kept is not None and kept[0] == self.changes and time.monotonic() < kept[1]:
            yield from kept[2]
            return
        changes, found = self.changes, []
        with collector_paused():
            for entry in list(self.entries.values()):
                if entry.where is None:
                    continue
                got = self.lines.read([*(entry.decided or ()), entry.where])
                found.append((got[-1]["contact"], [r["event"] for r in got[:-1]]))
                yield found[-1]
        self._scanned = (changes, time.monotonic() + KEEP_SCAN, found)
        gc.freeze()  # kept: out of the collector's walks (refcounts still free them)

    def contacts(self) -> Iterator[Record]:
        kept = self._scanned
        if kept is not None and kept[0] == self.changes and time.monotonic() < kept[1]:
            yield from (contact for contact, _ in kept[2])
            return
        with collector_paused():
            for entry in list(self.entries.values()):
                if entry.where is not None:
                    yield self.lines.read([entry.where])[0]["contact"]

    def people_of(self, ids: list[str]) -> list[tuple[Record, list[Record]]]:
        """These contacts (those still here) with their decisions in the order made."""
        found = []
        for contact_id in ids:
            entry = self.entries.get(contact_id)
            if entry is None or entry.where is None:
                continue  # erased, or not folded here yet
            got = self.lines.read([*(entry.decided or ()), entry.where])
            found.append((got[-1]["contact"], [r["event"] for r in got[:-1]]))
        return found

    def visitor_owner(self, visitor: str) -> str | None:
        """The contact who last proved this browser (visitor id) theirs."""
        return self.visitors.get(visitor)

    def drop(self, contact_id: str) -> bool:
        """Forget a contact (an erasure without a journal to rewrite)."""
        entry = self.entries.pop(contact_id, None)
        if entry is None:
            return False
        self.changes += 1
        self._unindex(entry)
        return entry.where is not None

    def _index(self, entry: Entry) -> None:
        self.emails[entry.email] = entry.id
        for k in entry.keys:
            self.index[k] = entry.id
        for v in entry.visitors:
            self.visitors[v] = entry.id  # the last to prove it uses it now

    def _unindex(self, entry: Entry) -> None:
        if entry.email is not None and self.emails.get(entry.email) == entry.id:
            del self.emails[entry.email]
        for k in entry.keys:
            if self.index.get(k) == entry.id:
                del self.index[k]
        for v in entry.visitors:
            if self.visitors.get(v) == entry.id:
                del self.visitors[v]


class Transaction(People):
    def __init__(self, view: PeopleView) -> None:
        self.view = view
        self.pending: list[Record] = []
        self.changed: dict[str, Record] = {}

    def get(self, contact_id: str) -> Record | None:
        return self.changed.get(contact_id) or self.view.contact(contact_id)

    def find(self, email: str) -> Record | None:
        for contact in self.changed.values():
            if contact["email"] == email:
                return contact
        return self.get(self.view.emails.get(email, ""))

    def find_by(self, field: str, value: str) -> Record | None:
        for contact in self.changed.values():
            if contact.get(field) == value or value in contact.get("orders", ()):
                return contact
        return self.get(self.view.index.get(key(field, value), ""))

    def save(self, contact: Record, event: Record | None = None) -> None:
        self.changed[contact["id"]] = contact
        self.pending.append({"ts": now_iso(), "contact": contact, "event": event})
