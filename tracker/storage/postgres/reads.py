"""Reads for one pass over everyone: streamed, and narrowed to what is asked.

`polku audiences` and the digest's interests go over every person and every
observation of theirs. Read whole, a million contacts and ten million events
are Python objects that take minutes and gigabytes; here the database does
the filtering, and the rows come through one server-side cursor, a batch at
a time, in one snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import orjson
import psycopg
from psycopg import sql

from ..base import Record
from .ahead import Ahead, Primed
from .db import Database

BATCH = 20_000
# How many batches of a thousand observations may wait for the caller: the
# database goes on while Python works, and a million people's observations
# took it as long as Python takes (each about 20 s); with eight the two took
# turns, as a cursor computes only the rows fetched.
AHEAD = 100

# Each visitor id's owner, the first contact saved holding it (a shared
# browser is that one's, as `profiles` has it), from `contact_visitors` in its
# key's order (polku_visitor_owners, migration 0013): no contact's JSON is
# parsed. The events are joined to one hash of them, not probed against a
# list per month's partition. Of an event's document only ts and the fields
# asked for are taken out, in one parse each (json_to_record), and only those
# cross to Python: it spent more CPU parsing 4.6M whole documents than the
# database takes. No ORDER BY: sorting millions of rows cost more than the
# rest; the months come oldest first, as stored.
OBSERVATIONS = """
SELECT coalesce(nullif(e.contact, ''), o.contact), e.type, e.visitor, e.contact,
    {fields}
FROM events e LEFT JOIN polku_visitor_owners() o ON o.visitor = e.visitor
CROSS JOIN LATERAL json_to_record(e.doc) AS x({columns})
WHERE e.type = ANY(%(types)s) AND coalesce(nullif(e.contact, ''), o.contact) IS NOT NULL
    {months}
"""
# From how many events (the planner's count) the later months are read by a
# second connection at the same time: one database process doing the whole
# was the critical path of `polku audiences` at 1M contacts (about 20 s).
SPLIT_FROM = 2_000_000
# The first month of the later half: the month (UTC, as the partitions) of
# the median event of a 1% sample, the same sample each time.
SPLIT = """
SELECT date_trunc('month', percentile_disc(0.5) WITHIN GROUP (ORDER BY ts), 'UTC')
FROM events TABLESAMPLE SYSTEM (1) REPEATABLE (0)
"""
EVENTS = """
SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass
"""
# What an observation always has besides its owner, from the columns.
COLUMNS = ("type", "visitor", "contact")


def observations_query(
    fields: Collection[str], months: bool = False
) -> tuple[sql.Composed, tuple]:
    """The query for these fields of the documents (besides ts), and their
    names; with months, of the events in [since, until)."""
    names = (
        "ts",
        *dict.fromkeys(f for f in fields if f not in (*COLUMNS, "ts", "owner")),
    )
    query = sql.SQL(OBSERVATIONS).format(
        fields=sql.SQL(", ").join(sql.SQL("x.") + sql.Identifier(n) for n in names),
        columns=sql.SQL(", ").join(sql.Identifier(n) + sql.SQL(" text") for n in names),
        months=sql.SQL("AND e.ts >= %(since)s AND e.ts < %(until)s" if months else ""),
    )
    return query, names


# Two cursors in one snapshot, both in the contacts' first-saved order, merged
# as they come: a join per contact would cost an index look-up each.
CONTACTS = "SELECT c.id, c.doc FROM contacts c ORDER BY c.seq"
DECISIONS = """
SELECT d.contact, d.doc FROM decisions d JOIN contacts c ON c.id = d.contact
ORDER BY c.seq, d.seq
"""
# The same, only some fields of each document: parsed once in the database
# (json_to_record), they cross as one small object per contact. A decision's
# type comes as text when it is a string, as it is.
NARROW_CONTACTS = """
SELECT c.id, json_build_object({pairs})::text FROM contacts c
CROSS JOIN LATERAL json_to_record(c.doc) AS x({columns}) ORDER BY c.seq
"""
# What contact_fields keeps of each contact (migration 0014: the lists' fields),
# read as it is when no more is asked.
KEPT_CONTACTS = "SELECT f.id, f.doc::text FROM contact_fields f ORDER BY f.seq"
KEPT = frozenset(
    (
        "id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "city",
        "state",
        "zip",
        "country",
        "consent",
        "erased",
        "suppressed",
        "status",
        "feedback",
        "lead_at",
        "customer_at",
        "advocate_at",
        "created",
    )
)
# What decision_fields keeps of each decision (migration 0016), in the same
# shape as NARROW_DECISIONS gives it; read as it is when no more is asked.
KEPT_DECISIONS = """
SELECT d.contact, d.ts, d.type, d.type_json, d.guide, d.score
FROM decision_fields d JOIN contact_fields c ON c.id = d.contact
ORDER BY c.seq, d.seq
"""
KEPT_DECISION_FIELDS = ("guide", "score")
NARROW_DECISIONS = """
SELECT d.contact, d.ts,
    CASE WHEN json_typeof(x.type) = 'string' THEN x.type #>> '{{}}' END,
    CASE WHEN json_typeof(x.type) <> 'string' THEN x.type END{fields}
