"""What only the PostgreSQL backend has: servers sharing one database.

Each test gets a fresh schema (see tests/pg.py); several `PostgresStorage`
instances on it stand for several tracker processes on several machines.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tracker.storage import StorageUnavailable, open_storage
from tracker.storage.postgres import PostgresStorage
from tracker.storage.postgres.db import migrate, migration_files

from .test_backends import contact, event

TS = "2026-11-20T10:00:00+00:00"


@pytest.fixture
def two(pg_url):
    one, other = PostgresStorage(pg_url), PostgresStorage(pg_url)
    yield one, other
    one.close(), other.close()


def sql(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def test_the_url_chooses_postgresql(pg_url, tmp_path):
    backend = open_storage({"DATABASE_URL": pg_url, "DATA_DIR": str(tmp_path)})
    assert isinstance(backend, PostgresStorage)
    backend.close()


def test_migrations_apply_once_and_are_recorded(pg_url, two):
    one, other = two
    one.get_meta("x"), other.get_meta("x")  # both open (and migrate) the schema
    versions = [v for v, _ in migration_files()]
    assert versions[0] == "0001_initial"
    recorded = sql(pg_url, "SELECT version FROM schema_migrations ORDER BY 1")
    assert [v for (v,) in recorded] == versions
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert migrate(conn) == []


def test_events_go_to_their_month_partition(pg_url, storage_pg):
    storage_pg.append_event(event("2026-11-30T23:59:59+00:00"))
    storage_pg.append_event(event("2026-12-01T00:00:00+00:00"))
    counts = sql(
        pg_url,
        "SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1 ORDER BY 1",
    )
    assert counts == [("events_2026_11", 1), ("events_2026_12", 1)]


def test_next_months_partition_is_made_ahead_without_waiting_on_readers(
    pg_url, storage_pg
):
    storage_pg.append_event(event("2026-11-20T10:00:00+00:00"))
    assert sql(pg_url, "SELECT to_regclass('events_2026_12')::text") == [
        ("events_2026_12",)
    ]
    with psycopg.connect(pg_url) as reader:  # a long read: a backup, a cold fold
        reader.execute("SELECT count(*) FROM events").fetchone()
        other = PostgresStorage(pg_url)  # another server, new to these months
        started = time.monotonic()
        other.append_event(event("2026-12-01T00:00:01+00:00"))  # the turn
        assert time.monotonic() - started < 10  # not queued behind the reader
        other.close()
    assert sql(pg_url, "SELECT to_regclass('events_2027_01')::text") == [(None,)]
    storage_pg.append_event(event("2026-12-02T10:00:00+00:00"))  # reader gone
    stored = sql(pg_url, "SELECT tableoid::regclass::text FROM events ORDER BY ts")
    assert stored == [("events_2026_11",), ("events_2026_12",), ("events_2026_12",)]
    assert sql(pg_url, "SELECT to_regclass('events_2027_01')::text") == [
        ("events_2027_01",)
    ]


def test_dropping_a_month_keeps_its_aggregates(pg_url, storage_pg):
    storage_pg.append_event(event("2026-10-05T10:00:00+00:00", visitor="a"))
    storage_pg.append_event(event("2026-11-05T10:00:00+00:00", visitor="b"))
    assert storage_pg.summary()["pageviews"] == 2
    sql(pg_url, "DROP TABLE events_2026_10")  # retention
    assert [e["visitor"] for e in storage_pg.iter_events()] == ["b"]
    assert storage_pg.summary()["pageviews"] == 2


def test_documents_keep_what_jsonb_would_refuse(storage_pg):
    storage_pg.append_event(event(title="nul \x00 inside", visitor="v\x00"))
    (stored,) = storage_pg.iter_events()
    assert stored["title"] == "nul \x00 inside" and stored["visitor"] == "v\x00"


def test_summary_counts_what_other_servers_stored(two):
    one, other = two
    one.append_event(event(visitor="a"))
    other.append_event(event(visitor="b"))
    assert one.summary()["visitors"] == other.summary()["visitors"] == 2
    one.append_event(event(visitor="c"))
    assert other.summary()["visitors"] == 3 and one.summary()["visitors"] == 3


def test_an_event_committed_late_is_folded_once(pg_url, two):
    """seq order is not commit order: an open transaction's event is not skipped."""
    one, other = two
    one.append_event(event(visitor="first"))
    late = psycopg.connect(pg_url)  # a transaction that stays open
    late.execute(
        "INSERT INTO events (ts, type, visitor, doc) VALUES (%s, 'pageview', 'late',"
        " %s::json)",
        [TS, json.dumps({"id": "l", "ts": TS, "type": "pageview", "visitor": "late"})],
    )
    other.append_event(event(visitor="after"))  # a later xid, committed first
    assert one.summary()["pageviews"] == 2  # "after" need not wait for it
    late.commit()
    late.close()
    assert one.summary()["pageviews"] == 3
    assert other.summary()["pageviews"] == 3
    assert one.summary()["pageviews"] == 3  # nothing folded twice


