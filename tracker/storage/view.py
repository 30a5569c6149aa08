"""The people view every backend shares: contacts, their indexes and timelines.

Folded from decision records ({"ts", "contact", "event"}) in the order they were
made (the people journal's order, never their timestamps'): the last saved
state of a contact is its state, and its decisions stay in that order. A
transaction sees the view plus its own unsaved changes.

The view holds what look-ups need (email, indexed fields) and where each
record is; the records themselves are read when asked for, plus each
contact's facts (`journey.facts`) as text for the dashboard. A whole contact
held in memory cost about 15 KB of Python objects (1.5 GB at 100k contacts
in every process); this costs about 1.6 KB (1 KB without the facts).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Protocol

import orjson

from ..clock import now_iso
from ..journey import facts as people_facts
from .base import People, Record, matches

INDEXED = ("ref_code",)
SHARED = ("id", "email", "seen")  # facts the entry itself keeps
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
        "seen",
        "facts",
        "span",
    )

    def __init__(self, contact_id: str) -> None:
        self.id = contact_id
        self.email: str | None = None
        self.where: int | None = None  # its current state
        self.keys: tuple[str, ...] = ()  # its indexed fields
        self.visitors: tuple[str, ...] = ()  # the browsers it proved its own
        self.decided: list[int] | None = None  # its decisions, in the order made
        self.seen: str | None = None  # last decision's ts, else created (the list)
        self.facts: str | None = None  # journey.facts, as JSON
        self.span: tuple[int, int] | None = None  # its facts' span, as yyyymmdd


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
        self._by_seen: tuple[int, list[Entry]] | None = None

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
            if entry.decided is None:
                entry.seen = contact["created"]
            self._index(entry)
        event = record.get("event")
        if event:
            entry = self._entry(event["contact"])
            if entry.decided is None:
                entry.decided = [loc]
            else:
                entry.decided.append(loc)
            entry.seen = event["ts"]
        if contact or event:
            found = people_facts.step(self._facts(entry), contact, event)
            for field in SHARED:  # kept once, in the entry
                found.pop(field, None)
            # as text: orjson's bytes keep its whole write buffer (~4 KB each)
            entry.facts = orjson.dumps(found).decode()
            entry.span = day_numbers(found.get("span"))

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

    def facts(
        self,
        since: str | None = None,
        until: str | None = None,
        referred: bool = False,
        stages: Collection[str] = (),
        having: str | None = None,
    ) -> Iterator[Record]:
        """The facts of everyone with something counted in [since, until], or of
        everyone referred and their referrers (see Storage.people_facts).

        Compact JSON: a stage's pair, or a key, appears as such only as itself
        (a quote inside a value is escaped), so most entries are passed over
        without being parsed."""
        period = since is not None or until is not None
        first = day_number(until) if until else 0
        last = day_number(since) if since else 0
        referrers: set[str] = set()
        pairs = [f'"stage":"{stage}"' for stage in stages]
        needle = f'"{having}":' if having else ""
        for entry in list(self.entries.values()):
            text = entry.facts
            if entry.where is None or text is None or needle not in text:
                continue
            if pairs and not any(pair in text for pair in pairs):
                continue
            if referred:
                if '"referred_by"' in text:
                    found = self._facts(entry)
                    referrers.add(found["referred_by"])
                    yield found
                continue
            span = entry.span
            if not period or (
                span is not None and span[0] <= (first or span[0]) and span[1] >= last
            ):
                found = self._facts(entry)  # the text said so; the facts decide
                if (not having or found.get(having)) and (
                    not stages or found["stage"] in stages
                ):
                    yield found
        for contact_id in referrers:
            entry = self.entries.get(contact_id)
            if entry is not None and entry.where is not None and entry.facts:
                if '"referred_by"' not in entry.facts:
                    yield self._facts(entry)

    @staticmethod
    def _facts(entry: Entry) -> Record | None:
        if entry.facts is None:
            return None
        found = orjson.loads(entry.facts)
        found.update(id=entry.id, email=entry.email, seen=entry.seen)
        return found

    def page(
        self, offset: int, limit: int, search: str = "", stage: str = ""
    ) -> tuple[list, int]:
        """A page of people, last seen first (see Storage.contacts_page), read
        from the entries' order, kept until a record changes it; search and
        stage are looked for in the entries' facts."""
        kept = self._by_seen
        if kept is None or kept[0] != self.changes:
            changes = self.changes
            ranked = [e for e in self.entries.values() if e.where is not None]
            ranked.sort(key=lambda e: e.seen, reverse=True)  # stable: ties saved first
            kept = self._by_seen = (changes, ranked)
        ranked = kept[1]
        if search or stage:
            ranked = [e for e in ranked if self._matches(e, search, stage)]
        found = []
        for entry in ranked[offset : offset + limit]:
            got = self.lines.read([*(entry.decided or ()), entry.where])
            found.append((got[-1]["contact"], [r["event"] for r in got[:-1]]))
        return found, len(ranked)

    def _matches(self, entry: Entry, search: str, stage: str) -> bool:
        text = entry.facts or ""
        if stage and f'"stage":"{stage}"' not in text:
            return False
        if search and search not in entry.email and search not in text.lower():
            return False
        if not (search or stage):
            return True
        found = self._facts(entry)  # the text said so; the facts decide
        return matches(found, search) and (not stage or found["stage"] == stage)

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


def day_number(day: str) -> int:
    """A day (or a time's day) as yyyymmdd: small to keep, ordered like the day."""
    return int(day[:4] + day[5:7] + day[8:10])


def day_numbers(span: list[str] | None) -> tuple[int, int] | None:
    return None if span is None else (day_number(span[0]), day_number(span[1]))


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