FROM decisions d JOIN {seqs} c ON c.id = d.contact
CROSS JOIN LATERAL json_to_record(d.doc) AS x({columns}) ORDER BY c.seq, d.seq
"""


@contextmanager
def _snapshot(db: Database) -> Iterator[psycopg.Connection]:
    """A connection in one repeatable-read transaction, for a long read."""
    with db.connect() as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        conn.execute("SET LOCAL jit = off")  # compiling costs more than it saves here
        conn.execute("SET LOCAL work_mem = '512MB'")  # to hash the ids, sort the rows
        # Every row is read: plan for the whole, not for the first rows fast.
        conn.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        yield conn


def _rows(
    conn: psycopg.Connection,
    query: str | sql.Composed,
    params: dict,
    name: str = "polku_pass",
) -> Iterator[tuple]:
    """Yield a query's rows through a server-side cursor, a batch at a time."""
    with conn.cursor(name=name) as cur:
        cur.execute(query, params)
        while batch := cur.fetchmany(BATCH):
            yield from batch


def observations(
    db: Database, types: Collection[str], fields: Collection[str] = ()
) -> Iterator[Record]:
    """Yield the observations of these types that name a contact or whose
    visitor a contact holds, oldest month first, each with its `owner` (the
    contact named, else the first one saved holding the visitor): ts, type,
    visitor, contact and these fields only (a document's field that is not a
    string comes as its JSON text).

    Many events are read as two halves of the months at once, the later held
    as rows until the earlier is read (each half in its own snapshot): the
    same rows as one read, in the same order where the planner reads the
    months in order.
    """
    record = _record(("owner", *COLUMNS, *observations_query(fields)[1]))
    split = _split(db)
    if split is None:
        return map(record, Ahead(_observations(db, types, fields), depth=AHEAD))
    later = Ahead(_observations(db, types, fields, since=split), depth=0)
    earlier = Ahead(_observations(db, types, fields, until=split), depth=AHEAD)
    return map(record, _chain(earlier, later))


def _chain(*parts: Ahead) -> Iterator[tuple]:
    try:
        for part in parts:
            yield from part
    finally:
        for part in parts:
            part.close()


def _split(db: Database) -> object | None:
    """Where the later half of the months begins, or None to read them whole."""
    with db.connect() as conn:
        if conn.execute(EVENTS).fetchone()[0] < SPLIT_FROM:
            return None
        return conn.execute(SPLIT).fetchone()[0]


def _observations(
    db: Database,
    types: Collection[str],
    fields: Collection[str],
    since: object | None = None,
    until: object | None = None,
) -> Iterator[tuple]:
    query, _ = observations_query(fields, since is not None or until is not None)
    params = {
        "types": list(types),
        "since": since or datetime.min.replace(tzinfo=UTC),
        "until": until or datetime.max.replace(tzinfo=UTC),
    }
    with _snapshot(db) as conn:
        yield from _rows(conn, query, params)


def _record(keys: tuple[str, ...]) -> Callable[[tuple], Record]:
    """A row as a record: the audiences' shape written out, a third of the cost
    of dict(zip(...)) on 4.6M rows at 1M contacts."""
    if keys == ("owner", "type", "visitor", "contact", "ts", "path"):
        return lambda r: {
            "owner": r[0],
            "type": r[1],
            "visitor": r[2],
            "contact": r[3],
            "ts": r[4],
            "path": r[5],
        }
    return lambda r: dict(zip(keys, r, strict=True))