def test_a_long_transaction_elsewhere_on_the_server_holds_no_number_back(pg_url, two):
    """A COPY or a backup in another database (another test run): the oldest
    running transaction is server-wide, yet every new event is counted, once."""
    one, other = two
    one.append_event(event(visitor="before"))
    assert one.summary()["pageviews"] == 1
    elsewhere = make_conninfo(pg_url, dbname="postgres", options="")
    with psycopg.connect(elsewhere) as long:
        long.execute("SELECT pg_current_xact_id()")  # an xid, left running
        one.append_event(event(visitor="a"))
        other.append_event(event(visitor="b"))
        assert one.summary()["pageviews"] == other.summary()["pageviews"] == 3
        one.append_event(event(visitor="c"))
        assert other.summary()["visitors"] == one.summary()["visitors"] == 4
        long.rollback()
    assert one.summary()["pageviews"] == other.summary()["pageviews"] == 4
    fresh = PostgresStorage(pg_url)  # reads only the days written back
    assert fresh.summary()["pageviews"] == 4
    fresh.close()


def test_a_summary_with_nothing_new_writes_nothing(pg_url, storage_pg):
    storage_pg.append_event(event(visitor="a"))
    assert storage_pg.summary()["pageviews"] == 1
    state = sql(pg_url, "SELECT folded::text, rev FROM aggregate_state")
    sql(pg_url, "SELECT pg_current_xact_id()")  # the server moves on meanwhile
    assert storage_pg.summary()["pageviews"] == 1
    assert sql(pg_url, "SELECT folded::text, rev FROM aggregate_state") == state
    storage_pg.append_event(event(visitor="b"))
    assert storage_pg.summary()["pageviews"] == 2


def test_erase_is_seen_by_every_server(pg_url, two):
    one, other = two
    c = contact(visitors=["v1"])
    friend = contact("friend@example.com", referred_by=c["id"])
    with one.transaction() as people:
        signup = {"id": "s", "ts": c["created"], "type": "signup", "contact": c["id"]}
        people.save(c, signup)
        people.save(friend)
    one.append_event(event(visitor="v1"))
    one.append_event(event(type="click", contact=c["id"]))
    one.ledger_add("digest-1", c["id"])
    one.ledger_add("digest-1", friend["id"])
    assert other.find_contact(c["email"])["id"] == c["id"]
    version = other.people_version()
    assert one.erase_contact(c["id"])
    assert other.find_contact(c["email"]) is None and other.decisions(c["id"]) == []
    assert other.people_version() != version
    blank = "x" * len(c["id"])  # as the embedded backend blanks it
    assert [e.get("contact") for e in other.iter_events()] == [None, blank]
    assert other.ledger_keys("digest-1") == {friend["id"], blank}
    assert other.get_contact(friend["id"])["referred_by"] == blank
    stored = pg_dump(pg_url)
    assert c["email"].encode() not in stored and c["id"].encode() not in stored


def test_two_erased_ids_in_one_ledger_become_one_blank(two):
    one, _ = two
    ids = [contact(f"{n}@example.com") for n in range(2)]
    with one.transaction() as people:
        for c in ids:
            people.save(c)
    for c in ids:
        one.ledger_add("digest-1", c["id"])
    for c in ids:
        assert one.erase_contact(c["id"])
    assert one.ledger_keys("digest-1") == {"x" * len(ids[0]["id"])}


def pg_dump(url: str) -> bytes:
    from ..pg import dump

    return dump(url)


