"""The people view as one document (people.json), and back.

The locations are arrays of numbers, packed: a list per contact cost the load
twice the memory the view keeps.
"""

from __future__ import annotations

import base64
import sys
from array import array

import orjson

from .view import Entry, Lines, PeopleView


def to_json(view: PeopleView) -> bytes:
    """The view's look-ups and locations in one document."""
    entries = list(view.entries.values())
    where, counts, decided = array("Q"), array("I"), array("Q")
    keys, owners = [], array("I")
    seen, seen_by, owning = [], array("I"), array("I")
    for n, entry in enumerate(entries):
        where.extend(split(entry.where))
        locs = entry.decided or ()
        counts.append(len(locs))
        for loc in locs:
            decided.extend(split(loc))
        for k in entry.keys:
            keys.append(k)
            owners.append(n)
        for v in entry.visitors:
            if view.visitors.get(v) == entry.id:
                owning.append(len(seen))
            seen.append(v)
            seen_by.append(n)
    return orjson.dumps(
        {
            "generation": view.generation,
            "offsets": view.offsets,
            "byteorder": sys.byteorder,
            "ids": [e.id for e in entries],
            "emails": [e.email for e in entries],
            "where": packed(where),
            "counts": packed(counts),
            "decided": packed(decided),
            "keys": keys,
            "owners": packed(owners),
            "visitors": seen,
            "visitor_owners": packed(seen_by),
            "visitor_index": packed(owning),
        }
    )


def from_json(data: bytes, lines: Lines) -> PeopleView:
    """The view a document holds (one that also held facts, as written before
    facts_view.py, is read without them)."""
    doc = orjson.loads(data)
    view = PeopleView(doc["generation"], lines)
    view.offsets = doc["offsets"]
    swap = doc["byteorder"] != sys.byteorder
    where, counts = (
        unpacked("Q", doc["where"], swap),
        unpacked("I", doc["counts"], swap),
    )
    decided = unpacked("Q", doc["decided"], swap)
    entries, emails, ids = view.entries, view.emails, doc["ids"]
    at = 0
    for n, (contact_id, email) in enumerate(zip(ids, doc["emails"], strict=True)):
        entry = entries[contact_id] = Entry(contact_id)
        if email is not None:
            entry.email, emails[email] = email, contact_id
        if where[2 * n] != NONE:
            entry.where = where[2 * n] << HALF | where[2 * n + 1]
        if count := counts[n]:
            stop = at + 2 * count
            entry.decided = [
                decided[i] << HALF | decided[i + 1] for i in range(at, stop, 2)
            ]
            at = stop
    owned: dict[str, list[str]] = {}
    for k, n in zip(doc["keys"], unpacked("I", doc["owners"], swap), strict=True):
        view.index[k] = ids[n]
        owned.setdefault(ids[n], []).append(k)
    for contact_id, found in owned.items():
        entries[contact_id].keys = tuple(found)
    proved: dict[str, list[str]] = {}
    seen, by = doc["visitors"], unpacked("I", doc["visitor_owners"], swap)
    for v, n in zip(seen, by, strict=True):
        proved.setdefault(ids[n], []).append(v)
    for at in unpacked("I", doc["visitor_index"], swap):
        view.visitors[seen[at]] = ids[by[at]]
    for contact_id, found in proved.items():
        entries[contact_id].visitors = tuple(found)
    return view


HALF = 48
NONE = (1 << 64) - 1  # no location


def split(loc: int | None) -> tuple[int, int]:
    if loc is None:
        return NONE, 0
    return loc >> HALF, loc & ((1 << HALF) - 1)


def packed(numbers: array) -> str:
    return base64.b64encode(numbers.tobytes()).decode()


def unpacked(kind: str, text: str, swap: bool) -> array:
    numbers = array(kind)
    numbers.frombytes(base64.b64decode(text))
    if swap:
        numbers.byteswap()
    return numbers
