"""Reads for one pass over everyone: streamed, and narrowed to what is asked.

`polku audiences` and the digest's interests go over every person and every
observation of theirs. Read whole, a million contacts and ten million events
are Python objects that take minutes and gigabytes; here the database does
the filtering, and the rows come through one server-side cursor, a batch at
a time, in one snapshot.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager

import psycopg

from ..base import Record
from .db import Database

BATCH = 20_000

# Each visitor id a contact holds, with the first contact (in first-saved
# order) to hold it: a shared browser is that one's, as `profiles` has it.
# Each contact's JSON is parsed once (OFFSET 0 keeps the planner from copying
# the expression) and the ids sorted bytewise (C), and the events are joined
# to one hash of them, not probed against a list per month's partition. The
# events' documents come whole: orjson reads one faster than the database
# takes a field out of it. No ORDER BY: sorting millions of documents cost
# more than the rest; the months come oldest first, as stored.
OBSERVATIONS = """
WITH owners AS MATERIALIZED (
    SELECT DISTINCT ON (v.visitor COLLATE "C") v.visitor, c.id
    FROM contacts c
    CROSS JOIN LATERAL (SELECT c.doc -> 'visitors' AS list OFFSET 0) l
    CROSS JOIN LATERAL json_array_elements_text(
        CASE WHEN json_typeof(l.list) = 'array' THEN l.list END) AS v(visitor)
    ORDER BY v.visitor COLLATE "C", c.seq
)
SELECT e.doc, coalesce(nullif(e.contact, ''), o.id)
FROM events e LEFT JOIN owners o ON o.visitor = e.visitor
WHERE e.type = ANY(%(types)s) AND coalesce(nullif(e.contact, ''), o.id) IS NOT NULL
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
        conn.execute("SET LOCAL work_mem = '512MB'")  # to hash the ids, sort the rows
        # Every row is read: plan for the whole, not for the first rows fast.
        conn.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        yield conn


def _rows(
    conn: psycopg.Connection, query: str, params: dict, name: str = "polku_pass"
) -> Iterator[tuple]:
    """Yield a query's rows through a server-side cursor, a batch at a time."""
    with conn.cursor(name=name) as cur:
        cur.execute(query, params)
        while batch := cur.fetchmany(BATCH):
            yield from batch


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def _put(batches: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Queue an item unless the reader stopped; False if it did."""
    while not stop.is_set():
        try:
            batches.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _ahead(items: Iterator, size: int = 1000, depth: int = 8) -> Iterator:
    """Yield items that another thread reads, up to depth batches ahead.

    The database works on the next rows, and psycopg waits for them without
    the GIL, while the caller works on these. The iterator runs, and is
    closed (its transaction ended), in that thread.
    """
    batches: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            batch: list = []
            for item in items:
                batch.append(item)
                if len(batch) >= size:
                    if not _put(batches, batch, stop):
                        return
                    batch = []
            if _put(batches, batch, stop):
                _put(batches, _END, stop)
        except BaseException as e:  # noqa: BLE001 - raised again in the reader
            _put(batches, _Failed(e), stop)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=produce, name="polku-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            batch = batches.get()
            if batch is _END:
                return
            if isinstance(batch, _Failed):
                raise batch.error
            yield from batch
    finally:
        stop.set()
        reader.join()


def observations(db: Database, types: Collection[str]) -> Iterator[Record]:
    """Yield the observations of these types that name a contact or whose
    visitor a contact holds, oldest month first, each with its `owner` (the
    contact named, else the first one saved holding the visitor)."""
    return _ahead(_observations(db, types))


def _observations(db: Database, types: Collection[str]) -> Iterator[Record]:
    with _snapshot(db) as conn:
        for doc, owner in _rows(conn, OBSERVATIONS, {"types": list(types)}):
            doc["owner"] = owner
            yield doc


def people(db: Database) -> Iterator[tuple[Record, list[Record]]]:
    """Yield (contact, decisions in the order made) in first-saved order,
    without holding everyone."""
    return _ahead(_people(db))


def _people(db: Database) -> Iterator[tuple[Record, list[Record]]]:
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
