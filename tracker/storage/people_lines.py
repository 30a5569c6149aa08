"""The people journal's lines: one transaction's record, or one compacted contact.

A transaction writes `{"ts", "contact", "event"}` per saved contact: the whole
contact again on every change. Compaction writes each contact once, as
`{"id": <contact id>, "zlib": <base64 of the zlib-deflated JSON list>}`: its
decisions in the order made (`{"event": ...}`), then its current state
(`{"ts", "contact"}`). The id stays readable so that an erasure finds the
line; the rest is deflated because contacts repeat the same keys and
consent wording (2.3 KB plain, about 1.1 KB so).

A location packs where a record is: segment number, byte offset and length
of its line, and its place among the line's records.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import orjson

Record = dict[str, Any]

GROUP_MAX = 1 << 12  # records in one compacted line (a longer history: more lines)
_INDEX, _LENGTH, _START = 12, 28, 36
LINE_MAX = (1 << _LENGTH) - 1
SEGMENT_MAX = 1 << _START  # bytes a location can point into


def pack(segment: int, start: int, length: int, index: int = 0) -> int:
    """One int for a record's place: far smaller than a tuple."""
    return ((((segment << _START) | start) << _LENGTH | length) << _INDEX) | index


def unpack(loc: int) -> tuple[int, int, int, int]:
    """(segment, start, length, index) of a location."""
    index = loc & ((1 << _INDEX) - 1)
    loc >>= _INDEX
    length = loc & LINE_MAX
    loc >>= _LENGTH
    return loc >> _START, loc & (SEGMENT_MAX - 1), length, index


def line_of(loc: int) -> int:
    """The location of the line itself (its first record)."""
    return loc >> _INDEX << _INDEX


def records(line: bytes) -> list[Record]:
    """The records a line holds: one, or a compacted contact's."""
    doc = orjson.loads(line)
    if isinstance(doc, dict) and "zlib" in doc:
        return orjson.loads(zlib.decompress(base64.b64decode(doc["zlib"])))
    return [doc]


def compacted(contact_id: str, group: list[Record]) -> bytes:
    """One compacted line: the contact's records, deflated."""
    packed = base64.b64encode(zlib.compress(orjson.dumps(group), 6)).decode()
    return orjson.dumps({"id": contact_id, "zlib": packed}) + b"\n"


def is_compacted(line: bytes) -> bool:
    return line.startswith(b'{"id":')


def without(line: bytes, needle: bytes, contact_id: str) -> bytes | None:
    """The line with nothing left of an erased contact (None: drop the line).

    Their own records go; their id, where another contact's record names it
    (who referred whom), is blanked at the same length.
    """
    from .journal import blanked

    if is_compacted(line):
        doc = orjson.loads(line)
        if doc["id"] == contact_id:
            return None
        group = records(line)
        if needle not in orjson.dumps(group):
            return line
        kept = [r for r in group if not about(r, contact_id)]
        data = orjson.dumps(kept).replace(needle, blanked(needle))
        return compacted(doc["id"], orjson.loads(data)) if kept else None
    if needle not in line:
        return line
    if line.endswith(b"\n") and about(orjson.loads(line), contact_id):
        return None
    return line.replace(needle, blanked(needle))


def about(record: Record, contact_id: str) -> bool:
    """True if the record is the contact's state or one of their decisions."""
    if (record.get("contact") or {}).get("id") == contact_id:
        return True
    return (record.get("event") or {}).get("contact") == contact_id
