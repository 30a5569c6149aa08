"""`polku db migrate [--from-tinydb DIR]`: the schema; a TinyDB copy without loss."""

from __future__ import annotations

import pytest

from tracker.cli import cli
from tracker.storage.postgres import PostgresStorage
from tracker.storage.tinydb_store import TinyDBStorage

from .test_backends import contact, event


def polku_db(runner, url, *args):
    env = {"POLKU_DATABASE_URL": url, "POLKU_SECRET_KEY": "test-secret-key"}
    return runner.invoke(cli, ["db", "migrate", *args], env=env)


@pytest.fixture
def tinydb_dir(tmp_path):
    """A TinyDB data directory with a bit of everything, written through the API."""
    data = tmp_path / "old"
    storage = TinyDBStorage(str(data))
    for n in range(30):
        month = "10" if n < 10 else "11"
        storage.append_event(
            event(
                f"2026-{month}-0{n % 9 + 1}T10:00:00+00:00",
                visitor=f"v{n % 7}",
                path=f"/p{n % 4}/",
            )
        )
    storage.append_event(event(type="click", contact="c-1", title="nul \x00"))
    with storage.transaction() as people:
        for n in range(3):
            c = {
                **contact(f"p{n}@example.com", ref_code=f"R{n}", orders=[f"O{n}"]),
                "id": f"c-{n}",
            }
            people.save(
                c,
                {
                    "id": f"s{n}",
                    "ts": c["created"],
                    "type": "signup",
                    "contact": c["id"],
                },
            )
            people.save(
                {**c, "status": "confirmed"},
                {
                    "id": f"k{n}",
                    "ts": c["created"],
                    "type": "confirm",
                    "contact": c["id"],
                },
            )
    storage.ledger_add("digest-2026-11-23-abc123", "c-0")
    storage.ledger_add("digest-2026-11-23-abc123", "c-1")
    storage.ledger_add("feedback-asked", "c-0|2026-11-23")
    storage.update_meta("salts", lambda old: {"2026-11-23": "s1"})
    storage.update_meta("digest", lambda old: {"last": "2026-11-01"})
    storage.close()
    return data


@pytest.fixture
def copy_tinydb(runner, pg_url, tinydb_dir):
    """Run `polku db migrate --from-tinydb` from tinydb_dir into pg_url."""
    return lambda: polku_db(runner, pg_url, "--from-tinydb", str(tinydb_dir))


def comparable(storage) -> dict:
    """Everything a storage answers, in a comparable form."""
    people = list(storage.iter_people())
    with storage.transaction() as tx:
        keys = [tx.find_by("order", "O1")["id"], tx.find_by("ref_code", "R2")["id"]]
    return {
        "events": sorted(e["id"] + e["ts"] for e in storage.iter_events()),
        "contacts": [c for c, _ in people],
        "decisions": [[e["id"] for e in d] for _, d in people],
        "keys": keys,
        "ledgers": storage.ledger_keys("digest-2026-11-23-abc123"),
        "asked": storage.ledger_keys("feedback-asked"),
        "meta": [storage.get_meta("salts"), storage.get_meta("digest")],
        "summary": storage.summary(),
    }


def test_migrate_alone_makes_the_schema(runner, pg_url):
    first = polku_db(runner, pg_url)
    assert first.exit_code == 0, first.output
    assert "0001_initial" in first.output
    again = polku_db(runner, pg_url)
    assert "none needed" in again.output


def test_needs_a_postgresql_url(runner):
    result = runner.invoke(cli, ["db", "migrate"], env={"POLKU_SECRET_KEY": "x"})
    assert result.exit_code == 1 and "POLKU_DATABASE_URL" in result.output


def test_copy_from_tinydb_loses_nothing_and_reruns_safely(
    pg_url, tinydb_dir, copy_tinydb
):
    result = copy_tinydb()
    assert result.exit_code == 0, result.output
    lines = {
        line.split()[0]: line.split()[1:]
        for line in result.output.splitlines()
        if line.split()
        and line.split()[0] in ("events", "contacts", "decisions", "ledgers", "meta")
    }
    assert lines == {
        "events": ["31", "31"],
        "contacts": ["3", "3"],
        "decisions": ["6", "6"],
        "ledgers": ["3", "3"],
        "meta": ["2", "2"],
    }
    again = copy_tinydb()
    assert again.exit_code == 0, again.output
    assert "events             31         31" in again.output

    source, target = TinyDBStorage(str(tinydb_dir)), PostgresStorage(pg_url)
    try:
        assert comparable(target) == comparable(source)
    finally:
        source.close(), target.close()


