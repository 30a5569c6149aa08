"""Compaction: the people journal keeps each contact once and every decision.

Every process agrees on every contact and decision before and after, other
processes decide while it runs, an erasure meanwhile wins, and a `kill -9`
between any two of its file-system changes leaves a directory every process
reads as before (tests/storage/compaction_crash.py is the killed process).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tracker.storage import compaction
from tracker.storage.base import StorageError
from tracker.storage.people_lines import records
from tracker.storage.tinydb_store import TinyDBStorage

from ..conftest import ROOT, bare_environ
from .decision_worker import apply_step, count_up, state

EMAILS = [f"reader{n}@example.com" for n in range(12)]
ORDERS = [f"o{n}" for n in range(40)]
START = datetime(2026, 11, 1, 10, tzinfo=UTC)


def decide(storage, n: int, action: str, email: str, **more) -> None:
    step = {
        "n": n,
        "at": (START + timedelta(minutes=n)).isoformat(),
        "action": action,
        "email": email,
        "ads": n % 3 == 0,
        "visitor": f"v{n % 4}",
        "order": ORDERS[n % len(ORDERS)],
        **more,
    }
    apply_step(storage, step)


def seed(storage) -> int:
    """Readers who sign up, confirm, buy, change their minds; one is erased."""
    n = 0
    for rounds in range(3):
        for i, email in enumerate(EMAILS):
            for action in ("signup", "confirm", "consent", "conversion"):
                decide(storage, n, action, email)
                n += 1
            if (i + rounds) % 4 == 0:
                decide(storage, n, "unsubscribe", email)
                n += 1
    decide(storage, n, "erase", EMAILS[-1])
    return n + 1


def everything(storage) -> dict:
    return json.loads(json.dumps(state(storage, EMAILS, ORDERS), sort_keys=True))


def people_dir(data_dir) -> Path:
    return Path(data_dir) / "journal" / "people"


def journal_records(data_dir) -> list[tuple[str, list[dict]]]:
    """Every line of the people journal: (its contact id or "", its records)."""
    found = []
    for path in sorted(people_dir(data_dir).glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            doc = orjson.loads(line)
            found.append((doc.get("id", ""), records(line)))
    return found


@pytest.fixture
def seeded(tmp_path):
    data_dir = str(tmp_path / "var")
    storage = TinyDBStorage(data_dir)
    seed(storage)
    expected = everything(storage)
    storage.close()
    return data_dir, expected


def test_every_process_sees_the_same_people_after_compaction(seeded):
    data_dir, expected = seeded
    compacting, running = TinyDBStorage(data_dir), TinyDBStorage(data_dir)
    running.get_contact("")  # a server with its view loaded before
    before = sum(p.stat().st_size for p in people_dir(data_dir).iterdir())

    done = compacting.compact_people()

    assert done.before == before and done.after < before / 3
    fresh = TinyDBStorage(data_dir)
    (Path(data_dir) / "people.json").rename(Path(data_dir) / "moved.json")
    unsnapshotted = TinyDBStorage(data_dir)
    for storage in (compacting, running, fresh, unsnapshotted):
        assert everything(storage) == expected
        storage.close()


def test_each_contact_is_written_once_with_every_decision(seeded):
    data_dir, expected = seeded
    storage = TinyDBStorage(data_dir)
    storage.compact_people()
    lines = journal_records(data_dir)
    ids = [contact_id for contact_id, _ in lines]
    assert sorted(ids) == sorted(expected["people"]) and len(set(ids)) == len(ids)
    for contact_id, group in lines:
        *decided, last = group
        assert last["contact"] == expected["people"][contact_id]["contact"]
        own = [r["event"]["id"] for r in decided]
        assert own == expected["people"][contact_id]["own"]
    storage.close()


def test_compacting_again_changes_nothing_until_someone_decides(seeded):
    data_dir, expected = seeded
    storage = TinyDBStorage(data_dir)
    assert storage.compact_people() is not None
    generation = storage.people.generation()
    assert storage.compact_people() is None
    assert storage.people.generation() == generation
    decide(storage, 1000, "unsubscribe", EMAILS[0])
    assert storage.compact_people() is not None
    later = TinyDBStorage(data_dir)
    assert later.find_contact(EMAILS[0])["status"] == "unsubscribed"
    assert [e["id"] for e in later.decisions(later.find_contact(EMAILS[0])["id"])] == [
        e["id"] for e in storage.decisions(storage.find_contact(EMAILS[0])["id"])
    ]
    storage.close(), later.close()


def test_decisions_go_on_while_it_compacts(tmp_path):
    """A process adds one to a person's counter as fast as it can while
    another compacts over and over: no update is lost, and the decisions
    keep the counter's order."""
    data_dir, count = str(tmp_path), 150
    deciding, compacting = TinyDBStorage(data_dir), TinyDBStorage(data_dir)
    count_up(deciding, "busy@example.com", "first")

    def burst() -> None:
        for n in range(count):
            count_up(deciding, "busy@example.com", f"t{n}")

    thread = threading.Thread(target=burst)
    thread.start()
    compactions = 0
    while thread.is_alive():
        if compacting.compact_people():
            compactions += 1
    thread.join()
    assert compactions >= 2
    compacting.compact_people()
    for storage in (deciding, compacting, TinyDBStorage(data_dir)):
        person = storage.find_contact("busy@example.com")
        assert person["count"] == count + 1
        counts = [e["count"] for e in storage.decisions(person["id"])]
        assert counts == list(range(1, count + 2))
        storage.close()


