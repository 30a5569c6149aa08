"""The people view every backend shares: contacts, their indexes and timelines.

Folded from decision records ({"ts", "contact", "event"}) in the order they were
made (the people journal's order, never their timestamps'): the last saved
state of a contact is its state, and its decisions stay in that order. A
transaction sees the view plus its own unsaved changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

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


class PeopleView:
    """Contacts, their indexes and timelines, folded from the people journal."""

    def __init__(self, generation: int = 0) -> None:
        self.generation = generation
        self.offsets: dict[str, int] = {}
        self.contacts: dict[str, Record] = {}
        self.emails: dict[str, str] = {}
        self.index: dict[tuple[str, str], str] = {}
        self.timelines: dict[str, list[Record]] = {}

    def apply(self, record: Record) -> None:
        contact = record.get("contact")
        if contact:
            self._unindex(self.contacts.get(contact["id"]))
            self.contacts[contact["id"]] = contact
            self._index(contact)
        event = record.get("event")
        if event:
            self.timelines.setdefault(event["contact"], []).append(event)

    def to_json(self) -> bytes:
        """The whole view in one document: what a snapshot on disk holds."""
        return orjson.dumps(
            {
                "generation": self.generation,
                "offsets": self.offsets,
                "contacts": list(self.contacts.values()),
                "timelines": self.timelines,
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> PeopleView:
        doc = orjson.loads(data)
        view = cls(doc["generation"])
        view.offsets = doc["offsets"]
        view.timelines = doc["timelines"]
        for contact in doc["contacts"]:
            view.contacts[contact["id"]] = contact
            view._index(contact)
        return view

    def _keys(self, contact: Record) -> list[tuple[str, str]]:
        keys = [(f, contact[f]) for f in INDEXED if contact.get(f)]
        keys += [("order", o) for o in contact.get("orders", [])]
        return keys

    def _index(self, contact: Record) -> None:
        self.emails[contact["email"]] = contact["id"]
        for key in self._keys(contact):
            self.index[key] = contact["id"]

    def _unindex(self, contact: Record | None) -> None:
        if contact:
            self.emails.pop(contact["email"], None)
            for key in self._keys(contact):
                self.index.pop(key, None)


class Transaction(People):
    def __init__(self, view: PeopleView) -> None:
        self.view = view
        self.pending: list[Record] = []
        self.changed: dict[str, Record] = {}

    def get(self, contact_id: str) -> Record | None:
        return self.changed.get(contact_id) or self.view.contacts.get(contact_id)

    def find(self, email: str) -> Record | None:
        for contact in self.changed.values():
            if contact["email"] == email:
                return contact
        return self.get(self.view.emails.get(email, ""))

    def find_by(self, field: str, value: str) -> Record | None:
        for contact in self.changed.values():
            if contact.get(field) == value or value in contact.get("orders", ()):
                return contact
        return self.get(self.view.index.get((field, value), ""))

    def save(self, contact: Record, event: Record | None = None) -> None:
        self.changed[contact["id"]] = contact
        self.pending.append({"ts": now_iso(), "contact": contact, "event": event})