def test_a_rerun_copies_what_the_old_servers_wrote_since(tinydb_dir, copy_tinydb):
    assert copy_tinydb().exit_code == 0
    old = TinyDBStorage(str(tinydb_dir))
    old.append_event(event(visitor="late"))
    old.close()
    result = copy_tinydb()
    assert result.exit_code == 0, result.output
    assert "events             32         32" in result.output


def test_counts_that_differ_fail(pg_url, copy_tinydb):
    target = PostgresStorage(pg_url)
    target.append_event(event(visitor="already-there"))
    target.close()
    result = copy_tinydb()
    assert result.exit_code == 1
    assert "counts differ for events" in result.output


def test_a_rerun_keeps_what_was_decided_in_postgresql(pg_url, copy_tinydb):
    assert copy_tinydb().exit_code == 0
    target = PostgresStorage(pg_url)
    with target.transaction() as people:
        current = people.get("c-1")
        gone = {"id": "u1", "ts": current["created"], "type": "unsubscribe"}
        people.save({**current, "status": "unsubscribed"}, {**gone, "contact": "c-1"})
    result = copy_tinydb()
    assert result.exit_code == 1 and "decisions" in result.output  # 6 vs 7
    assert target.get_contact("c-1")["status"] == "unsubscribed"
    assert target.get_contact("c-2")["status"] == "confirmed"
    target.close()


def test_a_rerun_after_an_erasure_is_refused(pg_url, copy_tinydb):
    assert copy_tinydb().exit_code == 0
    target = PostgresStorage(pg_url)
    assert target.erase_contact("c-2")
    result = copy_tinydb()
    assert result.exit_code == 1
    assert "1 people were erased in this database since the last copy" in result.output
    assert target.find_contact("p2@example.com") is None
    target.close()


def test_a_rerun_after_an_erasure_in_the_directory_is_refused(tinydb_dir, copy_tinydb):
    assert copy_tinydb().exit_code == 0
    old = TinyDBStorage(str(tinydb_dir))  # the old tracker, still running
    assert old.erase_contact("c-2")
    old.close()
    result = copy_tinydb()
    assert result.exit_code == 1
    assert "People were erased in" in result.output


def test_a_rerun_keeps_a_document_changed_in_postgresql(
    pg_url, tinydb_dir, copy_tinydb
):
    assert copy_tinydb().exit_code == 0
    target = PostgresStorage(pg_url)
    target.update_meta("digest", lambda old: {"last": "2026-11-20"})  # sent here
    old = TinyDBStorage(str(tinydb_dir))
    old.update_meta("salts", lambda old: {"2026-11-24": "s2"})  # rotated there
    old.close()
    assert copy_tinydb().exit_code == 0
    assert target.get_meta("digest") == {"last": "2026-11-20"}
    assert target.get_meta("salts") == {"2026-11-24": "s2"}
    target.close()


def test_a_directory_of_the_old_layout_is_copied_in_the_order_made(
    runner, pg_url, tmp_path
):
    """Servers of an earlier version wrote one people file per writer and month:
    the copy follows the order the decisions were made in, not the files'."""
    import psycopg

    from .test_people_journal import record, write_legacy

    data = tmp_path / "old"
    ann = {**contact("ann@example.com"), "id": "c-ann"}
    write_legacy(
        data,
        {
            "2026-11/host-1-aaaaaa.jsonl": [
                record(ann, "2026-11-02T10:00:00+00:00", "pending", "a1"),
                record(ann, "2026-11-02T10:00:09+00:00", "unsubscribed", "a3"),
            ],
            "2026-11/host-2-bbbbbb.jsonl": [
                record(ann, "2026-11-02T10:00:03+00:00", "confirmed", "a2"),
            ],
        },
    )
    (data / "journal" / "people.generation").write_text("2")  # two erasures
    assert polku_db(runner, pg_url).exit_code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:  # an earlier copy's mark
        conn.execute("UPDATE people_state SET copied_generation = 2")
    result = polku_db(runner, pg_url, "--from-tinydb", str(data))
    assert result.exit_code == 0, result.output  # converting is no erasure
    target = PostgresStorage(pg_url)
    assert target.get_contact("c-ann")["status"] == "unsubscribed"
    assert [e["id"] for e in target.decisions("c-ann")] == ["a1", "a2", "a3"]
    again = polku_db(runner, pg_url, "--from-tinydb", str(data))
    assert again.exit_code == 0, again.output
    assert [e["id"] for e in target.decisions("c-ann")] == ["a1", "a2", "a3"]
    target.close()
