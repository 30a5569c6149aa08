"""Reads for one pass over everyone: streamed, and narrowed to what is asked.

`polku audiences` and the digest's interests go over every person and every
observation of theirs. Read whole, a million contacts and ten million events
are Python objects that take minutes and gigabytes; here the database does
the filtering, and the rows come through one server-side cursor, a batch at
a time, in one snapshot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

import psycopg

from ..base import Record
from .db import Database

BATCH = 20_000
BASE_FIELDS = ("ts", "type", "visitor", "contact")

VISITORS = """
SELECT c.id, CASE WHEN json_typeof(c.doc -> 'visitors') = 'array'
    THEN c.doc -> 'visitors' END
FROM contacts c ORDER BY c.seq
"""

# Each partition's scan looks the visitor up in a hash of the contacts'
# visitor ids, built from one read of the contacts (DISTINCT: without it the
# planner guesses 100 per contact, too many to hash, and scans the list for
# every event). Ordered as `iter_events` gives them: (ts, seq).
OBSERVATIONS = """
WITH known AS MATERIALIZED (
    SELECT DISTINCT json_array_elements_text(CASE
        WHEN json_typeof(c.doc -> 'visitors') = 'array' THEN c.doc -> 'visitors' END)
        AS visitor
    FROM contacts c
)
SELECT e.ts::text, e.type, e.visitor, e.contact {more}
FROM events e
WHERE e.type = ANY(%(types)s)
    AND (e.contact IS NOT NULL OR e.visitor IN (SELECT visitor FROM known))
ORDER BY e.ts, e.seq
"""

# Two cursors in one snapshot, both in the contacts' first-saved order, merged
# as they come: a join per contact would cost an index look-up each.
CONTACTS = "SELECT c.id, c.doc FROM contacts c ORDER BY c.seq"
DECISIONS = """
SELECT d.contact, d.doc FROM decisions d JOIN contacts c ON c.id = d.contact
ORDER BY c.seq, d.seq
"""


@contextmanager
def _snapshot(db: Database) -> Iterator[psycopg.Connection]:
    """A connection in one repeatable-read transaction, for a long read."""
    with db.connect() as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        conn.execute("SET LOCAL jit = off")  # compiling costs more than it saves here
        conn.execute("SET LOCAL work_mem = '256MB'")  # room to hash the visitor ids
        conn.execute("SET LOCAL TimeZone = 'UTC'")  # ts::text, as ISO 8601 reads it
        # Every row is read: plan for the whole, not for the first rows fast.
        conn.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        yield conn


def _rows(
    conn: psycopg.Connection, query: str, params: dict, name: str = "polku_pass"
) -> Iterator[tuple]:
    """Yield a query's rows through a server-side cursor, a batch at a time."""
    with conn.cursor(name=name) as cur:
        cur.itersize = BATCH
        cur.execute(query, params)
        yield from cur


def observations(
    db: Database, types: Collection[str], fields: Collection[str]
) -> Iterator[Record]:
    """Yield the observations of these types that name a contact or whose
    visitor a contact holds, oldest first: ts (the stored moment, written in
    UTC), type, visitor, contact, their `owner` (the contact named, else the
    first one saved holding the visitor) and the asked doc fields (as text)."""
    fields = [f for f in dict.fromkeys(fields) if f not in BASE_FIELDS]
    more = "".join(f", e.doc ->> %(f{i})s" for i in range(len(fields)))
    params = {"types": list(types), **{f"f{i}": f for i, f in enumerate(fields)}}
    names = (*BASE_FIELDS, *fields)
    with _snapshot(db) as conn:
        owner: dict[str, str] = {}
        for contact_id, visitors in _rows(conn, VISITORS, {}):
            for visitor in visitors or ():
                owner.setdefault(visitor, contact_id)
        for found in _rows(conn, OBSERVATIONS.format(more=more), params):
            record = dict(zip(names, found, strict=True))
            record["owner"] = found[3] or owner.get(found[2])
            yield record


def people(db: Database) -> Iterator[tuple[Record, list[Record]]]:
    """Yield (contact, decisions in the order made) in first-saved order,
    without holding everyone."""
    with _snapshot(db) as conn:
        decisions = _rows(conn, DECISIONS, {}, "polku_decisions")
        pending = next(decisions, None)
        for contact_id, contact in _rows(conn, CONTACTS, {}, "polku_contacts"):
            decided = []
            while pending is not None and pending[0] == contact_id:
                decided.append(pending[1])
                pending = next(decisions, None)
            yield contact, decided


def contacts(db: Database) -> Iterator[Record]:
    """Yield every contact's record in first-saved order, without their
    decisions and without holding everyone."""
    with _snapshot(db) as conn:
        for _, contact in _rows(conn, CONTACTS, {}, "polku_contacts"):
            yield contact
