"""Observations in a table partitioned by month: append, read in pages, search.

A month's partition is created the first time an event of that month comes,
under an advisory lock (`CREATE TABLE IF NOT EXISTS ... PARTITION OF`), so
two servers never race on it; each process remembers the months it has seen.
The default partition catches nothing in practice: every append makes sure
its month exists first.

Most observations come in batches from the server's journal (shipper.py).
One inserted on its own (one that names a person; every one with
`POLKU_SHIP_INTERVAL=0`) does not wait for the WAL to reach the disk
(`synchronous_commit` off for that one statement's transaction): the
PostgreSQL counterpart of the journal's promise, "handed over before the
answer, on disk within a second" (the WAL writer flushes within 3 x 200 ms).
A tracker process dying loses nothing committed; only a crash of the database
server itself can take that last fraction of a second. A person's decisions
keep the default, a flush before the answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import orjson
import psycopg
from psycopg.types.json import Json

from ..base import Record
from .db import Database, lock

PAGE = 5000
# set_config(..., true) lasts until the end of this statement's own transaction.
INSERT = (
    "WITH lazy AS (SELECT set_config('synchronous_commit', 'off', true)) "
    "INSERT INTO events (ts, type, visitor, contact, doc) "
    "SELECT %s, %s, %s, %s, %s FROM lazy"
)


def moment(ts: str) -> datetime:
    """Parse an ISO timestamp or date; one without a zone is UTC."""
    parsed = datetime.fromisoformat(ts)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def column(value: object) -> str | None:
    """A text column's value: PostgreSQL text cannot hold NUL (the doc keeps it)."""
    if value is None:
        return None
    return str(value).replace("\x00", "\ufffd")


def row(event: Record) -> tuple:
    """The INSERT parameters of an event: its queried fields, then the whole doc."""
    return (
        moment(event["ts"]),
        column(event.get("type")) or "",
        column(event.get("visitor")),
        column(event.get("contact")),
        Json(event, dumps=orjson.dumps),
    )


def month_of(at: datetime) -> tuple[int, int]:
    at = at.astimezone(UTC)
    return at.year, at.month


def next_month(month: tuple[int, int]) -> tuple[int, int]:
    year, number = month
    return (year + number // 12, number % 12 + 1)


class Partitions:
    """The months this process knows to have a partition.

    Next month's is made ahead, without waiting long for its lock: creating a
    partition locks the whole events table, so made at the turn of the month
    it would queue every server's inserts behind any long reader (a cold
    fold, a backup). Made ahead, the turn of the month needs no DDL at all.
    """

    def __init__(self) -> None:
        self.known: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    def ensure(self, conn: psycopg.Connection, month: tuple[int, int]) -> None:
        if month in self.known and next_month(month) in self.known:
            return
        with self._lock:
            if month not in self.known:
                create_partition(conn, *month)
                self.known.add(month)
            ahead = next_month(month)
            if ahead not in self.known:
                try:
                    create_partition(conn, *ahead, wait="500ms")
                except psycopg.errors.LockNotAvailable:
                    return  # busy now: the next event tries again
                self.known.add(ahead)


def create_partition(
    conn: psycopg.Connection, year: int, month: int, wait: str | None = None
) -> None:
    """Create events_YYYY_MM for a month (UTC) unless it exists.

    With wait, give up (LockNotAvailable) rather than queue longer for locks.
    """
    name = f"events_{year:04d}_{month:02d}"
    if conn.execute("SELECT to_regclass(%s)", [name]).fetchone()[0]:
        return  # no DDL, no lock on the events table
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(*next_month((year, month)), 1, tzinfo=UTC)
    with conn.transaction():
        if wait:
            conn.execute(f"SET LOCAL lock_timeout = '{wait}'")
        lock(conn, "partitions")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF events "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )


def append(db: Database, partitions: Partitions, event: Record) -> None:
    """Insert an event, its month's partition made sure of first."""
    values = row(event)
    with db.connect() as conn:
        partitions.ensure(conn, month_of(values[0]))
        conn.execute(INSERT, values)


def pages(
    db: Database, where: str = "TRUE", params: tuple = ()
) -> Iterator[list[Record]]:
    """Yield the matching events in (ts, seq) order, a page per query.

    Each page is its own short query, so no transaction stays open while the
    caller works (an old snapshot would hold the aggregates' fold back).
    """
    after: tuple = (datetime.min.replace(tzinfo=UTC), -1)
    while True:
        with db.connect() as conn:
            found = conn.execute(
                f"SELECT ts, seq, doc FROM events WHERE ({where}) "
                "AND (ts, seq) > (%s, %s) ORDER BY ts, seq LIMIT %s",
                (*params, *after, PAGE),
            ).fetchall()
        if not found:
            return
        yield [doc for _, _, doc in found]
        if len(found) < PAGE:
            return
        after = found[-1][:2]


def matching(db: Database, where: str = "TRUE", params: tuple = ()) -> Iterator[Record]:
    for page in pages(db, where, params):
        yield from page
