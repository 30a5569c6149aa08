"""The people's facts as one process folds them, apart from the people view.

Only the dashboard reads them (its numbers about people, the journey map, the
contact list's filters), so only a process that shows it holds them: a worker
that answers signups keeps the people view alone (about 1 KB a contact), and
the overview's worker needs no people view at all. Folded from the people
journal in its order (`journey.facts.step` over each record), with a snapshot
of its own (`facts.json`) that a rewrite of the journal replaces or deletes
like the view's.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Collection, Iterator

import orjson

from ..journey import facts as people_facts
from .base import Record, matches
from .view_json import packed, unpacked

SHARED = ("id", "email", "seen")  # kept once, in the entry


class Known:
    """What the facts view keeps of one contact: its facts as text."""

    __slots__ = ("id", "email", "seen", "decided", "text", "span")

    def __init__(self, contact_id: str) -> None:
        self.id = contact_id
        self.email: str | None = None  # None: only decisions seen so far
        self.seen: str | None = None  # last decision's ts, else created
        self.decided = False
        self.text: str | None = None  # journey.facts as JSON, SHARED left out
        self.span: tuple[int, int] | None = None  # the facts' span, as yyyymmdd


class FactsView:
    """Every contact's facts, folded record by record (see module doc)."""

    def __init__(self, generation: int = 0, lines=None) -> None:
        self.generation = generation
        self.lines = lines  # where the fold reads the journal
        self.offsets: dict[str, int] = {}
        self.entries: dict[str, Known] = {}
        self.changes = 0
        self._by_seen: tuple[int, list[Known]] | None = None

    def apply(self, record: Record, loc: int = 0) -> None:
        """Fold one record: a contact's new state, a decision, or both."""
        contact, event = record.get("contact"), record.get("event")
        if not (contact or event):
            return
        self.changes += 1
        if contact:
            known = self._known(contact["id"])
            known.email = contact["email"]
            if not known.decided:
                known.seen = contact["created"]
        if event:
            known = self._known(event["contact"])
            known.decided, known.seen = True, event["ts"]
        found = people_facts.step(self._facts(known), contact, event)
        for field in SHARED:
            found.pop(field, None)
        # as text: orjson's bytes keep its whole write buffer (~4 KB each)
        known.text = orjson.dumps(found).decode()
        known.span = day_numbers(found.get("span"))

    def _known(self, contact_id: str) -> Known:
        known = self.entries.get(contact_id)
        if known is None:
            known = self.entries[contact_id] = Known(contact_id)
        return known

    def drop(self, contact_id: str) -> None:
        if self.entries.pop(contact_id, None) is not None:
            self.changes += 1

    @staticmethod
    def _facts(known: Known) -> Record | None:
        if known.text is None:
            return None
        found = orjson.loads(known.text)
        found.update(id=known.id, email=known.email, seen=known.seen)
        return found

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
        for known in list(self.entries.values()):
            text = known.text
            if known.email is None or text is None or needle not in text:
                continue
            if pairs and not any(pair in text for pair in pairs):
                continue
            if referred:
                if '"referred_by"' in text:
                    found = self._facts(known)
                    referrers.add(found["referred_by"])
                    yield found
                continue
            span = known.span
            if not period or (
                span is not None and span[0] <= (first or span[0]) and span[1] >= last
            ):
                found = self._facts(known)  # the text said so; the facts decide
                if (not having or found.get(having)) and (
                    not stages or found["stage"] in stages
                ):
                    yield found
        for contact_id in referrers:
            known = self.entries.get(contact_id)
            if known is not None and known.email is not None and known.text:
                if '"referred_by"' not in known.text:
                    yield self._facts(known)

    def ranked(
        self, offset: int, limit: int, search: str = "", stage: str = ""
    ) -> tuple[list[str], int]:
        """A page of contact ids, last seen first (see Storage.contacts_page),
        and how many match; the order is kept until a record changes it."""
        kept = self._by_seen
        if kept is None or kept[0] != self.changes:
            changes = self.changes
            ranked = [k for k in self.entries.values() if k.email is not None]
            ranked.sort(key=lambda k: k.seen, reverse=True)  # stable: ties saved first
            kept = self._by_seen = (changes, ranked)
        ranked = kept[1]
        if search or stage:
            ranked = [k for k in ranked if self._matches(k, search, stage)]
        return [k.id for k in ranked[offset : offset + limit]], len(ranked)

    def _matches(self, known: Known, search: str, stage: str) -> bool:
        text = known.text or ""
        if stage and f'"stage":"{stage}"' not in text:
            return False
        if search and search not in known.email and search not in text.lower():
            return False
        found = self._facts(known)  # the text said so; the facts decide
        return matches(found, search) and (not stage or found["stage"] == stage)


def day_number(day: str) -> int:
    """A day (or a time's day) as yyyymmdd: small to keep, ordered like the day."""
    return int(day[:4] + day[5:7] + day[8:10])


def day_numbers(span: list[str] | None) -> tuple[int, int] | None:
    return None if span is None else (day_number(span[0]), day_number(span[1]))


# -- the snapshot (facts.json) ---------------------------------------------------


def to_json(view: FactsView) -> bytes:
    entries = list(view.entries.values())
    spans = array("I")
    for known in entries:
        spans.extend(known.span or (0, 0))
    return orjson.dumps(
        {
            "shape": people_facts.SHAPE,
            "generation": view.generation,
            "offsets": view.offsets,
            "byteorder": sys.byteorder,
            "ids": [k.id for k in entries],
            "emails": [k.email for k in entries],
            "seen": [k.seen for k in entries],
            "decided": [k.id for k in entries if k.decided],
            "facts": [k.text for k in entries],
            "spans": packed(spans),
        }
    )


def from_json(data: bytes, lines) -> FactsView | None:
    """The facts a snapshot holds; None if an earlier shape of them (folded anew)."""
    doc = orjson.loads(data)
    if doc.get("shape") != people_facts.SHAPE:
        return None
    view = FactsView(doc["generation"], lines)
    view.offsets = doc["offsets"]
    spans = unpacked("I", doc["spans"], doc["byteorder"] != sys.byteorder)
    rows = zip(doc["ids"], doc["emails"], doc["seen"], doc["facts"], strict=True)
    for n, (contact_id, email, seen, text) in enumerate(rows):
        known = view.entries[contact_id] = Known(contact_id)
        known.email, known.seen, known.text = email, seen, text
        if spans[2 * n]:
            known.span = (spans[2 * n], spans[2 * n + 1])
    for contact_id in doc["decided"]:
        view.entries[contact_id].decided = True
    return view