def people(
    db: Database, fields: Collection[str] = (), decision_fields: Collection[str] = ()
) -> Iterator[tuple[Record, list[Record]]]:
    """Yield (contact, decisions in the order made) in first-saved order,
    without holding everyone; read from now on. Given fields, each contact is
    its id and those fields (None where it has none), each decision its ts,
    type and those of decision_fields it holds."""
    return Primed(_people(db, fields, decision_fields))


def _people(
    db: Database, fields: Collection[str], decision_fields: Collection[str]
) -> Iterator[tuple[Record, list[Record]]]:
    with _snapshot(db) as conn:
        if fields:
            contacts, decided = _narrow_people(conn, fields, decision_fields)
        else:
            contacts = _rows(conn, CONTACTS, {}, "polku_contacts")
            decided = _rows(conn, DECISIONS, {}, "polku_decisions")
        pending = next(decided, None)
        for contact_id, contact in contacts:
            timeline = []
            while pending is not None and pending[0] == contact_id:
                timeline.append(pending[1])
                pending = next(decided, None)
            yield contact, timeline


def _narrow_people(
    conn: psycopg.Connection, fields: Collection[str], decision_fields: Collection[str]
) -> tuple[Iterator[tuple], Iterator[tuple]]:
    """(contact id, the fields) and (contact id, the decision's fields) rows,
    each document parsed in the database, or as kept for the lists
    (contact_fields, decision_fields): whole, a contact cost Python about
    20 µs to build, most of a million people's pass."""
    names = [f for f in dict.fromkeys(fields) if f != "id"] or ["email"]
    kinds = [f for f in dict.fromkeys(decision_fields) if f not in ("ts", "type")]
    # Each contact's seq, from the kept fields where they serve: a quarter of
    # the contacts' table to read (at 1M, 1 GB against 4 GB).
    seqs = "contacts"
    if KEPT.issuperset(fields):
        contacts = _rows(conn, KEPT_CONTACTS, {}, "polku_contacts")
        seqs = "contact_fields"
    else:
        query = _fields_query(NARROW_CONTACTS, names)
        contacts = _rows(conn, query, {}, "polku_contacts")
    query = _fields_query(NARROW_DECISIONS, ["type", *kinds], 1, seqs)
    if seqs == "contact_fields" and set(kinds) <= set(KEPT_DECISION_FIELDS):
        query, kinds = sql.SQL(KEPT_DECISIONS), list(KEPT_DECISION_FIELDS)
    decisions = _rows(conn, query, {}, "polku_decisions")

    def contact_rows() -> Iterator[tuple]:
        # As text, parsed here: psycopg's JSON loader cost twice orjson's own.
        for contact_id, text in contacts:
            found = orjson.loads(text)
            found["id"] = contact_id
            yield contact_id, found

    def decision_rows() -> Iterator[tuple]:
        if kinds == ["guide", "score"]:  # the audiences', written out (2.2M at 1M)
            for contact_id, ts, kind, other, guide, score in decisions:
                found = {"ts": ts, "type": other if kind is None else kind}
                if guide is not None:
                    found["guide"] = guide
                if score is not None:
                    found["score"] = score
                yield contact_id, found
            return
        for contact_id, ts, kind, other, *values in decisions:
            found = {"ts": ts, "type": other if kind is None else kind}
            for name, value in zip(kinds, values, strict=True):
                if value is not None:
                    found[name] = value
            yield contact_id, found

    return contact_rows(), decision_rows()


def _fields_query(
    query: str, names: list[str], skip: int = 0, seqs: str = "contacts"
) -> sql.Composed:
    """The query with these fields taken out of each document (as JSON values),
    but the first skip (the query takes those itself); the contacts' seq from
    the table seqs."""
    x = [sql.SQL("x.") + sql.Identifier(n) for n in names]
    return sql.SQL(query).format(
        seqs=sql.Identifier(seqs),
        pairs=sql.SQL(", ").join(
            sql.SQL("{}, {}").format(sql.Literal(n), f)
            for n, f in zip(names, x, strict=True)
        ),
        fields=sql.SQL("").join(sql.SQL(", ") + f for f in x[skip:]),
        columns=sql.SQL(", ").join(sql.Identifier(n) + sql.SQL(" json") for n in names),
    )


def contacts(db: Database) -> Iterator[Record]:
    """Yield every contact's record in first-saved order, without their
    decisions and without holding everyone."""
    with _snapshot(db) as conn:
        for _, contact in _rows(conn, CONTACTS, {}, "polku_contacts"):
            yield contact
