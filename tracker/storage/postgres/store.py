"""The scale-out backend: every tracker process, on any machine, shares one database.

A person's decisions, and observations that name a person (an email click, a
guide fetched), return once committed. Other observations (pageviews, named
events, bot hits) go to the server's own journal, as on the embedded
backend, and a shipper copies them into the database within about a second
(shipper.py); with `ship_interval` 0, or no data directory, each is inserted
by its request. Nothing else is kept in a process but a connection pool, the
months known to have a partition and a copy of the aggregates that every
`summary()` brings up to date, so any number of servers can run behind a load
balancer, each with a data directory of its own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from psycopg.types.json import Json

from ..base import People, Record, Storage
from ..files import UNAVAILABLE, unavailable
from ..journal import Journal
from ..timelines import linked_events
from . import events, reads
from .aggregates import SharedStats
from .db import Database
from .people import (
    PgPeople,
    bump_version,
    contacts_page,
    erase,
    fill_facts,
    people_facts,
    read_everyone,
)
from .shipper import Shipper


class PostgresStorage(Storage):
    def __init__(
        self,
        url: str,
        data_dir: str | None = None,
        ship_interval: float = 0.5,
        flush_interval: float = 1.0,
    ) -> None:
        self.db = Database(url)
        self.partitions = events.Partitions()
        self.stats = SharedStats(self.db)
        self._people: tuple[int, list] | None = None
        self._people_lock = threading.Lock()
        self.journal: Journal | None = None
        self.shipper: Shipper | None = None
        if data_dir and ship_interval > 0:
            journal = os.path.join(data_dir, "journal", "pg-events")
            self.journal = Journal(journal, flush_interval)
            lock = os.path.join(data_dir, "locks", "shipper.lock")
            self.shipper = Shipper(
                self.db, self.partitions, self.journal, lock, ship_interval
            )

    # -- observations --------------------------------------------------------

    def append_event(self, event: Record) -> None:
        """Journal an anonymous observation for the shipper; insert one that
        names a person, so that erasing them finds it in the database."""
        if self.shipper is None or event.get("contact"):
            events.append(self.db, self.partitions, event)
            return
        try:
            self.journal.append(event, event["ts"][:7])
        except OSError as e:  # a full or read-only disk: 503, as on TinyDB
            if e.errno in UNAVAILABLE:
                raise unavailable(e) from e
            raise
        self.shipper.start()

    def caught_up(self) -> None:
        """Ship this server's pending observations before a read."""
        if self.shipper is not None:
            self.shipper.ship()

    def iter_events(self, since: str | None = None) -> Iterator[Record]:
        self.caught_up()
        if since is None:
            return events.matching(self.db)
        return events.matching(self.db, "ts >= %s", (events.moment(since),))

    def events_of_visitors(self, visitors: set[str], since: str) -> list[Record]:
        if not visitors:
            return []
        self.caught_up()
        where = "visitor = ANY(%s) AND ts >= %s"
        params = (list(visitors), events.moment(since))
        return list(events.matching(self.db, where, params))

    def events_of(
        self, since: str | None, types: Collection[str], names: Collection[str] = ()
    ) -> Iterator[Record]:
        """Only the matching rows leave the database (a name is inside the doc)."""
        self.caught_up()
        where = "(type = ANY(%s) OR (type = 'event' AND doc ->> 'name' = ANY(%s)))"
        params: tuple = (list(types), list(names))
        if since is not None:
            where, params = where + " AND ts >= %s", (*params, events.moment(since))
        return events.matching(self.db, where, params)

    def summary(
        self,
        since: str | None = None,
        until: str | None = None,
        filters: dict[str, str] | None = None,
    ) -> dict:
        self.caught_up()
        return self.stats.summary(since, until, filters)

    # -- people --------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[People]:
        with self.db.transaction("people") as conn:
            people = PgPeople(conn)
            yield people
            if people.saved:
                bump_version(conn)

    def people_version(self) -> Any:
        with self.db.connect() as conn:
            return conn.execute("SELECT version FROM people_state").fetchone()[0]

    def get_contact(self, contact_id: str) -> Record | None:
        with self.db.connect() as conn:
            return PgPeople(conn).get(contact_id)

    def find_contact(self, email: str) -> Record | None:
        with self.db.connect() as conn:
            return PgPeople(conn).find(email)

    def iter_contacts(self) -> Iterator[Record]:
        """Streamed: a million records are never all held, nor anyone's decisions."""
        return reads.contacts(self.db)

    def iter_people(self) -> Iterator[tuple[Record, list[Record]]]:
        yield from self._everyone()

    def stream_people(
        self, fields: Collection[str] = (), decision_fields: Collection[str] = ()
    ) -> Iterator[tuple[Record, list[Record]]]:
        """Through a server-side cursor, read from the call on: a million
        people are not all held, and only the fields asked for are read."""
        return reads.people(self.db, fields, decision_fields)

    def observations_of_people(
        self, types: Collection[str], fields: Collection[str] = ()
    ) -> Iterator[Record]:
        """Selected in one query: anonymous traffic stays in the database."""
        self.caught_up()
        return reads.observations(self.db, types, fields)

    def _everyone(self) -> list[tuple[Record, list[Record]]]:
        """Everyone with their decisions, read again only when people changed.

        Kept in memory between calls for what still reads everyone whole (the
        sequences' pass, the contacts CSV): 100k people take seconds to fetch
        but one cheap query to check. The dashboard reads facts, `polku
        audiences` streams (stream_people).
        """
        with self._people_lock:
            cached = self._people
            if cached is not None and cached[0] == self.people_version():
                return cached[1]
            self._people = read_everyone(self.db)
            return self._people[1]

    def contacts_page(
        self, offset: int, limit: int, search: str = "", stage: str = ""
    ) -> tuple[list[tuple[Record, list[Record]]], int]:
        self.fill_facts()
        with self.db.connect() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            return contacts_page(conn, offset, limit, search, stage)

    def visitor_owner(self, visitor: str) -> str | None:
        """The contact who last proved this browser theirs: one index look-up."""
        with self.db.connect() as conn:
            found = conn.execute(
                "SELECT contact FROM contact_keys WHERE field = 'visitor'"
                " AND value = %s",
                [events.column(visitor)],
            ).fetchone()
        return found and found[0]

    def people_facts(
        self,
        since: str | None = None,
        until: str | None = None,
        referred: bool = False,
        stages: Collection[str] = (),
        having: str | None = None,
    ) -> Iterator[Record]:
        self.fill_facts()
        with self.db.connect() as conn:
            yield from people_facts(conn, since, until, referred, stages, having)

    def fill_facts(self) -> int:
        """Work out the facts of contacts saved before they were kept (once, after
        the upgrade or a copy from TinyDB); return how many."""
        with self.db.connect() as conn:
            missing = "SELECT 1 FROM contacts WHERE facts IS NULL LIMIT 1"
            if conn.execute(missing).fetchone() is None:
                return 0
        filled = 0
        while True:
            with self.db.transaction("people") as conn:
                done = fill_facts(conn)
                if not done:
                    return filled
                filled += done
                bump_version(conn)

    def decisions(self, contact_id: str) -> list[Record]:
        with self.db.connect() as conn:
            found = conn.execute(
                "SELECT doc FROM decisions WHERE contact = %s ORDER BY seq",
                [contact_id],
            )
            return [doc for (doc,) in found]

    def decisions_of(
        self, types: Collection[str], since: str | None = None
    ) -> Iterator[tuple[str, list[str], Record]]:
        """The decisions of these types and their contacts' visitor ids, joined
        in one query: no one else's record is read."""
        with self.db.connect() as conn:
            found = conn.execute(
                "SELECT d.contact, c.doc -> 'visitors', d.doc FROM decisions d"
                " JOIN contacts c ON c.id = d.contact"
                " WHERE d.doc ->> 'type' = ANY(%s) AND d.ts > '' AND d.ts >= %s"
                " ORDER BY d.seq",
                [list(types), since or ""],
            ).fetchall()
        return ((c, list(v or ()), d) for c, v, d in found)

    def timeline(self, contact_id: str) -> list[Record]:
        contact = self.get_contact(contact_id)
        if contact is None:
            return []
        decided = self.decisions(contact_id)
        self.caught_up()

        def scan(needles: tuple[bytes, ...], months: set[str] | None) -> Iterator:
            """Every month's partition: an index look-up in each, however old."""
            ids = [n.decode() for n in needles]
            where = "visitor = ANY(%s) OR contact = ANY(%s)"
            return events.matching(self.db, where, (ids, ids))

        return linked_events(decided, contact, scan)

    def erase_contact(self, contact_id: str) -> bool:
        """Delete the contact and their decisions; blank their id where it stays.

        As on the embedded backend, observations stay (a click from an email,
        a guide fetch: anonymous once the id is gone), and so do send ledgers
        and other people's records that named them, with the id overwritten.
        """
        with self.db.transaction("people") as conn:
            if not erase(conn, contact_id):
                return False
            bump_version(conn)
            return True

    # -- ledgers and small documents -----------------------------------------

    def ledger_add(self, ledger: str, key: str, sync: bool = True) -> None:
        with self.db.connect() as conn, conn.transaction():
            if not sync:  # only the server's own crash may lose the last moments
                conn.execute("SET LOCAL synchronous_commit TO OFF")
            conn.execute(
                "INSERT INTO ledgers (ledger, key) VALUES (%s, %s) "
                "ON CONFLICT DO NOTHING",
                [ledger, key],
            )

    def ledger_keys(self, ledger: str) -> set[str]:
        with self.db.connect() as conn:
            found = conn.execute("SELECT key FROM ledgers WHERE ledger = %s", [ledger])
            return {key for (key,) in found}

    def get_meta(self, key: str, default: Any = None) -> Any:
        with self.db.connect() as conn:
            found = conn.execute("SELECT value FROM meta WHERE key = %s", [key])
            row = found.fetchone()
        return default if row is None else row[0]

    def update_meta(self, key: str, change: Callable[[Any], Any]) -> Any:
        """Read-modify-write under the row's lock, taken on a missing row too."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (%s, 'null') "
                "ON CONFLICT DO NOTHING",
                [key],
            )
            row = conn.execute(
                "SELECT value FROM meta WHERE key = %s FOR UPDATE", [key]
            ).fetchone()
            value = change(None if row is None else row[0])
            if value is None:
                conn.execute("DELETE FROM meta WHERE key = %s", [key])
            else:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [key, Json(value)],
                )
            return value

    def close(self) -> None:
        if self.shipper is not None:
            self.shipper.close()
            self.journal.close()
        self.db.close()
