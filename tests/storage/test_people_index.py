"""people-index.sqlite answers as the people view would, without it."""

from __future__ import annotations

import random
import uuid

import pytest

from tracker import clock
from tracker.storage import people_index
from tracker.storage.tinydb_store import TinyDBStorage

from ..conftest import Reader, read_only
from ..web.test_next import ask, page, read, use
from .test_view import person

pytestmark = pytest.mark.tinydb_only
BROWSERS = [f"browser-{n}" for n in range(8)]


def everyone_s_owner(storage: TinyDBStorage) -> dict[str, str | None]:
    return {v: storage.visitor_owner(v) for v in BROWSERS}


def the_view_s_owner(storage: TinyDBStorage) -> dict[str, str | None]:
    view = storage._refresh()
    return {v: view.visitor_owner(v) for v in BROWSERS}


def indexed(storage: TinyDBStorage, people: list[dict]) -> list:
    return [storage.index.person(p["id"]) for p in people]


def in_the_view(storage: TinyDBStorage, people: list[dict]) -> list:
    view = storage._refresh()
    found = [(view.contact(p["id"]), view.decisions(p["id"])) for p in people]
    return [None if contact is None else (contact, d) for contact, d in found]


@pytest.mark.parametrize("seed", range(6))
def test_two_processes_see_the_owner_the_view_sees(tmp_path, seed):
    """Random proofs, decisions, changes of mind, erasures and compactions, made
    by one process and another: after each, both answer as the people view
    does, whose browser each is and where each contact's records are."""
    rng = random.Random(seed)
    processes = [TinyDBStorage(str(tmp_path)) for _ in range(2)]
    people = [person(n, []) for n in range(5)]
    for _ in range(30):
        acting = rng.choice(processes)
        roll = rng.random()
        if roll < 0.08:
            gone = rng.choice(people)
            acting.erase_contact(gone["id"])
            people.remove(gone)
            people.append(person(len(people) + 100, []))
        elif roll < 0.12:
            acting.compact_people()
        else:
            someone = rng.choice(people)
            someone["visitors"] = rng.sample(BROWSERS, rng.randint(0, 3))
            decision = {"id": uuid.uuid4().hex, "ts": clock.now_iso(), "type": "x"}
            decided = rng.random() < 0.6
            with acting.transaction() as tx:
                tx.save(
                    dict(someone),
                    {**decision, "contact": someone["id"]} if decided else None,
                )
        expected = the_view_s_owner(acting), in_the_view(acting, people)
        for process in processes:
            assert (everyone_s_owner(process), indexed(process, people)) == expected
    for process in processes:
        process.close()


def test_an_erased_person_leaves_the_index_at_once(tmp_path):
    storage = TinyDBStorage(str(tmp_path))
    gone, stays = person(1, ["browser-1"]), person(2, ["browser-2"])
    with storage.transaction() as tx:
        tx.save(gone), tx.save(stays)
    assert storage.visitor_owner("browser-1") == gone["id"]
    storage.erase_contact(gone["id"])
    assert gone["id"].encode() not in (tmp_path / "people-index.sqlite").read_bytes()
    assert storage.visitor_owner("browser-1") is None
    assert storage.visitor_owner("browser-2") == stays["id"]
    storage.close()


def test_a_damaged_index_is_folded_anew(tmp_path):
    storage = TinyDBStorage(str(tmp_path))
    someone = person(1, ["browser-1"])
    with storage.transaction() as tx:
        tx.save(someone)
    assert storage.visitor_owner("browser-1") == someone["id"]
    storage.close()
    (tmp_path / "people-index.sqlite").write_bytes(b"not a database" * 500)
    fresh = TinyDBStorage(str(tmp_path))
    assert fresh.visitor_owner("browser-1") == someone["id"]  # from the view, once
    fresh.people.view = None
    assert fresh.visitor_owner("browser-1") == someone["id"]  # from a new index
    assert fresh.people.view is None
    fresh.close()


def test_the_worker_that_answers_next_holds_no_people_view(app_factory):
    app = use(app_factory(), holdout=0)
    client = app.test_client()
    Reader(client, app).confirm()  # this browser is now the reader's
    app.extensions.pop("polku.storage").close()  # a worker that starts afresh
    read(client, "slow")
    known = ask(client, page("slow"))
    assert known.status_code == 200
    assert known.get_json()["cta"]["kind"] == "offer"  # it knew them: a lead
    people = app.extensions["polku.storage"].people
    assert people.view is None and people.held_facts.view is None


@pytest.mark.parametrize("indexed_before", [False, True])
def test_a_read_only_copy_answers_from_the_view(tmp_path, indexed_before):
    """A backup mounted read-only: the index cannot be written (or made), so
    the people view answers, the same."""
    storage = TinyDBStorage(str(tmp_path))
    someone = person(1, ["browser-1"])
    with storage.transaction() as tx:
        tx.save(someone)
    if indexed_before:
        assert storage.visitor_owner("browser-1") == someone["id"]
    storage.close()
    with read_only(tmp_path):
        copy = TinyDBStorage(str(tmp_path))
        assert copy.visitor_owner("browser-1") == someone["id"]
        assert (copy.people.view is None) == indexed_before  # the index, if current
        assert copy.get_contact(someone["id"])["email"] == someone["email"]
        copy.close()


def test_a_fold_cut_short_keeps_its_committed_batches(tmp_path, monkeypatch):
    """A worker killed by its timeout half way through a long fold: the next
    one goes on from the last batch committed, and answers as the view does."""
    storage = TinyDBStorage(str(tmp_path))
    people = [person(n, [f"browser-{n}"]) for n in range(8)]
    for p in people:
        with storage.transaction() as tx:
            tx.save(p)
    monkeypatch.setattr(people_index, "BATCH", 3)
    real = people_index.Segments.scan

    def cut_short(self, offsets, names=None):
        for n, found in enumerate(real(self, offsets, names)):
            if n == 7:
                raise TimeoutError("the worker's time is up")
            yield found

    monkeypatch.setattr(people_index.Segments, "scan", cut_short)
    with pytest.raises(TimeoutError):
        storage.index.owner("browser-0")
    monkeypatch.setattr(people_index.Segments, "scan", real)
    kept = storage.index._state(storage.index._conn)[1]
    assert 0 < sum(kept.values()) < storage.people.journal.size()  # two batches
    for n, p in enumerate(people):
        assert storage.visitor_owner(f"browser-{n}") == p["id"]
    storage.close()
