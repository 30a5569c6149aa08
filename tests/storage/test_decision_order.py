"""A person's decisions have one order, seen alike by every process.

Several server processes share one data directory (or one database). Whatever
process a decision goes through, and whatever its clock says, the decision
made last is the one every process sees last: the servers still running, a
process started afterwards (`polku contacts export`, `polku digest`), the
people snapshot, and a copy into PostgreSQL.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker import clock
from tracker.storage.memory import MemoryStorage
from tracker.storage.tinydb_store import PeopleSnapshot, TinyDBStorage

from .. import pg
from ..conftest import (
    ROOT,
    bare_environ,
    copy_site,
    polku_serve,
    read_only,
    write_manifest,
)
from .decision_worker import apply_step, state
from .test_backends import contact

# -- the same person decided about through two processes ---------------------


def save(storage, person: dict, status: str, event_id: str) -> None:
    with storage.transaction() as people:
        people.save(
            {**person, "status": status},
            {
                "id": event_id,
                "ts": clock.now_iso(),
                "type": status,
                "contact": person["id"],
            },
        )


@pytest.mark.parametrize("first", [0, 1])
def test_the_decision_made_last_wins_whichever_process_made_it(tmp_path, first):
    servers = [TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))]
    watching = TinyDBStorage(str(tmp_path))  # a third server, already running
    watching.get_contact("")
    person = contact("reader@example.com")
    save(servers[first], person, "confirmed", "d1")
    save(servers[1 - first], person, "unsubscribed", "d2")
    later = TinyDBStorage(str(tmp_path))  # `polku contacts export`, `polku digest`
    for storage in (*servers, watching, later):
        assert storage.find_contact(person["email"])["status"] == "unsubscribed"
        assert [e["id"] for e in storage.decisions(person["id"])] == ["d1", "d2"]
        storage.close()


def test_the_decision_made_last_wins_after_the_clock_went_back(tmp_path, set_clock):
    one, two = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    person = contact("reader@example.com")
    set_clock("2026-12-01T00:00:30+00:00")
    save(one, person, "confirmed", "d1")
    set_clock("2026-11-30T23:59:40+00:00")  # the other machine's clock is behind
    save(two, person, "unsubscribed", "d2")
    later = TinyDBStorage(str(tmp_path))
    for storage in (one, two, later):
        assert storage.find_contact(person["email"])["status"] == "unsubscribed"
        assert [e["id"] for e in storage.decisions(person["id"])] == ["d1", "d2"]
        storage.close()


# -- the journal on disk ----------------------------------------------------------


def people_dir(data_dir: Path) -> Path:
    return data_dir / "journal" / "people"


def test_a_torn_tail_is_cut_before_the_next_decision(tmp_path):
    first = TinyDBStorage(str(tmp_path))
    save(first, contact("a@example.com"), "confirmed", "d1")
    [segment] = people_dir(tmp_path).glob("*.jsonl")
    with open(segment, "ab") as f:
        f.write(b'{"ts": "2026-11-20T10:00:00+00:00", "contact": {"id": "hal')
    second = TinyDBStorage(str(tmp_path))  # a server killed mid-write, restarted
    save(second, contact("b@example.com"), "confirmed", "d2")
    assert segment.read_bytes().endswith(b"\n")
    assert b'"hal' not in segment.read_bytes()
    for storage in (first, second, TinyDBStorage(str(tmp_path))):
        emails = sorted(c["email"] for c in storage.iter_contacts())
        assert emails == ["a@example.com", "b@example.com"]
        storage.close()


def test_a_decision_whose_sync_failed_is_gone_for_everyone(tmp_path, monkeypatch):
    """Its fdatasync failed: it was never acknowledged, so it is cut off again,
    though another process may have read it meanwhile."""
    writer, reader = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    kept, failed = contact("kept@example.com"), contact("failed@example.com")
    save(writer, kept, "confirmed", "d1")

    real_sync = os.fdatasync

    def failing_sync(fd):
        if fd != writer.people_journal._fd:  # another journal's flusher thread
            return real_sync(fd)
        assert reader.get_contact(failed["id"])  # read by another process
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing_sync)
    with pytest.raises(OSError):
        save(writer, failed, "confirmed", "d2")
    monkeypatch.undo()
    later = contact("later@example.com", first_name="Later, on a longer line")
    save(writer, later, "confirmed", "d3")
    for storage in (reader, writer, TinyDBStorage(str(tmp_path))):
        emails = sorted(c["email"] for c in storage.iter_contacts())
        assert emails == ["kept@example.com", "later@example.com"]
        storage.close()


def test_a_full_segment_continues_in_the_next(tmp_path, monkeypatch):
    from tracker.storage.people_journal import PeopleJournal

    monkeypatch.setattr(PeopleJournal, "SEGMENT_BYTES", 600)
    one, two = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    person = contact("a@example.com")
    for n in range(12):
        save((one, two)[n % 3 == 0], person, f"s{n}", f"d{n}")
    assert len(list(people_dir(tmp_path).glob("*.jsonl"))) > 3
    for storage in (one, two, TinyDBStorage(str(tmp_path))):
        assert storage.get_contact(person["id"])["status"] == "s11"
        decided = [e["id"] for e in storage.decisions(person["id"])]
        assert decided == [f"d{n}" for n in range(12)]
        storage.close()


def write_legacy(data_dir: Path, files: dict[str, list[dict]]) -> None:
    """The people journal as servers before the shared journal wrote it: one
    file per writer and per month of the records' timestamps."""
    for name, records in files.items():
        path = people_dir(data_dir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records))


