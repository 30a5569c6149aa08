"""Contacts in PostgreSQL: a People that reads and writes inside one transaction.

A people transaction takes one advisory lock, like the embedded backend's
file lock: two servers never decide about the same person at once, and each
sees what the other committed. The unique keys (email, ref_code, order ids)
are the last line of defence.

A person's decisions are read in `seq` order: the sequence is drawn while the
lock is held, and the lock is let go at commit, so `seq` follows the order in
which the decisions were made, whatever the servers' clocks said (`ts`).
"""

from __future__ import annotations

import re
from collections.abc import Collection

import psycopg
from psycopg.types.json import Json

from ...journey import facts
from ..base import People, Record
from ..view import INDEXED
from .db import Database
from .events import column

SELECT = "SELECT c.doc FROM contacts c"


def keys_of(contact: Record) -> list[tuple[str, str]]:
    """The (field, value) pairs find_by looks a contact up by; a visitor id, to
    its browser's owner (whoever last proved it theirs, as the view has it)."""
    keys = [(f, contact[f]) for f in INDEXED if contact.get(f)]
    keys += [("order", o) for o in contact.get("orders", [])]
    keys += [("visitor", v) for v in dict.fromkeys(contact.get("visitors") or ())]
    return [(f, column(v)) for f, v in keys]


def one(conn: psycopg.Connection, query: str, params: list) -> Record | None:
    found = conn.execute(query, params).fetchone()
    return None if found is None else found[0]


def save_contact(
    conn: psycopg.Connection, contact: Record, event: Record | None = None
) -> None:
    """Store the contact's state, its facts after event, and its keys (a key
    moves to its latest owner)."""
    conn.execute(
        "INSERT INTO contacts (id, email, doc, facts) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (id) DO UPDATE SET email = excluded.email, doc = excluded.doc,"
        " facts = excluded.facts",
        [
            contact["id"],
            column(contact["email"]),
            Json(contact),
            facts_after(conn, contact, event),
        ],
    )
    conn.execute("DELETE FROM contact_keys WHERE contact = %s", [contact["id"]])
    keys = keys_of(contact)
    if keys:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO contact_keys (field, value, contact) VALUES (%s, %s, %s) "
                "ON CONFLICT (field, value) DO UPDATE SET contact = excluded.contact",
                [(f, v, contact["id"]) for f, v in keys],
            )


def facts_after(
    conn: psycopg.Connection, contact: Record, event: Record | None
) -> Json | None:
    """The contact's facts with this save folded in; None while a contact saved
    before facts were kept has none yet (fill_facts works them out whole)."""
    found = conn.execute(
        "SELECT facts FROM contacts WHERE id = %s", [contact["id"]]
    ).fetchone()
    if found is not None and found[0] is None:
        return None
    return Json(facts.step(found and found[0], contact, event))


def fill_facts(conn: psycopg.Connection, batch: int = 2000) -> int:
    """Work out the facts of up to batch contacts that have none, from their
    whole timelines (under the people lock); return how many."""
    found = conn.execute(
        "SELECT id, doc FROM contacts WHERE facts IS NULL ORDER BY seq LIMIT %s",
        [batch],
    ).fetchall()
    if not found:
        return 0
    timelines: dict[str, list[Record]] = {}
    decided = conn.execute(
        "SELECT contact, doc FROM decisions WHERE contact = ANY(%s) ORDER BY seq",
        [[contact_id for contact_id, _ in found]],
    )
    for contact_id, doc in decided:
        timelines.setdefault(contact_id, []).append(doc)
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE contacts SET facts = %s WHERE id = %s",
            [(Json(facts.of(doc, timelines.get(i, []))), i) for i, doc in found],
        )
    return len(found)


def save_decision(conn: psycopg.Connection, event: Record) -> None:
    """Add an event to its contact's timeline, once per event id."""
    conn.execute(
        "INSERT INTO decisions (contact, ts, doc) VALUES (%s, %s, %s) "
        "ON CONFLICT (contact, (doc ->> 'id')) DO NOTHING",
        [event["contact"], event["ts"], Json(event)],
    )


ERASE = """
DELETE FROM contact_keys WHERE contact = %(id)s;
DELETE FROM decisions WHERE contact = %(id)s;
UPDATE events SET contact = %(blank)s, doc = replace(doc::text, %(id)s, %(blank)s)::json
    WHERE contact = %(id)s;
UPDATE contacts SET doc = replace(doc::text, %(id)s, %(blank)s)::json
    WHERE strpos(doc::text, %(id)s) > 0;
UPDATE decisions SET doc = replace(doc::text, %(id)s, %(blank)s)::json
    WHERE strpos(doc::text, %(id)s) > 0;
UPDATE contacts SET facts = replace(facts::text, %(id)s, %(blank)s)::jsonb
    WHERE referred_by = %(id)s;
INSERT INTO ledgers (ledger, key, ts)
    SELECT ledger, replace(key, %(id)s, %(blank)s), ts FROM ledgers
    WHERE strpos(key, %(id)s) > 0
    ON CONFLICT DO NOTHING;
DELETE FROM ledgers WHERE strpos(key, %(id)s) > 0;
UPDATE people_state SET erased = erased + 1
"""


def erase(conn: psycopg.Connection, contact_id: str) -> bool:
    """Delete a contact and what is theirs; overwrite their id everywhere else.

    The id becomes as many x's (never a valid id), as the embedded backend
    writes it; the events that carry it are found by their indexed column.
    """
    gone = conn.execute(
        "DELETE FROM contacts WHERE id = %s RETURNING id", [contact_id]
    ).fetchone()
    if gone is None:
        return False
    params = {"id": contact_id, "blank": "x" * len(contact_id)}
    for statement in ERASE.split(";"):
        conn.execute(statement, params)
    return True