def test_one_person_decided_by_two_servers_at_once_is_one_contact(two):
    """The people lock: each transaction sees what the other committed."""
    one, other = two
    errors = []

    def signup(storage, n):
        try:
            with storage.transaction() as people:
                if people.find("same@example.com") is None:
                    people.save(contact("same@example.com", n=n))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [
        threading.Thread(target=signup, args=((one, other)[n % 2], n)) for n in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(list(one.iter_contacts())) == 1


def test_an_order_id_is_recorded_once_across_servers(two):
    one, other = two
    buyer = contact("buyer@example.com", orders=[])
    with one.transaction() as people:
        people.save(buyer)

    def order(storage):
        with storage.transaction() as people:
            if people.find_by("order", "A-1") is None:
                current = people.get(buyer["id"])
                people.save({**current, "orders": [*current["orders"], "A-1"]})

    threads = [threading.Thread(target=order, args=(s,)) for s in (one, other) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert one.get_contact(buyer["id"])["orders"] == ["A-1"]


def test_meta_updates_from_many_servers_never_collide(two):
    one, other = two

    def bump(storage):
        for _ in range(20):
            storage.update_meta("n", lambda old: (old or 0) + 1)

    threads = [threading.Thread(target=bump, args=(s,)) for s in (one, other) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert one.get_meta("n") == other.get_meta("n") == 80


def test_a_ledger_key_is_recorded_once_across_servers(two):
    one, other = two
    one.ledger_add("digest-1", "c1")
    other.ledger_add("digest-1", "c1")
    other.ledger_add("digest-1", "c2")
    assert one.ledger_keys("digest-1") == {"c1", "c2"}


def test_an_unreachable_database_is_unavailable():
    storage = PostgresStorage(
        "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=2"
    )
    with pytest.raises(StorageUnavailable, match="database is unavailable"):
        storage.append_event(event())
    with pytest.raises(StorageUnavailable):
        storage.get_meta("salts")
    storage.close()


def cut_sessions(pg_url: str) -> None:
    """The database restarts: every session of this schema is cut."""
    schema = sql(pg_url, "SELECT current_schema()")[0][0]
    sql(
        pg_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name = %s AND pid <> pg_backend_pid()",
        [schema],
    )


@pytest.mark.parametrize("app_factory", ["postgres"], indirect=True)
def test_a_lost_connection_answers_503_then_recovers(pg_url, app_factory):
    """Pageviews inserted by their requests (no shipper) need the database."""
    from ..web.test_collect import GOOD, send

    client = app_factory(SHIP_INTERVAL=0).test_client()
    assert send(client, GOOD).status_code == 202
    cut_sessions(pg_url)
    lost = send(client, GOOD)
    assert lost.status_code == 503 and lost.get_json()["ok"] is False
    assert lost.headers["Retry-After"]
    assert send(client, GOOD).status_code == 202


@pytest.mark.parametrize("app_factory", ["postgres"], indirect=True)
def test_a_lost_connection_still_acknowledges_pageviews(pg_url, app_factory):
    """Journaled pageviews need no database; a signup does, and answers 503
    until it is back. The pageviews are all shipped afterwards."""
    from ..conftest import SITE
    from ..web.test_collect import GOOD, send

    client = app_factory().test_client()
    signup = {"email": "j@example.com", "consent_newsletter": True}
    headers = {"Origin": SITE, "Accept": "application/json"}
    assert send(client, GOOD).status_code == 202
    assert client.post("/subscribe", json=signup, headers=headers).status_code == 200
    cut_sessions(pg_url)
    assert send(client, GOOD).status_code == 202
    lost = client.post("/subscribe", json=signup, headers=headers)
    assert lost.status_code == 503 and lost.get_json()["ok"] is False
    assert lost.headers["Retry-After"]
    assert client.post("/subscribe", json=signup, headers=headers).status_code == 200
    assert send(client, GOOD).status_code == 202
    with client.application.app_context():
        from tracker.db import get_storage

        assert len(list(get_storage().iter_events())) == 3


@pytest.fixture
def storage_pg(pg_url):
    backend = PostgresStorage(pg_url)
    yield backend
    backend.close()


def test_schema_fixture_is_empty(storage_pg):
    assert list(storage_pg.iter_events()) == []
    assert storage_pg.get_meta(uuid.uuid4().hex) is None


def test_an_events_lazy_commit_does_not_leak_to_the_next_statement(storage_pg):
    """The setting lasts for the event's own transaction; a decision made next
    on a pooled connection still waits for the flush."""
    storage_pg.append_event(event())
    with storage_pg.db.connect() as conn:  # the pool's connection (it has one)
        assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"


def test_everyone_is_read_again_when_another_server_changes_people(two):
    one, other = two
    first = contact("first@example.com")
    with one.transaction() as people:
        people.save(first)
    assert [c["email"] for c in other.iter_contacts()] == ["first@example.com"]
    with one.transaction() as people:
        people.save(contact("second@example.com"))
    assert len(list(other.iter_people())) == 2
    one.erase_contact(first["id"])
    assert [c["email"] for c, _ in other.iter_people()] == ["second@example.com"]


def test_the_upgrade_keys_the_browsers_of_contacts_saved_before(storage_pg):
    """Migration 0010 gives each visitor id to the newest contact holding it."""
    first = contact("a@example.com", visitors=["shared", "a-only"])
    later = contact("b@example.com", visitors=["shared"])
    with storage_pg.transaction() as tx:
        tx.save(first)
        tx.save(later)
    sql = dict(migration_files())["0010_visitor_owners"]
    with storage_pg.db.connect() as conn:
        conn.execute("DELETE FROM contact_keys WHERE field = 'visitor'")
        conn.execute(sql)
    assert storage_pg.visitor_owner("shared") == later["id"]
    assert storage_pg.visitor_owner("a-only") == first["id"]


def test_a_server_holds_only_the_days_it_is_asked_for(two):
    """A month's summary reads that month's days; an event for a day not held
    is folded into the stored day, not into an empty one."""
    one, other = two
    for day in ("2026-09-10", "2026-10-05", "2026-11-20"):
        one.append_event(event(f"{day}T10:00:00+00:00", visitor="a" + day))
    before = one.summary()
    november = other.summary("2026-11-01", "2026-11-30")
    assert november["pageviews"] == 1
    assert sorted(other.stats.stats.days) == ["2026-11-20"]
    other.append_event(event("2026-10-05T12:00:00+00:00", visitor="late"))
    assert other.summary("2026-11-01", "2026-11-30") == november
    after = other.summary()
    assert (after["pageviews"], after["visitors"]) == (4, before["visitors"] + 1)
    assert one.summary() == after