def record(person: dict, ts: str, status: str, event_id: str) -> dict:
    event = {"id": event_id, "ts": ts, "type": status, "contact": person["id"]}
    return {"ts": ts, "contact": {**person, "status": status}, "event": event}


def test_the_old_per_writer_journal_is_converted_once_in_time_order(tmp_path):
    ann, ben = contact("ann@example.com"), contact("ben@example.com")
    write_legacy(
        tmp_path,
        {
            "2026-11/host-1-aaaaaa.jsonl": [
                record(ann, "2026-11-02T10:00:00+00:00", "pending", "a1"),
                record(ann, "2026-11-29T10:00:00+00:00", "unsubscribed", "a3"),
            ],
            "2026-11/host-2-bbbbbb.jsonl": [
                record(ann, "2026-11-03T10:00:00+00:00", "confirmed", "a2"),
                record(ben, "2026-11-04T10:00:00+00:00", "pending", "b1"),
            ],
            "2026-12/host-1-aaaaaa.jsonl": [
                record(ben, "2026-12-01T09:00:00+00:00", "confirmed", "b2"),
            ],
        },
    )
    with (people_dir(tmp_path) / "2026-12" / "host-1-aaaaaa.jsonl").open("ab") as f:
        f.write(b'{"ts": "2026-12-02", "torn')  # never acknowledged: not converted
    (tmp_path / "people.json").write_bytes(b'{"generation": 0, "offsets": {}}')
    storage = TinyDBStorage(str(tmp_path))
    assert storage.get_contact(ann["id"])["status"] == "unsubscribed"
    assert [e["id"] for e in storage.decisions(ann["id"])] == ["a1", "a2", "a3"]
    assert storage.get_contact(ben["id"])["status"] == "confirmed"
    assert storage._read_generation() == 1  # every process folds the new layout
    assert storage.erasures() == 0
    assert not (tmp_path / "people.json").exists()
    names = sorted(p.name for p in people_dir(tmp_path).iterdir())
    assert names == ["000001.jsonl"]
    assert sorted(p.name for p in (tmp_path / "journal").iterdir()) == [
        "people",
        "people.erased",
        "people.generation",
    ]
    again = TinyDBStorage(str(tmp_path))  # already converted: nothing to do
    assert again.get_contact(ann["id"])["status"] == "unsubscribed"
    assert again._read_generation() == 1
    save(again, ann, "confirmed", "a4")
    assert storage.get_contact(ann["id"])["status"] == "confirmed"
    storage.close(), again.close()


