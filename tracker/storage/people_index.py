"""The people look-ups the site's workers need, on disk (`people-index.sqlite`).

`GET /api/next` asks, for each page a reader opens, which contact proved the
browser (visitor id) theirs, and then reads that contact's record and
decisions. Answering from the people view would load that view (about 1 KB a
contact) into every worker that serves the site; this index keeps, beside
the journal it is folded from, each browser's owner and where each contact's
records are in the journal, and a worker holds only SQLite's small page
cache, whatever the contacts.

Derived like the snapshots: any process brings it up to date before it
answers, under SQLite's write lock, from the people-journal offsets stored in
the same transaction (a `kill -9` leaves the old state or the new). The rule
is the view's: whoever last proved a browser theirs owns it, and a contact's
new state takes back what it no longer claims. A rewrite of the journal (an
erasure, a compaction) moves the generation and the index is folded anew; an
erasure also deletes the person's rows at once (`secure_delete` zeroes them).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import orjson

from .people_journal import Rewound, Segments

log = logging.getLogger(__name__)


BATCH = 20_000  # records folded between commits


class StaleIndex(Exception):
    """The journal changed under a read: ask the people view instead."""


SCHEMA = (
    "CREATE TABLE IF NOT EXISTS owner"
    " (visitor TEXT PRIMARY KEY, contact TEXT NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS owner_contact ON owner (contact)",
    "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # where a contact's state and decisions are (journal locations, as text:
    # they use all 64 bits), as the people view keeps them
    "CREATE TABLE IF NOT EXISTS located"
    " (contact TEXT PRIMARY KEY, at TEXT, decided TEXT NOT NULL DEFAULT '')"
    " WITHOUT ROWID",
)


class PeopleIndex:
    """visitor id -> contact id, contact id -> its records' locations, folded
    from a PeopleStore's journal."""

    def __init__(self, path: str, store) -> None:
        self.path = path
        self.store = store  # people_store.PeopleStore: generation, journal, rewrites
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._checked: tuple[int, int] | None = None  # (generation, bytes) folded
        self._inode: int | None = None
        self._lock = threading.Lock()

    def owner(self, visitor: str) -> str | None:
        with self._lock, self._connection() as conn:
            self._catch_up(conn)
            row = conn.execute(
                "SELECT contact FROM owner WHERE visitor = ?", (visitor,)
            ).fetchone()
            return row[0] if row else None

    def person(self, contact_id: str) -> tuple[dict, list[dict]] | None:
        """A contact's state and decisions in the order made, read from the
        journal where the index says they are (None: no such contact)."""
        with self._lock, self._connection() as conn:
            self._catch_up(conn)
            row = conn.execute(
                "SELECT at, decided FROM located WHERE contact = ?", (contact_id,)
            ).fetchone()
            if row is None or row[0] is None:
                return None
            locs = [int(n) for n in row[1].split()] + [int(row[0])]
            found = Segments(self.store.journal.root).read(locs)
        contact = found[-1].get("contact") or {}
        decisions = [r.get("event") or {} for r in found[:-1]]
        if contact.get("id") != contact_id or any(
            d.get("contact") != contact_id for d in decisions
        ):  # the journal was rewritten meanwhile
            raise StaleIndex(contact_id)
        return contact, decisions

    def forget(self, contact_id: str) -> None:
        """Delete a person's rows now (an erasure; the next fold starts anew)."""
        with self._lock, self._connection() as conn:
            conn.execute("DELETE FROM owner WHERE contact = ?", (contact_id,))
            conn.execute("DELETE FROM located WHERE contact = ?", (contact_id,))
            self._checked = None

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """This process's connection, opened again after a fork or if the file
        was replaced (a damaged one is removed by whoever finds it)."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = None
        try:
            if self._conn is None or self._pid != os.getpid() or inode != self._inode:
                self._open()
            yield self._conn
        except sqlite3.OperationalError:
            raise  # busy, locked, read-only: the file is fine
        except sqlite3.DatabaseError as e:
            log.error("%s is damaged (%s): it is folded anew", self.path, e)
            self.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
            raise

    def _open(self) -> None:
        self.close()
        # private, like the journal it is folded from (SQLite's own journal
        # file takes the database file's mode)
        if not os.path.exists(self.path):
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._conn, self._pid = conn, os.getpid()
        conn.execute("PRAGMA secure_delete = ON")
        for statement in SCHEMA:
            conn.execute(statement)
        self._inode = os.stat(self.path).st_ino

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        """Fold what was appended since the index last looked (cheap if nothing)."""
        now = (self.store.generation(), self.store.journal.size())
        if now == self._checked or self.store.rewriting():
            return
        generation, offsets = self._state(conn)  # another process may have folded
        if generation == now[0] and sum(offsets.values()) >= now[1]:
            self._checked = (generation, sum(offsets.values()))
            return
        conn.execute("BEGIN IMMEDIATE")  # one folds; the others then find it done
        try:
            generation, offsets = self._state(conn)
            if generation != now[0]:
                offsets = self._emptied(conn)
            try:
                self._fold(conn, offsets, now[0])
            except Rewound as e:
                log.warning("people journal %s was cut short: folding anew", e)
                offsets = self._emptied(conn)
                self._fold(conn, offsets, now[0])
            if self.store.rewriting() or self.store.generation() != now[0]:
                conn.execute("ROLLBACK")  # a rewrite overlapped: fold after it
                return
            self._keep(conn, now[0], offsets)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._checked = (now[0], sum(offsets.values()))

    @staticmethod
    def _emptied(conn: sqlite3.Connection) -> dict[str, int]:
        conn.execute("DELETE FROM owner")
        conn.execute("DELETE FROM located")
        return {}

    @staticmethod
    def _state(conn: sqlite3.Connection) -> tuple[int, dict[str, int]]:
        found = dict(conn.execute("SELECT key, value FROM state"))
        generation = int(found.get("generation", -1))
        return generation, orjson.loads(found.get("offsets", "{}"))

    @staticmethod
    def _keep(conn: sqlite3.Connection, generation: int, offsets: dict) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO state VALUES (?, ?)",
            [("generation", str(generation)), ("offsets", orjson.dumps(offsets))],
        )

    def _fold(
        self, conn: sqlite3.Connection, offsets: dict[str, int], generation: int
    ) -> None:
        """Fold the records after offsets, committing every BATCH of them at a
        line's end: a fold cut short (a worker's timeout) keeps what it did.
        A rewrite meanwhile moves the generation, and the next fold starts anew."""
        folded, line = 0, None
        for name, end, loc, record in Segments(self.store.journal.root).scan(offsets):
            if folded >= BATCH and (name, end) != line:
                self._keep(conn, generation, offsets)
                conn.execute("COMMIT")
                conn.execute("BEGIN IMMEDIATE")
                folded = 0
            line = (name, end)
            folded += 1
            contact, event = record.get("contact"), record.get("event")
            if contact:
                conn.execute("DELETE FROM owner WHERE contact = ?", (contact["id"],))
                conn.executemany(
                    "INSERT OR REPLACE INTO owner VALUES (?, ?)",
                    [(v, contact["id"]) for v in contact.get("visitors") or ()],
                )
                conn.execute(
                    "INSERT INTO located (contact, at) VALUES (?, ?) ON CONFLICT"
                    " (contact) DO UPDATE SET at = excluded.at",
                    (contact["id"], str(loc)),
                )
            if event:
                conn.execute(
                    "INSERT INTO located (contact, decided) VALUES (?, ?) ON CONFLICT"
                    " (contact) DO UPDATE SET decided = decided || ' ' || ?",
                    (event["contact"], str(loc), str(loc)),
                )
            offsets[name] = end

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn, self._checked, self._inode = None, None, None
