"""The people's facts, a view of their own: held only where the dashboard is shown."""

from __future__ import annotations

import pytest

from tracker import clock
from tracker.journey import facts as people_facts
from tracker.storage.snapshots import PeopleSnapshot
from tracker.storage.tinydb_store import TinyDBStorage

from ..conftest import Reader
from .test_view import person

pytestmark = pytest.mark.tinydb_only
PASSWORD = "correct horse battery staple"


def test_the_contact_list_order_survives_the_facts_snapshot(tmp_path, set_clock):
    """Last seen first, as the facts keep it: a new process reads it from
    facts.json without folding the journal again."""
    storage = TinyDBStorage(str(tmp_path))
    people = []
    for n in range(3):
        set_clock(f"2026-12-0{n + 1}T10:00:00+00:00")
        people.append(person(n, []))
        with storage.transaction() as tx:
            tx.save(people[-1])
    set_clock("2026-12-05T10:00:00+00:00")
    with storage.transaction() as tx:
        decided = {"id": "d", "ts": clock.now_iso(), "type": "confirm"}
        tx.save(people[0], {**decided, "contact": people[0]["id"]})
    expected = [people[i]["id"] for i in (0, 2, 1)]
    assert [c["id"] for c, _ in storage.contacts_page(0, 9)[0]] == expected
    storage.people.save_snapshot()
    assert (tmp_path / "facts.json").is_file()
    fresh = TinyDBStorage(str(tmp_path))
    assert [c["id"] for c, _ in fresh.contacts_page(0, 9)[0]] == expected
    assert fresh.people.facts_snapshot.unsaved == 0  # nothing folded anew
    storage.close(), fresh.close()


def test_the_overview_holds_the_facts_and_a_signup_the_view(app_factory):
    """Each worker folds only what its requests read: the overview the facts
    (not the people view), a signup the people view (not the facts)."""
    app = app_factory(ADMIN_PASSWORD=PASSWORD)
    for kind in ("overview", "signup"):
        app.extensions.pop("polku.storage", None)  # a worker that starts afresh
        client = app.test_client()
        if kind == "overview":
            client.post("/admin/login", data={"password": PASSWORD})
            assert client.get("/admin/").status_code == 200
        else:
            answer = Reader(client, app).subscribe("new@example.com")
            assert answer.status_code < 400, answer.get_data(as_text=True)
        people = app.extensions["polku.storage"].people
        assert (people.view is None, people.held_facts.view is None) == (
            (True, False) if kind == "overview" else (False, True)
        )


def test_an_erasure_takes_the_person_out_of_the_facts_and_their_snapshot(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(PeopleSnapshot, "EVERY_LINES", 1)
    shown, eraser = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    gone, stays = person(1, []), person(2, [])
    with eraser.transaction() as tx:
        tx.save(gone), tx.save(stays)
    assert {f["id"] for f in shown.people_facts()} == {gone["id"], stays["id"]}
    assert gone["email"].encode() in (tmp_path / "facts.json").read_bytes()
    eraser.erase_contact(gone["id"])
    assert [f["id"] for f in shown.people_facts()] == [stays["id"]]
    shown.close(), eraser.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert gone["email"].encode() not in path.read_bytes(), path


def test_a_compaction_writes_the_facts_of_its_new_journal(tmp_path, set_clock):
    set_clock("2026-12-01T10:00:00+00:00")
    storage = TinyDBStorage(str(tmp_path))
    people = [person(n, [f"v{n}"]) for n in range(4)]
    for n, p in enumerate(people):
        with storage.transaction() as tx:
            tx.save(p)
        with storage.transaction() as tx:  # each change writes them whole
            confirm = {"id": f"c{n}", "ts": clock.now_iso(), "type": "confirm"}
            tx.save({**p, "status": "confirmed"}, {**confirm, "contact": p["id"]})
    before = sorted(storage.people_facts(), key=lambda f: f["id"])
    assert storage.compact_people() is not None
    fresh = TinyDBStorage(str(tmp_path))
    assert sorted(fresh.people_facts(), key=lambda f: f["id"]) == before
    assert fresh.people.facts_snapshot.unsaved == 0  # read from facts.json
    storage.close(), fresh.close()


def test_facts_kept_in_an_earlier_shape_are_folded_anew(tmp_path, monkeypatch):
    storage = TinyDBStorage(str(tmp_path))
    with storage.transaction() as tx:
        tx.save(person(1, []))
    expected = list(storage.people_facts())
    storage.people.save_snapshot()
    storage.close()
    monkeypatch.setattr(people_facts, "SHAPE", people_facts.SHAPE + 1)
    fresh = TinyDBStorage(str(tmp_path))
    assert list(fresh.people_facts()) == expected
    assert fresh.people.facts_snapshot.unsaved == 1  # folded, not loaded
    fresh.close()
