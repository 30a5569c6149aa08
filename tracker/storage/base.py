"""The storage interface: the only view of stored data the rest of the tracker has.

Two kinds of write, with two durability promises:
- observations (pageviews, named events, email clicks, bot hits) via
  `append_event`: handed to the OS before returning, on disk within a second;
- a person's decisions (signup, confirmation, consent, unsubscribe, erase,
  conversion) via `transaction()`: on disk (fsynced) before returning.
Reads come from views that the backend keeps up to date: contacts with their
timelines, and the aggregates the reports and the dashboard need.

A person's decisions have one order, the order their transactions took the
people lock in, and every process sees it alike: a contact's state is the
last one saved, and its decisions come in that order, whatever the clocks of
the servers said (their `ts` normally agree; after a clock was set back they
do not).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager
from typing import Any

from ..journey import facts

Record = dict[str, Any]


def last_seen(contact: Record, decisions: list[Record]) -> str:
    """When a person was last seen: their last decision's ts, else their creation."""
    return decisions[-1]["ts"] if decisions else contact["created"]


def matches(contact: Record, search: str) -> bool:
    """Whether a contact's email or first name holds search (lower case)."""
    return not search or (
        search in contact["email"]
        or search in (contact.get("first_name") or "").lower()
    )


class StorageError(RuntimeError):
    """Stored data cannot be read or written."""


class StorageUnavailable(StorageError):
    """The data cannot be written now (disk full, read-only); try again later."""


class People(ABC):
    """The contacts as one transaction sees them: fresh, and locked against others."""

    @abstractmethod
    def get(self, contact_id: str) -> Record | None: ...

    @abstractmethod
    def find(self, email: str) -> Record | None:
        """Return the contact with this (normalised) email address."""

    @abstractmethod
    def find_by(self, field: str, value: str) -> Record | None:
        """Return the contact whose indexed field (ref_code, order id) has value."""

    @abstractmethod
    def save(self, contact: Record, event: Record | None = None) -> None:
        """Store the contact's new state and, optionally, an event on its timeline."""