def test_a_read_only_copy_of_the_old_layout_is_read_in_time_order(tmp_path):
    ann = contact("ann@example.com")
    write_legacy(
        tmp_path,
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
    with read_only(tmp_path):  # a backup, mounted read-only
        storage = TinyDBStorage(str(tmp_path))
        assert storage.get_contact(ann["id"])["status"] == "unsubscribed"
        assert [e["id"] for e in storage.decisions(ann["id"])] == ["a1", "a2", "a3"]
        assert [c["email"] for c in storage.iter_contacts()] == [ann["email"]]
        storage.close()
    assert [p.name for p in people_dir(tmp_path).iterdir()] == ["2026-11"]


@pytest.mark.parametrize("left", ["new half built", "between the renames", "old kept"])
def test_a_conversion_cut_short_is_finished_by_the_next_process(tmp_path, left):
    ann = contact("ann@example.com")
    legacy = {"2026-11/w.jsonl": [record(ann, "2026-11-02T10:00:00", "pending", "a")]}
    write_legacy(tmp_path, legacy)
    journal = tmp_path / "journal"
    if left == "new half built":  # the old journal untouched: converted again
        (journal / "people.new").mkdir()
        (journal / "people.new" / "000001.jsonl").write_bytes(b'{"half')
    else:
        converted = tmp_path / "converted"
        write_legacy(converted, legacy)
        done = TinyDBStorage(str(converted))
        done.get_contact("")  # converts
        done.close()
        (journal / "people").rename(journal / "people.old")
        (converted / "journal" / "people").rename(journal / "people.new")
        if left == "old kept":
            (journal / "people.new").rename(journal / "people")
    storage = TinyDBStorage(str(tmp_path))
    assert storage.get_contact(ann["id"])["status"] == "pending"
    assert sorted(p.name for p in journal.iterdir()) == [
        "people",
        "people.erased",
        "people.generation",
    ]
    assert [p.name for p in people_dir(tmp_path).iterdir()] == ["000001.jsonl"]
    save(storage, ann, "confirmed", "b")
    assert TinyDBStorage(str(tmp_path)).get_contact(ann["id"])["status"] == (
        "confirmed"
    )
    storage.close()


# -- the property: any interleaving, every process agrees ------------------------

EMAILS = ["ada@example.com", "bo@example.com", "cy@example.com"]
ORDERS = [f"o{n}" for n in range(4)]
START = datetime(2026, 9, 28, 23, 50, tzinfo=UTC)
# Seconds between steps: on, a day on, a month on, and the clock set back.
JUMPS = [1, 1, 61, 86_400, 20 * 86_400, -45, -20 * 86_400]
ACTIONS = [
    *["signup"] * 3,
    *["confirm"] * 3,
    *["unsubscribe"] * 2,
    "consent",
    "conversion",
    "import",
    "erase",
    "look",
    "snapshot",
]
SERVERS, CLI, READER = (0, 1), 2, 3


@st.composite
def scenarios(draw, max_steps: int) -> list[tuple[int, dict]]:
    """(worker, step) pairs: the servers and a one-shot command take turns."""
    at, steps = START, []
    for n in range(draw(st.integers(1, max_steps))):
        at += timedelta(seconds=draw(st.sampled_from(JUMPS)))
        action = draw(st.sampled_from(ACTIONS))
        step = {
            "n": n,
            "at": at.isoformat(),
            "action": action,
            "email": draw(st.sampled_from(EMAILS)),
            "ads": draw(st.booleans()),
            "visitor": f"v{draw(st.integers(0, 3))}",
            "order": draw(st.sampled_from(ORDERS)),
        }
        if action == "import":
            rows = st.tuples(
                st.sampled_from(EMAILS),
                st.sampled_from(ORDERS),
                st.integers(30, 400),
            )
            step["rows"] = [
                {"email": e, "order": o, "ts": (at - timedelta(days=d)).isoformat()}
                for e, o, d in draw(st.lists(rows, min_size=1, max_size=3))
            ]
        many = action not in ("look", "snapshot")
        worker = draw(st.sampled_from([*SERVERS, CLI] if many else SERVERS))
        steps.append((worker, step))
    return steps


class Workers:
    """Worker processes (tests/storage/decision_worker.py), asked one at a time."""

    def __init__(self, count: int) -> None:
        self.procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.storage.decision_worker"],
                cwd=ROOT,
                env=bare_environ(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(count)
        ]

    def ask(self, worker: int, **message) -> object:
        self.send(worker, **message)
        return self.answer(worker)

    def send(self, worker: int, **message) -> None:
        proc = self.procs[worker]
        proc.stdin.write(json.dumps(message) + "\n")
        proc.stdin.flush()

    def answer(self, worker: int) -> object:
        proc = self.procs[worker]
        answer = json.loads(proc.stdout.readline() or '{"error": "worker died"}')
        if "error" in answer:
            raise AssertionError(f"worker {worker}: {answer['error']}")
        return answer["ok"]

    def close(self) -> None:
        for proc in self.procs:
            proc.stdin.close()
        for proc in self.procs:
            proc.wait(timeout=30)
            proc.stdout.close()


class Databases:
    """Two schemas for the whole module, emptied before each example: one the
    workers replay the steps into, one the TinyDB directory is copied into."""

    EMPTY = """
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
        AND tablename NOT IN ('schema_migrations', 'people_state', 'aggregate_state')
    LOOP
        EXECUTE format('TRUNCATE %I', name);
    END LOOP;
END $$;
-- the version only ever grows: what a process kept of everyone goes stale
UPDATE people_state SET version = version + 1, erased = 0,
    erased_at_copy = NULL, copied_generation = NULL;
"""

    def __init__(self, replay: str, copy: str) -> None:
        from tracker.storage.postgres import PostgresStorage
        from tracker.storage.postgres.db import Database

        self.replay, self.copy = replay, copy
        Database(replay).migrate()
        self.target = PostgresStorage(copy)
        self.target.db.migrate()

    def empty(self) -> None:
        import psycopg

        for url in (self.replay, self.copy):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(self.EMPTY)


@pytest.fixture(scope="module")
def databases():
    if not pg.URL:
        yield None
        return
    with pg.schema() as replay, pg.schema() as copy:
        found = Databases(replay, copy)
        yield found
        found.target.close()


@pytest.fixture(scope="module")
def workers(databases):  # closed before the schemas are dropped
    found = Workers(4)
    yield found
    found.close()


def comparable(value: object) -> object:
    return json.loads(json.dumps(value))


def expected_state(steps: list[tuple[int, dict]]) -> dict:
    """One process, one step after the other: what everyone must agree on."""
    model = MemoryStorage()
    for _, step in steps:
        apply_step(model, step)
    return comparable(state(model, EMAILS, ORDERS))


def snapshot_state(data_dir: str) -> dict | None:
    storage = TinyDBStorage(data_dir)
    view = PeopleSnapshot(os.path.join(data_dir, "people.json")).load(
        storage.erasures()
    )
    storage.close()
    if view is None:
        return None
    return comparable(
        {
            cid: {"contact": c, "decisions": [e["id"] for e in view.timelines[cid]]}
            for cid, c in view.contacts.items()
        }
    )


def run_scenario(workers: Workers, databases: Databases | None, data_dir, steps):
    replay = databases.replay if databases else None
    if databases:
        databases.empty()
    for worker in (*SERVERS, CLI, READER):
        role = "server" if worker in SERVERS else "cli"
        workers.ask(worker, op="open", dir=data_dir, pg=replay, role=role)
    try:
        for worker, step in steps:
            workers.ask(worker, op="step", step=step)
        expected = expected_state(steps)
        question = {"op": "state", "emails": EMAILS, "orders": ORDERS}
        seen = {}
        for worker in SERVERS:
            for backend, found in workers.ask(worker, **question).items():
                seen[f"server {worker} ({backend}, running)"] = found
        last = {"n": len(steps), "at": steps[-1][1]["at"], "action": "snapshot"}
        workers.ask(SERVERS[0], op="step", step=last)
        for backend, found in workers.ask(READER, **question, fresh=True).items():
            seen[f"a new process ({backend})"] = found
        fresh = workers.ask(READER, **question, fresh=True, no_snapshot=True)
        seen["a new process without the snapshot (tinydb)"] = fresh["tinydb"]
        if databases and os.path.isdir(os.path.join(data_dir, "journal")):
            from tracker.storage.transfer import copy_tinydb

            counts = copy_tinydb(data_dir, databases.target)
            assert all(c.ok for c in counts), counts
            seen["copied into postgres"] = state(databases.target, EMAILS, ORDERS)
        for who, found in seen.items():
            assert comparable(found) == expected, who
        people = {cid: {**p} for cid, p in expected["people"].items()}
        for person in people.values():
            del person["own"]
        assert snapshot_state(data_dir) in (None, people), "the snapshot"
    finally:
        for worker in (*SERVERS, CLI, READER):
            workers.ask(worker, op="close")


PROPERTY = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(PROPERTY, max_examples=25)
@given(steps=scenarios(max_steps=14))
def test_every_process_agrees_on_every_contact(
    workers, databases, tmp_path_factory, steps
):
    data_dir = str(tmp_path_factory.mktemp("order"))
    run_scenario(workers, databases, data_dir, steps)


@pytest.mark.slow
@settings(PROPERTY, max_examples=400)
@given(steps=scenarios(max_steps=60))
def test_every_process_agrees_on_every_contact_at_length(
    workers, databases, tmp_path_factory, steps
):
    data_dir = str(tmp_path_factory.mktemp("order"))
    run_scenario(workers, databases, data_dir, steps)


def test_processes_deciding_at_once_lose_nothing_and_agree_on_the_order(
    workers, tmp_path
):
    """Three processes add one to the same person's counter as fast as they
    can: no update is lost, and the decisions come in the counter's order."""
    count, email = 60, "busy@example.com"
    for worker in (*SERVERS, CLI):
        workers.ask(worker, op="open", dir=str(tmp_path), pg=None, role="server")
    try:
        for worker in (*SERVERS, CLI):
            workers.send(worker, op="burst", email=email, count=count, tag=worker)
        for worker in (*SERVERS, CLI):
            workers.answer(worker)
        question = {"op": "state", "emails": [email], "orders": []}
        answers = [workers.ask(w, **question)["tinydb"] for w in (*SERVERS, CLI)]
    finally:
        for worker in (*SERVERS, CLI):
            workers.ask(worker, op="close")
    storage = TinyDBStorage(str(tmp_path))
    person = storage.find_contact(email)
    assert person["count"] == 3 * count
    assert [e["count"] for e in storage.decisions(person["id"])] == list(
        range(1, 3 * count + 1)
    )
    assert all(a == answers[0] for a in answers)
    assert answers[0]["people"][person["id"]]["contact"] == person
    storage.close()


# -- the bug as it was reported: two `polku serve` on one data directory -------


def post(base: str, path: str, data: dict) -> int:
    import urllib.error
    import urllib.parse
    import urllib.request

    request = urllib.request.Request(
        base + path,
        data=urllib.parse.urlencode(data).encode(),
        method="POST",
        headers={"Origin": base},
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


def polku(site: Path, env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def confirm_path(data: Path, email: str) -> str:
    from email import message_from_bytes, policy
    from urllib.parse import urlsplit

    for path in sorted((data / "outbox").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == email:
            text = message.get_body(("plain",)).get_content()
            link = next(w for w in text.split() if "/confirm/" in w)
    return urlsplit(link).path


def test_two_servers_one_reader_who_left(tmp_path):
    site = copy_site(tmp_path / "site")  # its settings, unbuilt
    (site / "output").mkdir()
    (site / "output" / "index.html").write_text("<h1>home</h1>")
    data = site / "var"
    write_manifest(data)
    secret = "decision-order-secret-key-0123456789"
    env = bare_environ(
        POLKU_DATA_DIR=str(data),
        POLKU_SECRET_KEY=secret,
        POLKU_CLOCK="2026-11-05T10:00:00+00:00",
        POLKU_RATELIMIT_ENABLED="false",
    )
    readers = {"ann@example.com": (0, 1), "ben@example.com": (1, 0)}
    with (
        polku_serve(site, tmp_path / "one.log", env) as one,
        polku_serve(site, tmp_path / "two.log", env) as two,
    ):
        servers = (one, two)
        for email, (joined, _) in {**readers, "cy@example.com": (0, 0)}.items():
            form = {"email": email, "consent_newsletter": "yes", "form": "signup"}
            assert post(servers[joined], "/subscribe", form) == 303
            assert post(servers[joined], confirm_path(data, email), {}) == 303
        from tracker import create_app
        from tracker.web import tokens

        app = create_app(
            {"TESTING": True, "SECRET_KEY": secret, "DATA_DIR": str(tmp_path / "x")}
        )
        for email, (_, left) in readers.items():
            found = json.loads(polku(site, env, "contacts", "export", email))
            with app.app_context():
                token = tokens.make("unsubscribe", {"c": found["contact"]["id"]})
            one_click = {"List-Unsubscribe": "One-Click"}
            assert post(servers[left], f"/unsubscribe/{token}", one_click) == 200
    for email in readers:  # each command a process started afterwards
        found = json.loads(polku(site, env, "contacts", "export", email))
        assert found["contact"]["status"] == "unsubscribed", email
    preview = tmp_path / "preview"
    polku(site, env, "digest", "--dry-run", str(preview))
    sent = " ".join(p.read_text(errors="replace") for p in preview.glob("*.eml"))
    assert "cy@example.com" in sent
    assert "ann@example.com" not in sent and "ben@example.com" not in sent
