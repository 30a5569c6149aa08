"""Observations in a table partitioned by month: append, read in pages, search.

A month's partition is created the first time an event of that month comes,
under an advisory lock (`CREATE TABLE IF NOT EXISTS ... PARTITION OF`), so
two servers never race on it; each process remembers the months it has seen.
The default partition catches nothing in practice: every append makes sure
its month exists first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import psycopg
from psycopg.types.json import Json

from ..base import Record
from .db import Database, lock

PAGE = 5000
INSERT = (
    "INSERT INTO events (ts, type, visitor, contact, doc) VALUES (%s, %s, %s, %s, %s)"
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
        Json(event),
    )


def month_of(at: datetime) -> tuple[int, int]:
    at = at.astimezone(UTC)
    return at.year, at.month


class Partitions:
    """The months this process knows to have a partition."""

    def __init__(self) -> None:
        self.known: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    def ensure(self, conn: psycopg.Connection, month: tuple[int, int]) -> None:
        if month in self.known:
            return
        with self._lock:
            create_partition(conn, *month)
            self.known.add(month)


def create_partition(conn: psycopg.Connection, year: int, month: int) -> None:
    """Create events_YYYY_MM for a month (UTC) unless it exists."""
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    name = f"events_{year:04d}_{month:02d}"
    with conn.transaction():
        lock(conn, "partitions")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF events "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )


def append(db: Database, partitions: Partitions, events: Iterable[Record]) -> None:
    """Insert events, each month's partition made sure of first."""
    rows = [row(e) for e in events]
    with db.connect() as conn:
        for month in {month_of(r[0]) for r in rows}:
            partitions.ensure(conn, month)
        if len(rows) == 1:
            conn.execute(INSERT, rows[0])
        else:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(INSERT, rows)


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
