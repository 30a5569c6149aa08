"""The PostgreSQL backend's shipper: pageviews journaled, then copied in once.

Each test gets a fresh schema; a `PostgresStorage` with a data directory is one
tracker process of one server, and processes that die are real processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tracker.storage import StorageUnavailable, open_storage
from tracker.storage.postgres import PostgresStorage
from tracker.storage.postgres.shipper import BATCH_BYTES

from ..conftest import ROOT, without_developer_settings
from .test_backends import contact, event

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere?connect_timeout=1"


def shipping(url: str, data_dir: Path, interval: float = 0.2) -> PostgresStorage:
    return open_storage(
        {"DATABASE_URL": url, "DATA_DIR": str(data_dir), "SHIP_INTERVAL": interval}
    )


def sql(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def stored_ids(url: str) -> Counter:
    return Counter(i for (i,) in sql(url, "SELECT doc ->> 'id' FROM events"))


def journal_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "journal" / "pg-events").glob("*/*.jsonl"))


def python(code: str, **env: str) -> subprocess.Popen:
    """Run code in a new Python process, from the repository."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**without_developer_settings(os.environ), **env},
    )


def test_a_pageview_is_acknowledged_without_the_database(tmp_path):
    storage = shipping(UNREACHABLE, tmp_path)
    storage.append_event(event(path="/while-down/"))  # no round trip, no 503
    (line,) = journal_files(tmp_path)
    assert b"/while-down/" in line.read_bytes()
    with pytest.raises(StorageUnavailable):
        storage.iter_events()  # a read needs the database
    storage.close()  # the line stays for the next start
    assert b"/while-down/" in line.read_bytes()


def test_the_writer_reads_its_own_pageviews_at_once(pg_url, tmp_path):
    storage = shipping(pg_url, tmp_path, interval=60)
    storage.append_event(event(visitor="a"))
    assert [e["visitor"] for e in storage.iter_events()] == ["a"]
    assert storage.summary()["pageviews"] == 1
    assert storage.events_of_visitors({"a"}, "2026-01-01") != []
    storage.close()


def test_another_server_sees_them_within_two_seconds(pg_url, tmp_path):
    writer = shipping(pg_url, tmp_path / "one", interval=0.5)
    reader = shipping(pg_url, tmp_path / "two")
    writer.append_event(event(visitor="a"))
    started = time.monotonic()
    while reader.summary()["pageviews"] == 0:
        assert time.monotonic() - started < 2, "not shipped within two seconds"
        time.sleep(0.05)
    writer.close(), reader.close()


def test_documents_come_through_byte_for_byte(pg_url, tmp_path):
    storage = shipping(pg_url, tmp_path)
    odd = event(
        title='back\\slash \t tab \n newline \r " quote \x00 nul é 🦊 \\N \\.',
        visitor="v\x00\t",
        props={"k\\": "\\x"},
    )
    storage.append_event(odd)
    assert list(storage.iter_events()) == [odd]
    storage.close()


def test_events_go_to_their_utc_months_partition(pg_url, tmp_path):
    storage = shipping(pg_url, tmp_path)
    storage.append_event(event("2026-11-30T23:59:59+00:00"))
    storage.append_event(event("2026-12-01T01:30:00+02:00"))  # November in UTC
    storage.append_event(event("2026-12-01T00:00:00+00:00"))
    storage.caught_up()
    counts = sql(
        pg_url,
        "SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1 ORDER BY 1",
    )
    assert counts == [("events_2026_11", 2), ("events_2026_12", 1)]
    storage.close()


def test_an_event_naming_a_person_is_inserted_at_once(pg_url, tmp_path):
    """Erasing them must find it in the database, not in a journal elsewhere."""
    storage = shipping(pg_url, tmp_path, interval=60)
    c = contact()
    with storage.transaction() as people:
        people.save(c)
    storage.append_event(event(type="click", contact=c["id"]))
    assert [r for (r,) in sql(pg_url, "SELECT contact FROM events")] == [c["id"]]
    assert journal_files(tmp_path) == []
    assert storage.erase_contact(c["id"])
    assert c["id"] not in str(sql(pg_url, "SELECT doc::text FROM events"))
    storage.close()


def test_a_half_written_last_line_is_never_shipped(pg_url, tmp_path):
    storage = shipping(pg_url, tmp_path, interval=60)
    storage.append_event(event(path="/whole/"))
    (path,) = journal_files(tmp_path)
    with open(path, "ab") as f:
        f.write(b'{"id":"torn","ts":"2026-11-20T10:00:00+00:00","ty')
    assert [e["path"] for e in storage.iter_events()] == ["/whole/"]
    assert storage.shipper._shipped[f"{path.parent.name}/{path.name}"] < len(
        path.read_bytes()
    )
    storage.close()