class Storage(ABC):
    @abstractmethod
    def append_event(self, event: Record) -> None:
        """Store an observation; durable against a process crash on return."""

    @abstractmethod
    def iter_events(self, since: str | None = None) -> Iterator[Record]:
        """Yield stored observations, oldest month first (ts >= since)."""

    @abstractmethod
    def events_of_visitors(self, visitors: set[str], since: str) -> list[Record]:
        """Return the observations of these visitor ids since a time (for stitching)."""

    @abstractmethod
    def summary(
        self,
        since: str | None = None,
        until: str | None = None,
        filters: dict[str, str] | None = None,
    ) -> dict:
        """Return the aggregates of [since, until], folded up to the newest event."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[People]:
        """Lock the contacts, refreshed; every save is durable when the block ends."""

    @abstractmethod
    def get_contact(self, contact_id: str) -> Record | None: ...

    @abstractmethod
    def find_contact(self, email: str) -> Record | None: ...

    @abstractmethod
    def iter_contacts(self) -> Iterator[Record]: ...

    @abstractmethod
    def iter_people(self) -> Iterator[tuple[Record, list[Record]]]:
        """Yield (contact, their decisions in the order made) for everyone, in one
        read."""

    def stream_people(
        self, fields: Collection[str] = (), decision_fields: Collection[str] = ()
    ) -> Iterator[tuple[Record, list[Record]]]:
        """iter_people for one pass over everyone, in the same order: a backend
        that would keep everyone in memory streams them instead.

        Given fields, each contact has at least its id and those of them it
        holds, each decision at least ts, type and those of decision_fields;
        a backend may read only those (a field holding null may be left out).
        """
        return self.iter_people()

    def observations_of_people(
        self, types: Collection[str], fields: Collection[str] = ()
    ) -> Iterator[Record]:
        """Yield the observations of these types that are someone's, oldest
        month first (within a month, in no set order), each with `owner`: the
        contact it names, else the first contact (as iter_people orders them)
        whose visitors hold its visitor id. Anonymous traffic, most of a
        site's events, is left out.

        Each has at least ts, type, visitor, contact and these fields; a backend
        may read only those. This default reads every event.
        """
        owner: dict[str, str] = {}
        for contact in self.iter_contacts():
            for visitor in contact.get("visitors") or ():
                owner.setdefault(visitor, contact["id"])
        types = frozenset(types)
        for event in self.iter_events():
            if event.get("type") in types:
                found = event.get("contact") or owner.get(event.get("visitor"))
                if found:
                    yield {**event, "owner": found}

    @abstractmethod
    def decisions(self, contact_id: str) -> list[Record]:
        """Return the contact's own events (signup, purchase...), in the order made."""

    @abstractmethod
    def timeline(self, contact_id: str) -> list[Record]:
        """Return the contact's events by time, every linked observation included
        (stitched visits, however many months before the signup)."""

    @abstractmethod
    def erase_contact(self, contact_id: str) -> bool:
        """Remove every trace of the contact; return False if there was none."""

    @abstractmethod
    def ledger_add(self, ledger: str, key: str, sync: bool = True) -> None:
        """Record, durably, that key is done (a digest sent to a contact).

        sync=False promises what `append_event` does: it survives the
        process's crash at once and a power loss within a second. For marks
        written once per email, where an fsync each would dominate.
        """

    @abstractmethod
    def ledger_keys(self, ledger: str) -> set[str]:
        """Return every key recorded in ledger, by any process."""

    @abstractmethod
    def get_meta(self, key: str, default: Any = None) -> Any:
        """Read a small mutable document (daily salts, send ledgers, settings)."""

    @abstractmethod
    def update_meta(self, key: str, change: Callable[[Any], Any]) -> Any:
        """Replace a small document with change(old), atomically and durably.

        Returning None deletes it. Processes never lose each other's updates.
        """

    def events_of(
        self, since: str | None, types: Collection[str], names: Collection[str] = ()
    ) -> Iterator[Record]:
        """Yield the observations since a time (as iter_events) whose type is in
        types, and the named events (type "event") whose name is in names.

        The A/B reports need these few among millions of pageviews; a backend
        selects them where they are stored. This default reads every one.
        """
        for event in self.iter_events(since):
            kind = event.get("type")
            if kind in types or (kind == "event" and event.get("name") in names):
                yield event

    def decisions_of(
        self, types: Collection[str], since: str | None = None
    ) -> Iterator[tuple[str, list[str], Record]]:
        """Yield (contact id, their visitor ids, decision) for each decision of
        these types with a ts (>= since), each person's in the order made.

        What the reports' goals need, without everyone's whole record; this
        default goes over everyone.
        """
        for contact, decisions in self.iter_people():
            visitors = list(contact.get("visitors") or ())
            for decision in decisions:
                ts = decision.get("ts")
                if decision.get("type") in types and ts and (not since or ts >= since):
                    yield contact["id"], visitors, decision

    def contacts_page(
        self, offset: int, limit: int, search: str = "", stage: str = ""
    ) -> tuple[list[tuple[Record, list[Record]]], int]:
        """Return a page of people, last seen first, and how many there are.

        Last seen: their last decision's ts, else when they were created;
        ties in the order first saved. search (lower case) keeps those whose
        email or first name holds it; stage, those at that stage (their
        facts'). Backends answer from an index; this default goes over everyone.
        """
        found = [
            (contact, decided)
            for contact, decided in self.iter_people()
            if matches(contact, search)
            and (not stage or facts.of(contact, decided)["stage"] == stage)
        ]
        found.sort(key=lambda p: last_seen(*p), reverse=True)
        return found[offset : offset + limit], len(found)

    def people_facts(
        self,
        since: str | None = None,
        until: str | None = None,
        referred: bool = False,
        stages: Collection[str] = (),
        having: str | None = None,
    ) -> Iterator[Record]:
        """Yield the facts (`journey.facts`) of everyone with something a period's
        numbers count in [since, until] (a backend may yield more; neither:
        everyone), or, with referred, of everyone referred by someone and their
        referrers; stages: only those at these stages; having: only those whose
        facts hold this (one of facts.HAVING).

        Backends keep each contact's facts beside it, updated as it is saved, so
        counting people reads a few hundred bytes each, not every timeline;
        this default works them out from everyone's.
        """
        everyone = [
            found
            for found in (facts.of(c, d) for c, d in self.iter_people())
            if (not stages or found["stage"] in stages)
            and (having is None or found.get(having))
        ]
        if not referred:
            period = since is not None or until is not None
            yield from (
                f for f in everyone if not period or facts.active(f, since, until)
            )
            return
        referrers = {f["referred_by"] for f in everyone if f.get("referred_by")}
        yield from (f for f in everyone if f.get("referred_by") or f["id"] in referrers)

    def people_version(self) -> Any:
        """A value that changes whenever any contact changes (None: unknown).

        Lets the dashboard keep its numbers about people until someone decides.
        """
        return None

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release files and connections."""
