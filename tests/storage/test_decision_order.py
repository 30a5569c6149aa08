"""A person's decisions have one order, seen alike by every process.

Several server processes share one data directory (or one database). Whatever
process a decision goes through, and whatever its clock says, the decision
made last is the one every process sees last: the servers still running, a
process started afterwards (`polku contacts export`, `polku digest`), the
people snapshot, and a copy into PostgreSQL, before and after compactions of
the people journal. Here as a property: any interleaving of worker processes
(tests/storage/decision_worker.py).
The journal itself: test_people_journal.py; two real servers:
test_two_servers.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.storage.memory import MemoryStorage
from tracker.storage.people_journal import Segments
from tracker.storage.snapshots import PeopleSnapshot
from tracker.storage.tinydb_store import TinyDBStorage

from .. import pg
from ..conftest import ROOT, bare_environ
from .decision_worker import apply_step, state

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
    "compact",
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
        many = action not in ("look", "snapshot")  # a compaction: any process
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
    lines = Segments(os.path.join(data_dir, "journal", "people"))
    view = PeopleSnapshot(os.path.join(data_dir, "people.json")).load(
        storage.people.generation(), lines
    )
    storage.close()
    if view is None:
        return None
    return comparable(
        {
            c["id"]: {"contact": c, "decisions": [e["id"] for e in d]}
            for c, d in view.people()
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
