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


class FactsView:
    """Every contact's facts, folded record by record (see module doc).

    Kept as columns, a row per contact in the order first met: a snapshot
    loads as the lists it was written as, with no object per contact to build
    (100k of them cost a new process's first overview 0.1 s)."""

    def __init__(self, generation: int = 0, lines=None) -> None:
        self.generation = generation
        self.lines = lines  # where the fold reads the journal
        self.offsets: dict[str, int] = {}
        self.rows: dict[str, int] = {}  # contact id -> its row
        self.ids: list[str] = []
        self.emails: list[str | None] = []  # None: only decisions seen so far
        self.seen: list[str | None] = []  # last decision's ts, else created
        self.decided = bytearray()  # 1: a decision seen
        self.texts: list[str | None] = []  # journey.facts as JSON, SHARED left out
        self.spans = array("I")  # the facts' first and last day (yyyymmdd), or 0 0
        self.changes = 0
        self._by_seen: tuple[int, list[int]] | None = None

    def apply(self, record: Record, loc: int = 0) -> None:
        """Fold one record: a contact's new state, a decision, or both."""
        contact, event = record.get("contact"), record.get("event")
        if not (contact or event):
            return
        self.changes += 1
        if contact:
            row = self._row(contact["id"])
            self.emails[row] = contact["email"]
            if not self.decided[row]:
                self.seen[row] = contact["created"]
        if event:
            row = self._row(event["contact"])
            self.decided[row], self.seen[row] = 1, event["ts"]
        found = people_facts.step(self._facts(row), contact, event)
        for field in SHARED:
            found.pop(field, None)
        # as text: orjson's bytes keep its whole write buffer (~4 KB each)
        self.texts[row] = orjson.dumps(found).decode()
        self.spans[2 * row : 2 * row + 2] = array(
            "I", day_numbers(found.get("span")) or (0, 0)
        )

    def _row(self, contact_id: str) -> int:
        row = self.rows.get(contact_id)
        if row is None:
            row = self.rows[contact_id] = len(self.ids)
            self.ids.append(contact_id)
            self.emails.append(None)
            self.seen.append(None)
            self.decided.append(0)
            self.texts.append(None)
            self.spans.extend((0, 0))
        return row

    def drop(self, contact_id: str) -> None:
        row = self.rows.pop(contact_id, None)
        if row is not None:  # its row stays, empty: the others keep their place
            self.emails[row] = self.texts[row] = None
            self.changes += 1

    def _facts(self, row: int) -> Record | None:
        text = self.texts[row]
        if text is None:
            return None
        found = orjson.loads(text)
        found.update(id=self.ids[row], email=self.emails[row], seen=self.seen[row])
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
        (a quote inside a value is escaped), so most rows are passed over
        without being parsed."""
        period = since is not None or until is not None
        first = day_number(until) if until else 0
        last = day_number(since) if since else 0
        referrers: set[str] = set()
        pairs = [f'"stage":"{stage}"' for stage in stages]
        needle = f'"{having}":' if having else ""
        emails, spans = self.emails, self.spans
        for row, text in enumerate(list(self.texts)):
            if text is None or emails[row] is None or needle not in text:
                continue
            if pairs and not any(pair in text for pair in pairs):
                continue
            if referred:
                if '"referred_by"' in text:
                    found = self._facts(row)
                    referrers.add(found["referred_by"])
                    yield found
                continue
            starts, ends = spans[2 * row], spans[2 * row + 1]
            if not period or (starts and starts <= (first or starts) and ends >= last):
                found = self._facts(row)  # the text said so; the facts decide
                if (not having or found.get(having)) and (
                    not stages or found["stage"] in stages
                ):
                    yield found
        for contact_id in referrers:
            row = self.rows.get(contact_id)
            if row is not None and emails[row] is not None and self.texts[row]:
                if '"referred_by"' not in self.texts[row]:
                    yield self._facts(row)

    def ranked(
        self, offset: int, limit: int, search: str = "", stage: str = ""
    ) -> tuple[list[str], int]:
        """A page of contact ids, last seen first (see Storage.contacts_page),
        and how many match; the order is kept until a record changes it."""
        kept = self._by_seen
        if kept is None or kept[0] != self.changes:
            changes, seen = self.changes, self.seen
            ranked = [r for r, email in enumerate(self.emails) if email is not None]
            ranked.sort(key=seen.__getitem__, reverse=True)  # stable: ties met first
            kept = self._by_seen = (changes, ranked)
        ranked = kept[1]
        if search or stage:
            ranked = [r for r in ranked if self._matches(r, search, stage)]
        return [self.ids[r] for r in ranked[offset : offset + limit]], len(ranked)

    def _matches(self, row: int, search: str, stage: str) -> bool:
        text = self.texts[row] or ""
        if stage and f'"stage":"{stage}"' not in text:
            return False
        if search and search not in self.emails[row] and search not in text.lower():
            return False
        found = self._facts(row)  # the text said so; the facts decide
        return matches(found, search) and (not stage or found["stage"] == stage)


def day_number(day: str) -> int:
    """A day (or a time's day) as yyyymmdd: small to keep, ordered like the day."""
    return int(day[:4] + day[5:7] + day[8:10])


def day_numbers(span: list[str] | None) -> tuple[int, int] | None:
    return None if span is None else (day_number(span[0]), day_number(span[1]))


# -- the snapshot (facts.json) ---------------------------------------------------


def to_json(view: FactsView) -> bytes:
    return orjson.dumps(
        {
            "shape": people_facts.SHAPE,
            "generation": view.generation,
            "offsets": view.offsets,
            "byteorder": sys.byteorder,
            "ids": view.ids,
            "emails": view.emails,
            "seen": view.seen,
            "decided": view.decided.hex(),
            "facts": view.texts,
            "spans": packed(view.spans),
        }
    )


def from_json(data: bytes, lines) -> FactsView | None:
    """The facts a snapshot holds; None if an earlier shape of them (folded anew)."""
    doc = orjson.loads(data)
    if doc.get("shape") != people_facts.SHAPE:
        return None
    view = FactsView(doc["generation"], lines)
    view.offsets = doc["offsets"]
    view.ids, view.emails, view.seen = doc["ids"], doc["emails"], doc["seen"]
    view.texts = doc["facts"]
    view.decided = bytearray.fromhex(doc["decided"])
    view.spans = unpacked("I", doc["spans"], doc["byteorder"] != sys.byteorder)
    if not len(view.ids) == len(view.emails) == len(view.seen) == len(view.texts):
        raise ValueError("facts.json: columns of different lengths")
    if len(view.decided) != len(view.ids) or len(view.spans) != 2 * len(view.ids):
        raise ValueError("facts.json: columns of different lengths")
    view.rows = {contact_id: row for row, contact_id in enumerate(view.ids)}
    return view
