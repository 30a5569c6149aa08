"""Copy a TinyDB data directory into PostgreSQL, without loss, safe to rerun.

- Events: each journal file is copied with COPY, one transaction per file and
  month, together with the file's copied length (`transfer_marks`): a rerun,
  or a second run after the old servers wrote more, copies only the rest.
- Contacts, their keys and decisions, ledgers and small documents: staged
  with COPY and merged on their natural keys (contact id, event id, ledger
  and key, meta key), so copying twice changes nothing. A person's decisions
  are inserted in the people journal's order, so that their `seq`, which
  orders them in PostgreSQL, follows the order they were made in (a
  directory of the old per-writer layout is converted first, on opening).
Then every table is counted on both sides; `Count.ok` says whether they agree.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby

import orjson
import psycopg
from tinydb import TinyDB

from .base import Record, StorageError
from .postgres import PostgresStorage
from .postgres.events import column, moment, month_of
from .postgres.people import keys_of
from .tinydb_store import TinyDBStorage

Progress = Callable[[int], None]
EVENT_COLUMNS = "COPY events (ts, type, visitor, contact, doc) FROM STDIN"
STEP = 10_000
SOURCE_FILES = ("journal", "keys.json")


@dataclass(frozen=True)
class Count:
    table: str
    source: int
    destination: int

    @property
    def ok(self) -> bool:
        return self.source == self.destination


def dumps(record: Record) -> str:
    return orjson.dumps(record).decode()


# -- events -------------------------------------------------------------------


def event_rows(records: Iterator[tuple[str, int, Record]]) -> Iterator[tuple]:
    for _, offset, event in records:
        at = moment(event["ts"])
        yield (
            month_of(at),
            offset,
            (
                at,
                column(event.get("type")) or "",
                column(event.get("visitor")),
                column(event.get("contact")),
                dumps(event),
            ),
        )


def copy_file(
    conn: psycopg.Connection,
    target: PostgresStorage,
    name: str,
    rows: Iterator,
    step: Progress,
) -> int:
    """Copy one journal file's rows after its mark; move the mark with them."""
    copied = 0
    for month, group in groupby(rows, key=lambda r: r[0]):
        target.partitions.ensure(conn, month)
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy(EVENT_COLUMNS) as copy:
                offset = 0
                for _, end, values in group:
                    copy.write_row(values)
                    offset = end
                    copied += 1
                    if copied % STEP == 0:
                        step(STEP)
            cur.execute(
                'INSERT INTO transfer_marks (file, "offset") VALUES (%s, %s) '
                'ON CONFLICT (file) DO UPDATE SET "offset" = excluded."offset"',
                [name, offset],
            )
    step(copied % STEP)
    return copied


def copy_events(source: TinyDBStorage, target: PostgresStorage, step: Progress) -> int:
    """Copy every journal file from its mark (the start, the first time)."""
    copied = 0
    with target.db.connect() as conn:
        marks = dict(conn.execute('SELECT file, "offset" FROM transfer_marks'))
        records = source.events.read(marks)
        for name, rows in groupby(records, key=lambda r: r[0]):
            copied += copy_file(conn, target, name, event_rows(rows), step)
    return copied


def source_lines(data_dir: str) -> int:
    """Lines in a TinyDB directory's events journal, counted fast (a progress bar's
    length: damaged lines, which are not copied, count here)."""
    total = 0
    for folder, _, names in os.walk(os.path.join(data_dir, "journal", "events")):
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                while chunk := f.read(8 << 20):
                    total += chunk.count(b"\n")
    return total


# -- people, ledgers, small documents -------------------------------------------

STAGE = """
CREATE TEMP TABLE stage_contacts (ord int, id text, email text, doc json)
    ON COMMIT DROP;
CREATE TEMP TABLE stage_keys (ord int, field text, value text, contact text)
    ON COMMIT DROP;
CREATE TEMP TABLE stage_decisions (ord int, contact text, ts text, doc json)
    ON COMMIT DROP;
"""
MERGE = """
CREATE INDEX ON stage_decisions (contact, (doc ->> 'id'));
ANALYZE stage_contacts, stage_decisions;
-- A copied contact replaces the stored one unless the database knows a decision
-- the copy does not (one made after the switch): that state is newer.
CREATE TEMP TABLE stage_kept ON COMMIT DROP AS
    SELECT d.contact AS id FROM decisions d
    JOIN stage_contacts c ON c.id = d.contact
    WHERE NOT EXISTS (
        SELECT 1 FROM stage_decisions s
        WHERE s.contact = d.contact AND s.doc ->> 'id' = d.doc ->> 'id');
DELETE FROM stage_contacts WHERE id IN (SELECT id FROM stage_kept);
DELETE FROM stage_keys WHERE contact IN (SELECT id FROM stage_kept);
INSERT INTO contacts (id, email, doc)
    SELECT id, email, doc FROM stage_contacts ORDER BY ord
    ON CONFLICT (id) DO UPDATE SET email = excluded.email, doc = excluded.doc;
DELETE FROM contact_keys WHERE contact IN (SELECT id FROM stage_contacts);
INSERT INTO contact_keys
    SELECT DISTINCT ON (field, value) field, value, contact FROM stage_keys
    ORDER BY field, value, ord DESC -- the latest owner, as the view has it
    ON CONFLICT (field, value) DO UPDATE SET contact = excluded.contact;
INSERT INTO decisions (contact, ts, doc)
    SELECT contact, ts, doc FROM stage_decisions ORDER BY ord
    ON CONFLICT (contact, (doc ->> 'id')) DO NOTHING;
UPDATE people_state SET version = version + 1;
"""