def bump_version(conn: psycopg.Connection) -> None:
    conn.execute("UPDATE people_state SET version = version + 1")


class PgPeople(People):
    """The contacts as one database transaction sees them (its own saves too)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.saved = 0

    def get(self, contact_id: str) -> Record | None:
        return one(self.conn, SELECT + " WHERE c.id = %s", [contact_id])

    def find(self, email: str) -> Record | None:
        return one(self.conn, SELECT + " WHERE c.email = %s", [column(email)])

    def find_by(self, field: str, value: str) -> Record | None:
        return one(
            self.conn,
            SELECT + " JOIN contact_keys k ON k.contact = c.id"
            " WHERE k.field = %s AND k.value = %s",
            [field, column(value)],
        )

    def save(self, contact: Record, event: Record | None = None) -> None:
        save_contact(self.conn, contact, event)
        if event:
            save_decision(self.conn, event)
        self.saved += 1


def read_everyone(db: Database) -> tuple[int, list[tuple[Record, list[Record]]]]:
    """(people version, [(contact, decisions oldest first)]) from one snapshot."""
    with db.connect() as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        version = conn.execute("SELECT version FROM people_state").fetchone()[0]
        contacts = conn.execute("SELECT doc FROM contacts ORDER BY seq").fetchall()
        found = conn.execute("SELECT contact, doc FROM decisions ORDER BY contact, seq")
        timelines: dict[str, list[Record]] = {}
        for contact_id, doc in found:
            timelines.setdefault(contact_id, []).append(doc)
    return version, [(c, timelines.get(c["id"], [])) for (c,) in contacts]


def contacts_page(
    conn: psycopg.Connection, offset: int, limit: int, search: str, stage: str = ""
) -> tuple[list[tuple[Record, list[Record]]], int]:
    """A page of people, last seen first, from the `last_seen` index; a search
    matches the email or first name, as the other backends do; a stage, the
    facts' (its own index)."""
    conditions, params = [], []
    if search:
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", column(search)) + "%"
        conditions.append("(c.email LIKE %s OR c.first_name LIKE %s)")
        params += [pattern, pattern]
    if stage:
        conditions.append("c.stage = %s")
        params.append(stage)
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    order = " ORDER BY c.last_seen DESC, c.seq LIMIT %s OFFSET %s"
    if search:
        # No index serves a substring: one scan finds the matches (the fence,
        # OFFSET 0, keeps the planner from walking the last_seen index and
        # visiting every row in its order), then only the page's are read.
        found = conn.execute(
            "SELECT m.id, count(*) OVER () FROM (SELECT c.id, c.last_seen, c.seq"
            " FROM contacts c" + where + " OFFSET 0) m"
            " ORDER BY m.last_seen DESC, m.seq LIMIT %s OFFSET %s",
            [*params, limit, offset],
        ).fetchall()
        total = found[0][1] if found else 0
        if not found and offset:
            total = conn.execute("SELECT count(*) FROM contacts c" + where, params)
            total = total.fetchone()[0]
        ids = [row[0] for row in found]
        docs = dict(
            conn.execute(
                "SELECT c.id, c.doc FROM contacts c WHERE c.id = ANY(%s)", [ids]
            ).fetchall()
        )
        found = [(docs[i],) for i in ids if i in docs]
    else:
        total = conn.execute("SELECT count(*) FROM contacts c" + where, params)
        total = total.fetchone()[0]
        found = conn.execute(
            "SELECT c.doc FROM contacts c" + where + order, [*params, limit, offset]
        ).fetchall()
    contacts = [row[0] for row in found]
    timelines: dict[str, list[Record]] = {}
    decided = conn.execute(
        "SELECT contact, doc FROM decisions WHERE contact = ANY(%s) ORDER BY seq",
        [[c["id"] for c in contacts]],
    )
    for contact_id, doc in decided:
        timelines.setdefault(contact_id, []).append(doc)
    return [(c, timelines.get(c["id"], [])) for c in contacts], total


def people_facts(
    conn: psycopg.Connection,
    since: str | None,
    until: str | None,
    referred: bool,
    stages: Collection[str] = (),
    having: str | None = None,
) -> list[Record]:
    """The facts of the people with something in [since, until] (by the span's
    index), or of everyone referred and their referrers; only at these stages,
    only those whose facts hold `having` (each has a partial index)."""
    if referred:
        query = (
            "SELECT facts FROM contacts WHERE referred_by IS NOT NULL OR id IN"
            " (SELECT referred_by FROM contacts WHERE referred_by IS NOT NULL)"
        )
        return [doc for (doc,) in conn.execute(query)]
    conditions, params = ["facts IS NOT NULL"], []
    if since:
        conditions.append("active_last >= %s")
        params.append(since[:10])
    if until:
        conditions.append("active_first <= %s")
        params.append(until[:10])
    if stages:
        conditions.append("stage = ANY(%s)")
        params.append(list(stages))
    if having is not None:
        if having not in facts.HAVING:
            raise ValueError(f"no index for facts holding {having!r}")
        conditions.append(f"facts ? '{having}'")  # as the partial index says it
    query = "SELECT facts FROM contacts WHERE " + " AND ".join(conditions)
    return [doc for (doc,) in conn.execute(query, params)]