def test_an_erasure_during_compaction_wins(seeded, monkeypatch):
    data_dir, expected = seeded
    storage, eraser = TinyDBStorage(data_dir), TinyDBStorage(data_dir)
    gone = eraser.find_contact(EMAILS[0])
    real = compaction.write_compacted

    def erase_meanwhile(*args, **kwargs):
        found = real(*args, **kwargs)
        assert eraser.erase_contact(gone["id"])
        return found

    monkeypatch.setattr(compaction, "write_compacted", erase_meanwhile)
    with pytest.raises(StorageError, match="erased"):
        storage.compact_people()
    monkeypatch.undo()
    assert not (Path(data_dir) / "journal" / "people.compact").exists()
    for check in (storage, TinyDBStorage(data_dir)):
        assert check.find_contact(EMAILS[0]) is None
        assert check.find_contact(EMAILS[1]) is not None
    assert storage.compact_people() is not None
    assert gone["id"] not in {contact_id for contact_id, _ in journal_records(data_dir)}
    storage.close(), eraser.close()


def test_an_erased_person_leaves_no_trace_in_compacted_lines(tmp_path):
    storage = TinyDBStorage(str(tmp_path))
    decide(storage, 1, "signup", "referrer@example.com")
    referrer = storage.find_contact("referrer@example.com")
    decide(storage, 2, "signup", "friend@example.com")
    friend = storage.find_contact("friend@example.com")
    with storage.transaction() as people:
        people.save({**friend, "referred_by": referrer["id"]})
    storage.compact_people()
    assert storage.erase_contact(referrer["id"])
    everything_written = b"".join(
        orjson.dumps(group) for _, group in journal_records(tmp_path)
    )
    assert referrer["id"].encode() not in everything_written
    assert b"referrer@example.com" not in everything_written
    stays = TinyDBStorage(str(tmp_path)).get_contact(friend["id"])
    assert stays["referred_by"] == "x" * len(referrer["id"])
    storage.close()


def test_two_compactions_at_once_one_waits_its_turn(seeded):
    data_dir, _ = seeded
    one, two = TinyDBStorage(data_dir), TinyDBStorage(data_dir)
    with compaction.only_one(one.people):
        with pytest.raises(compaction.Busy):
            two.compact_people()
    assert two.compact_people() is not None
    one.close(), two.close()


def test_it_compacts_by_itself_once_the_journal_grew(seeded):
    data_dir, expected = seeded
    storage = TinyDBStorage(data_dir, compact_after=1)
    generation = storage.people.generation()
    decide(storage, 1000, "consent", EMAILS[0])
    deadline = time.monotonic() + 30
    while storage.people.generation() == generation:
        assert time.monotonic() < deadline, "no compaction began"
        time.sleep(0.05)
    while (people_dir(data_dir).parent / "people.rewriting").exists():
        time.sleep(0.05)
    later = TinyDBStorage(data_dir)
    assert len(journal_records(data_dir)) == len(expected["people"])
    person = later.find_contact(EMAILS[0])
    assert [e["type"] for e in later.decisions(person["id"])][-1] == "consent"
    storage.close(), later.close()


# -- kill -9 at every step ---------------------------------------------------------

LEFTOVERS = ("people.compact", "people.new", "people.old", "people.rewriting")


def crash_at(data_dir: str, step: int) -> bool:
    """Run a compaction killed before its step-th change; True if it finished."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.storage.compaction_crash", data_dir, str(step)],
        cwd=ROOT,
        env=bare_environ(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.stdout.strip() == "done":
        return True
    assert result.returncode == -9, result.stderr
    return False


def test_a_kill_at_any_step_of_compaction_loses_nothing(seeded, tmp_path, capsys):
    template, expected = seeded
    step, finished = 0, False
    while not finished:
        step += 1
        assert step < 200, "the compaction never finished"
        data_dir = str(tmp_path / f"crash-{step}")
        shutil.copytree(template, data_dir)
        running = TinyDBStorage(data_dir)
        running.get_contact("")  # a server, up through the crash
        finished = crash_at(data_dir, step)
        later = TinyDBStorage(data_dir)
        assert everything(running) == expected, f"a server, killed at step {step}"
        assert everything(later) == expected, f"a new process, killed at step {step}"
        decide(later, 5000, "unsubscribe", EMAILS[1])
        after = everything(later)
        assert later.compact_people() is not None or finished
        assert everything(TinyDBStorage(data_dir)) == after
        assert everything(running) == after
        journal = Path(data_dir) / "journal"
        assert not [n for n in LEFTOVERS if (journal / n).exists()], step
        running.close(), later.close()
    with capsys.disabled():
        print(f"\n[compaction kill -9] {step - 1} steps killed, then one whole run")