def test_a_damaged_line_is_passed_and_the_rest_shipped(pg_url, tmp_path):
    storage = shipping(pg_url, tmp_path, interval=60)
    storage.append_event(event(path="/a/"))
    (path,) = journal_files(tmp_path)
    with open(path, "ab") as f:
        f.write(b"not json\n")
    storage.append_event(event(path="/b/"))
    assert [e["path"] for e in storage.iter_events()] == ["/a/", "/b/"]
    storage.close()


def test_a_dead_processs_journal_is_shipped_once_then_deleted(pg_url, tmp_path):
    """The process wrote and was killed before shipping; the next one ships it."""
    writer = python(
        f"""
        import os, signal
        from tracker.storage import open_storage
        s = open_storage({{"DATABASE_URL": {pg_url!r}, "DATA_DIR": {str(tmp_path)!r},
                          "SHIP_INTERVAL": 3600}})
        for i in range(2500):
            s.append_event({{"id": f"dead-{{i}}", "ts": "2026-11-20T10:00:00+00:00",
                            "type": "pageview", "path": "/"}})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    assert writer.wait(timeout=60) == -signal.SIGKILL
    (left,) = journal_files(tmp_path)
    storage = shipping(pg_url, tmp_path, interval=60)
    storage.get_meta("migrated")  # the schema exists; nothing shipped yet
    assert stored_ids(pg_url) == Counter()
    storage.append_event(event(path="/alive/"))  # this process's own file
    assert len(list(storage.iter_events())) == 2501
    assert not left.exists(), "a shipped file of a dead writer stays"
    assert len(journal_files(tmp_path)) == 1  # this process's own stays
    assert len(list(storage.iter_events())) == 2501
    assert set(stored_ids(pg_url).values()) == {1}
    storage.close()


def test_a_shipper_killed_inside_its_transaction_loses_and_doubles_nothing(
    pg_url, tmp_path
):
    """Killed with the rows copied and the mark not yet committed: the next
    shipper copies them again, once."""
    storage = shipping(pg_url, tmp_path, interval=3600)
    for i in range(3000):
        storage.append_event(event(id=f"e-{i}"))
    storage.get_meta("migrated")  # the schema exists
    stall = (
        "CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$; "
        "CREATE TRIGGER stall BEFORE UPDATE ON transfer_marks "
        "FOR EACH ROW EXECUTE FUNCTION stall()"
    )
    sql(pg_url, stall)
    shipper = python(
        f"""
        from tracker.storage import open_storage
        s = open_storage({{"DATABASE_URL": {pg_url!r}, "DATA_DIR": {str(tmp_path)!r},
                          "SHIP_INTERVAL": 3600}})
        s.shipper.ship()
        """
    )
    schema = sql(pg_url, "SELECT current_schema()")[0][0]
    deadline = time.monotonic() + 30
    while not sql(
        pg_url,
        "SELECT 1 FROM pg_stat_activity WHERE application_name = %s "
        "AND query LIKE 'UPDATE transfer_marks%%' AND state = 'active'",
        [schema],
    ):
        assert time.monotonic() < deadline and shipper.poll() is None
        time.sleep(0.02)
    shipper.send_signal(signal.SIGKILL)  # rows copied, mark being moved
    shipper.wait(timeout=10)
    sql(pg_url, "DROP TRIGGER stall ON transfer_marks")  # waits for the rollback
    assert stored_ids(pg_url) == Counter()
    assert len(list(storage.iter_events())) == 3000
    assert set(stored_ids(pg_url).values()) == {1}
    storage.close()


def test_two_shippers_on_one_journal_copy_each_line_once(pg_url, tmp_path):
    """Even without the file lock between them, the mark's row lock holds."""
    one = shipping(pg_url, tmp_path, interval=3600)
    for i in range(20_000):
        one.append_event(event(id=f"e-{i}", title="x" * 300))
    assert os.path.getsize(journal_files(tmp_path)[0]) > BATCH_BYTES  # two batches
    two = shipping(pg_url, tmp_path, interval=3600)
    two.shipper.lock_path = str(tmp_path / "another.lock")
    import threading

    threads = [threading.Thread(target=s.shipper.ship) for s in (one, two, one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    found = stored_ids(pg_url)
    assert len(found) == 20_000 and set(found.values()) == {1}
    one.close(), two.close()


def test_closing_ships_what_is_left(pg_url, tmp_path):
    storage = shipping(pg_url, tmp_path, interval=3600)
    storage.append_event(event(path="/last/"))
    storage.close()
    assert len(stored_ids(pg_url)) == 1


def test_without_an_interval_each_pageview_is_inserted_by_its_request(pg_url, tmp_path):
    storage = shipping(pg_url, tmp_path, interval=0)
    storage.append_event(event())
    assert len(stored_ids(pg_url)) == 1 and journal_files(tmp_path) == []
    storage.close()
