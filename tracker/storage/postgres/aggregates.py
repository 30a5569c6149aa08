"""The dashboard's aggregates, shared by every server: daily cubes in a table.

`aggregate_days` holds one `Stats` day per row; `aggregate_state.folded` says
how far the events are folded into them. Each process keeps in memory the
days it was asked for (a 30-day overview reads 60 of them, not every day
since the site began: at 10M events a year of cubes is gigabytes of Python
objects) and, on every `summary()`, under an advisory lock (one folder at a
time; the others wait a moment, then find little left to do):

1. reads again the days it holds that another process rewrote since it last
   looked (`rev` greater than its own), and reads the days the summary asks
   for that it does not hold yet;
2. folds the events not folded yet (reading each one's day first, if not
   held), and writes back the days they touched.

Which events are "not folded yet" cannot be `seq > last seq folded`: two
transactions can take seq 10 and 11 and commit 11 first; a fold in between
would pass 10 for ever. Each event row records its inserting transaction
(`xid`, `pg_current_xact_id()`), and `folded` is the snapshot the last fold
took (`pg_current_snapshot()`: xmax, and the transactions below it still
running). A fold takes the events visible in a new snapshot but not in that
one: those of transactions at or above its xmax, or running then, that have
ended since. Each committed event falls in exactly one fold, and the first
summary to begin after its commit counts it; nothing waits for the server's
oldest running transaction (`pg_snapshot_xmin` is server-wide: a long COPY
into another database would hold every dashboard at its start). The running
transactions a snapshot lists number at most the server's connections. A fold
that finds nothing writes nothing: the next one finds the same events from
the older snapshot as from the newer.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
from psycopg.types.json import Json

from ... import clock
from ...journey.counters import OPEN_DAYS, Day, Stats
from .db import Database

FOLD_BATCH = 5000


class SharedStats:
    """This process's copy of the aggregates, brought up to date on demand."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.stats = Stats()
        self.rev = -1
        self._lock = threading.Lock()

    def summary(
        self,
        since: str | None,
        until: str | None,
        filters: dict[str, str] | None,
    ) -> dict:
        with self._lock:
            self.refresh(since, until)
            return self.stats.summary(since, until, filters)

    def refresh(self, since: str | None = None, until: str | None = None) -> int:
        """Catch up with the other processes, hold the days of [since, until]
        (None: open), fold new events; return days touched."""
        try:
            return self._refresh(since, until)
        except BaseException:
            self.stats, self.rev = Stats(), -1  # half-folded: reload next time
            raise

    def _refresh(self, since: str | None, until: str | None) -> int:
        with self.db.transaction("aggregates") as conn:
            folded, rev, now = conn.execute(
                "SELECT folded::text, rev, pg_current_snapshot()::text "
                "FROM aggregate_state"
            ).fetchone()
            if rev != self.rev:
                self._load_days(conn, "rev > %s AND day = ANY(%s)", [self.rev])
                self.rev = rev
            bounds, params = [], []
            if since:
                bounds.append("day >= %s")
                params.append(since[:10])
            if until:
                bounds.append("day <= %s")
                params.append(until[:10])
            bounds.append("NOT day = ANY(%s)")  # the days held: _load_days adds them
            self._load_days(conn, " AND ".join(bounds), params)
            touched = self._fold(conn, folded, now)
            yesterday = clock.now().date() - timedelta(days=OPEN_DAYS - 1)
            touched |= self._close_before(yesterday.isoformat())
            if touched:  # else the next fold would find nothing more either way
                self._save(conn, touched, now, rev + 1)
            return len(touched)

    def _load_days(self, conn: psycopg.Connection, where: str, params: list) -> None:
        """Read the stored days that match where, given the held days last."""
        rows = conn.execute(
            "SELECT day, data FROM aggregate_days WHERE " + where,
            [*params, list(self.stats.days)],
        )
        for day, data in rows:
            self.stats.days[day] = Day(data)

    def _hold(self, conn: psycopg.Connection, day: str) -> None:
        """Read a day before an event is folded into it (if stored, not held)."""
        if day not in self.stats.days:
            self._load_days(conn, "day = %s AND NOT day = ANY(%s)", [day])

    def _fold(self, conn: psycopg.Connection, folded: str, now: str) -> set[str]:
        """Fold the events visible in snapshot `now` but not in `folded`.

        The index finds them by xid: at or above folded's xmax, or one of the
        few transactions it saw running; `now` then keeps those that had ended
        when it was taken (this statement's own snapshot is newer).
        """
        _, xmax, running = folded.split(":")
        touched: set[str] = set()
        with conn.cursor(name="fold") as cur:
            cur.itersize = FOLD_BATCH
            cur.execute(
                "SELECT doc FROM events"
                " WHERE (xid >= %s::xid8 OR xid = ANY(%s::xid8[]))"
                " AND pg_visible_in_snapshot(xid, %s::pg_snapshot) ORDER BY seq",
                [xmax, running.split(",") if running else [], now],
            )
            for (event,) in cur:
                self._hold(conn, event["ts"][:10])
                self.stats.add(event)
                touched.add(event["ts"][:10])
        return touched

    def _close_before(self, day: str) -> set[str]:
        closing = {k for k, d in self.stats.days.items() if k < day and not d.closed}
        self.stats.close_before(day)
        return closing

    def _save(
        self, conn: psycopg.Connection, days: set[str], folded: str, rev: int
    ) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO aggregate_days (day, rev, data) VALUES (%s, %s, %s) "
                "ON CONFLICT (day) DO UPDATE"
                " SET rev = excluded.rev, data = excluded.data",
                [(d, rev, Json(self.stats.days[d].to_json())) for d in sorted(days)],
            )
        conn.execute(
            "UPDATE aggregate_state SET folded = %s::pg_snapshot, rev = %s",
            [folded, rev],
        )
        self.rev = rev