def copy_rows(conn: psycopg.Connection, table: str, rows: list[tuple]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def copy_people(source: TinyDBStorage, target: PostgresStorage) -> tuple[int, int]:
    contacts, keys, decisions = [], [], []
    for contact, timeline in source.iter_people():
        n = len(contacts)
        contacts.append((n, contact["id"], column(contact["email"]), dumps(contact)))
        keys += [(n, f, v, contact["id"]) for f, v in keys_of(contact)]
        decisions += [
            (len(decisions) + i, e["contact"], e["ts"], dumps(e))
            for i, e in enumerate(timeline)
        ]
    with target.db.transaction("people") as conn:
        refuse_undoing_erasures(conn, source)  # again, now that erasures wait
        conn.execute(STAGE)
        copy_rows(conn, "stage_contacts", contacts)
        copy_rows(conn, "stage_keys", keys)
        copy_rows(conn, "stage_decisions", decisions)
        conn.execute(MERGE)
        conn.execute(
            "UPDATE people_state SET erased_at_copy = erased, copied_generation = %s",
            [source.erasures()],
        )
    return len(contacts), len(decisions)


def source_ledgers(source: TinyDBStorage) -> set[tuple[str, str]]:
    """(ledger, key) pairs; a ledger's folder is its name (names are [a-z0-9-])."""
    return {(n.split("/")[0], r["k"]) for n, _, r in source.ledgers.read()}


def source_meta(data_dir: str) -> dict[str, object]:
    path = os.path.join(data_dir, "keys.json")
    if not os.path.isfile(path):
        return {}
    with TinyDB(path, access_mode="r") as db:
        return {doc["key"]: doc["value"] for doc in db.all()}


# A document is written unless it changed here since the copy last wrote it.
META_MERGE = """
INSERT INTO meta AS m (key, value) VALUES (%(key)s, %(value)s::json)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
    WHERE NOT EXISTS (SELECT 1 FROM transfer_meta t WHERE t.key = m.key)
       OR m.value::text
          = (SELECT t.value::text FROM transfer_meta t WHERE t.key = m.key)
RETURNING key
"""
META_COPIED = """
INSERT INTO transfer_meta (key, value) VALUES (%(key)s, %(value)s::json)
ON CONFLICT (key) DO UPDATE SET value = excluded.value
"""


def copy_small(target: PostgresStorage, ledgers: set, meta: dict) -> None:
    with target.db.transaction() as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO ledgers (ledger, key) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            sorted(ledgers),
        )
        for key, value in sorted(meta.items()):
            if cur.execute(META_MERGE, {"key": key, "value": dumps(value)}).fetchone():
                cur.execute(META_COPIED, {"key": key, "value": dumps(value)})


# -- the whole copy -------------------------------------------------------------


def destination_counts(target: PostgresStorage) -> dict[str, int]:
    tables = ("events", "contacts", "decisions", "ledgers", "meta")
    with target.db.connect() as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables
        }


class TransferRefused(StorageError):
    """Copying now would undo what was done in the database since."""


def refuse_undoing_erasures(conn: psycopg.Connection, source: TinyDBStorage) -> None:
    """Refuse to copy again once someone was erased since the last copy, here or
    in the directory: the copy would bring them back, or keep them."""
    erased, seen, generation = conn.execute(
        "SELECT erased, erased_at_copy, copied_generation FROM people_state"
    ).fetchone()
    if erased > (seen or 0):
        raise TransferRefused(
            f"{erased - (seen or 0)} people were erased in this database since "
            f"the last copy; copying {source.dir} again would bring them back. "
            "Copy into a fresh database instead."
        )
    if generation is not None and source.erasures() != generation:
        raise TransferRefused(
            f"People were erased in {source.dir} since the last copy; this "
            "database still holds them. Copy into a fresh database instead."
        )


def copy_tinydb(
    data_dir: str, target: PostgresStorage, step: Progress = lambda n: None
) -> list[Count]:
    """Copy everything; return the counts per table, source against destination.

    step(n) is called as events are copied (see source_lines).
    """
    if not any(os.path.exists(os.path.join(data_dir, n)) for n in SOURCE_FILES):
        raise FileNotFoundError(f"{data_dir} holds no TinyDB data (no journal/).")
    source = TinyDBStorage(data_dir)
    try:
        with target.db.connect() as conn:
            refuse_undoing_erasures(conn, source)  # before the long part
        copy_events(source, target, step)
        contacts, decisions = copy_people(source, target)
        ledgers, meta = source_ledgers(source), source_meta(data_dir)
        copy_small(target, ledgers, meta)
        events = sum(1 for _ in source.events.read())
    finally:
        source.close()
    found = destination_counts(target)
    sources = {
        "events": events,
        "contacts": contacts,
        "decisions": decisions,
        "ledgers": len(ledgers),
        "meta": len(meta),
    }
    return [Count(t, n, found[t]) for t, n in sources.items()]
