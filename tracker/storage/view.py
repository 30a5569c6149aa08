"""The people view every backend shares: contacts, their indexes and timelines.

Folded from decision records ({"ts", "contact", "event"}) in the order they were
made (the people journal's order, never their timestamps'): the last saved
state of a contact is its state, and its decisions stay in that order. A
transaction sees the view plus its own unsaved changes.

The view holds what look-ups need (email, indexed fields) and where each
record is; the records themselves are read when asked for. A whole contact
held in memory cost about 15 KB of Python objects (1.5 GB at 100k contacts
in every process); this costs well under 1 KB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

import orjson

from ..clock import now_iso
from .base import People, Record

INDEXED = ("ref_code",)


Scan = Callable[[tuple[bytes, ...], set[str] | None], Iterator[Record]]


def linked_events(decisions: list[Record], contact: Record, scan: Scan) -> list[Record]:
    """Return the contact's decisions plus every observation linked to them, by time.

    Linked: made by one of their visitor ids, however long before the signup,
    or carrying their contact id (a click from our email). A click also links
    the rest of that browser's visit that day, which is how a cookieless
    reader's later pages join the journey. scan(needles, months) yields the
    observations that may hold a needle, in those months (None: all of them).
    """
    visitors = set(contact.get("visitors", []))
    seen = {e["id"] for e in decisions}
    found = list(decisions)
    needles = tuple(v.encode() for v in visitors) + (contact["id"].encode(),)
    clicked: set[tuple[str, str]] = set()
    for event in scan(needles, None):
        if event.get("contact") == contact["id"] and event.get("visitor"):
            clicked.add((event["visitor"], event["ts"][:10]))
        if (
            event.get("visitor") in visitors or event.get("contact") == contact["id"]
        ) and (event["id"] not in seen):
            seen.add(event["id"])
            found.append(event)
    if clicked:
        needles = tuple({v.encode() for v, _ in clicked})
        for event in scan(needles, {day[:7] for _, day in clicked}):
            if (event.get("visitor"), event["ts"][:10]) in clicked and event[
                "id"
            ] not in seen:
                seen.add(event["id"])
                found.append(event)
    return sorted(found, key=lambda e: e["ts"])


class Lines(Protocol):
    """Where a view reads its records: the journal's segments, or a list."""

    def read(self, locs: list[int]) -> list[Record]: ...


class RecordList(list):
    """Records kept in memory, in the order saved; a location is a position."""

    def read(self, locs: list[int]) -> list[Record]:
        return [self[loc] for loc in locs]


class Entry:
    """What a view keeps of one contact: where its records are, not the records."""

    __slots__ = ("id", "email", "where", "keys", "decided")

    def __init__(self, contact_id: str) -> None:
        self.id = contact_id
        self.email: str | None = None
        self.where: int | None = None  # its current state
        self.keys: tuple[str, ...] = ()  # its indexed fields
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

    def apply(self, record: Record, loc: int) -> None:
        """Fold one record found at loc: a contact's new state, a decision, or both."""
        contact = record.get("contact")
        if contact:
            entry = self._entry(contact["id"])
            self._unindex(entry)
            entry.where, entry.email = loc, contact["email"]
            entry.keys = keys_of(contact)
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
        """Every contact with its decisions in the order made (one read each)."""
        for entry in list(self.entries.values()):
            if entry.where is None:
                continue
            found = self.lines.read([*(entry.decided or ()), entry.where])
            yield found[-1]["contact"], [r["event"] for r in found[:-1]]

    def contacts(self) -> Iterator[Record]:
        for entry in list(self.entries.values()):
            if entry.where is not None:
                yield self.lines.read([entry.where])[0]["contact"]

    def drop(self, contact_id: str) -> bool:
        """Forget a contact (an erasure without a journal to rewrite)."""
        entry = self.entries.pop(contact_id, None)
        if entry is None:
            return False
        self._unindex(entry)
        return entry.where is not None

    def _index(self, entry: Entry) -> None:
        self.emails[entry.email] = entry.id
        for k in entry.keys:
            self.index[k] = entry.id

    def _unindex(self, entry: Entry) -> None:
        if entry.email is not None and self.emails.get(entry.email) == entry.id:
            del self.emails[entry.email]
        for k in entry.keys:
            if self.index.get(k) == entry.id:
                del self.index[k]

    # -- the snapshot on disk ------------------------------------------------------

    def to_json(self) -> bytes:
        """The look-ups in one document (locations split in two: JSON holds 64 bits)."""
        rows = [
            [e.id, e.email, *split(e.where), list(e.keys), halves(e.decided or ())]
            for e in self.entries.values()
        ]
        return orjson.dumps(
            {"generation": self.generation, "offsets": self.offsets, "entries": rows}
        )

    @classmethod
    def from_json(cls, data: bytes, lines: Lines) -> PeopleView:
        doc = orjson.loads(data)
        view = cls(doc["generation"], lines)
        view.offsets = doc["offsets"]
        entries, emails, index = view.entries, view.emails, view.index
        for contact_id, email, high, low, keys, decided in doc["entries"]:
            entry = entries[contact_id] = Entry(contact_id)
            if email is not None:
                entry.email, emails[email] = email, contact_id
            if high is not None:
                entry.where = high << HALF | low
            if keys:
                entry.keys = tuple(keys)
                for k in keys:
                    index[k] = contact_id
            if decided:
                it = iter(decided)
                entry.decided = [h << HALF | lo for h, lo in zip(it, it, strict=True)]
        return view


HALF = 48


def split(loc: int | None) -> tuple[int | None, int | None]:
    if loc is None:
        return None, None
    return loc >> HALF, loc & ((1 << HALF) - 1)


def halves(locs) -> list[int]:
    return [part for loc in locs for part in split(loc)]


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
