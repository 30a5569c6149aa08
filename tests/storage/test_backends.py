"""The storage interface, on every backend."""

from __future__ import annotations

import uuid

import pytest

from tracker import clock
from tracker.storage.base import StorageUnavailable
from tracker.storage.journal import Journal
from tracker.storage.snapshots import PeopleSnapshot
from tracker.storage.tinydb_store import TinyDBStorage

from ..conftest import read_only


def event(ts="2026-11-20T10:00:00+00:00", **fields):
    return {"id": uuid.uuid4().hex, "ts": ts, "type": "pageview", "path": "/", **fields}


def contact(email="a@example.com", **fields):
    now = clock.now_iso()
    return {
        "id": uuid.uuid4().hex,
        "email": email,
        "created": now,
        "visitors": [],
        **fields,
    }


def test_events_round_trip_in_order_of_months(storage):
    storage.append_event(event("2026-12-01T00:00:00+00:00", path="/b/"))
    storage.append_event(event("2026-11-30T23:59:59+00:00", path="/a/"))
    assert [e["path"] for e in storage.iter_events()] == ["/a/", "/b/"]
    assert [e["path"] for e in storage.iter_events(since="2026-12-01")] == ["/b/"]


def test_two_identical_events_are_two_events(storage):
    e = event()
    storage.append_event(e)
    storage.append_event(dict(e))
    assert len(list(storage.iter_events())) == 2


def test_transaction_saves_and_indexes(storage):
    c = contact(ref_code="abc", orders=["o-1"])
    with storage.transaction() as people:
        assert people.find("a@example.com") is None
        people.save(
            c, {"id": "e1", "ts": c["created"], "type": "signup", "contact": c["id"]}
        )
        assert people.find("a@example.com") == c
    assert storage.find_contact("a@example.com") == c
    assert storage.get_contact(c["id"]) == c
    with storage.transaction() as people:
        assert people.find_by("ref_code", "abc")["id"] == c["id"]
        assert people.find_by("order", "o-1")["id"] == c["id"]
    assert [e["type"] for e in storage.timeline(c["id"])] == ["signup"]


def test_changing_an_email_moves_the_index(storage):
    c = contact()
    with storage.transaction() as people:
        people.save(c)
    with storage.transaction() as people:
        people.save({**c, "email": "b@example.com"})
    assert storage.find_contact("a@example.com") is None
    assert storage.find_contact("b@example.com")["id"] == c["id"]


def test_timeline_stitches_visits_of_linked_visitors(storage):
    c = contact(visitors=["v1"])
    storage.append_event(event(c["created"], visitor="v1", path="/before/"))
    storage.append_event(event(c["created"], visitor="v2", path="/someone-else/"))
    storage.append_event(event(c["created"], contact=c["id"], type="click"))
    with storage.transaction() as people:
        people.save(c)
    paths = [e.get("path") for e in storage.timeline(c["id"])]
    assert "/before/" in paths and "/someone-else/" not in paths
    assert len(paths) == 2


def test_timeline_covers_observations_months_before_the_signup(storage, set_clock):
    """A person's record is whole: a visit in August by the browser that signs
    up in December is theirs, in the timeline and so in the GDPR export."""
    set_clock("2026-08-14T09:00:00+00:00")
    storage.append_event(event(clock.now_iso(), visitor="v-summer", path="/august/"))
    storage.append_event(event(clock.now_iso(), visitor="v-other", path="/other/"))
    set_clock("2026-10-02T09:00:00+00:00")
    storage.append_event(event(clock.now_iso(), visitor="v-summer", type="click"))
    set_clock("2026-12-20T09:00:00+00:00")
    c = contact(visitors=["v-summer"])
    with storage.transaction() as people:
        people.save(
            c, {"id": "s", "ts": c["created"], "type": "signup", "contact": c["id"]}
        )
    found = storage.timeline(c["id"])
    assert [e.get("path") for e in found] == ["/august/", "/", None]
    assert [e["ts"][:7] for e in found] == ["2026-08", "2026-10", "2026-12"]


def test_a_click_links_that_days_visit_in_an_old_month(storage, set_clock):
    set_clock("2027-01-10T09:00:00+00:00")
    c = contact()
    with storage.transaction() as people:
        people.save(c)
    set_clock("2027-03-05T09:00:00+00:00")
    storage.append_event(
        event(clock.now_iso(), type="click", contact=c["id"], visitor="d1")
    )
    storage.append_event(event(clock.now_iso(), visitor="d1", path="/after-click/"))
    set_clock("2027-05-01T09:00:00+00:00")
    paths = [e.get("path") for e in storage.timeline(c["id"])]
    assert paths == ["/", "/after-click/"]


def test_decisions_keep_the_order_they_were_made_in(storage, set_clock):
    """The clock jumped back between two decisions: the later one still wins,
    and a person's decisions come in the order they were made."""
    c = contact()
    set_clock("2026-12-01T00:00:05+00:00")
    with storage.transaction() as people:
        people.save(
            {**c, "status": "confirmed"},
            {"id": "d1", "ts": clock.now_iso(), "type": "confirm", "contact": c["id"]},
        )
    set_clock("2026-11-30T23:59:50+00:00")  # the clock was set back
    with storage.transaction() as people:
        people.save(
            {**c, "status": "unsubscribed"},
            {
                "id": "d2",
                "ts": clock.now_iso(),
                "type": "unsubscribe",
                "contact": c["id"],
            },
        )
    assert storage.get_contact(c["id"])["status"] == "unsubscribed"
    assert [e["id"] for e in storage.decisions(c["id"])] == ["d1", "d2"]
    [(_, decided)] = storage.iter_people()
    assert [e["id"] for e in decided] == ["d1", "d2"]


def test_erase_removes_the_contact_and_its_timeline(storage):
    keep, gone = (
        contact("keep@example.com"),
        contact("gone@example.com", first_name="Gone"),
    )
    with storage.transaction() as people:
        people.save(keep)
        people.save(
            gone,
            {"id": "e", "ts": gone["created"], "type": "signup", "contact": gone["id"]},
        )
    assert storage.erase_contact(gone["id"])
    assert not storage.erase_contact(gone["id"])
    assert storage.find_contact("gone@example.com") is None
    assert storage.timeline(gone["id"]) == []
    assert storage.find_contact("keep@example.com") == keep
    with storage.transaction() as people:
        people.save({**keep, "first_name": "Still here"})
    assert storage.get_contact(keep["id"])["first_name"] == "Still here"


def test_meta_update_is_read_modify_write(storage):
    assert storage.get_meta("salts", {}) == {}
    storage.update_meta("salts", lambda old: {**(old or {}), "d1": "s1"})
    storage.update_meta("salts", lambda old: {**(old or {}), "d2": "s2"})
    assert storage.get_meta("salts") == {"d1": "s1", "d2": "s2"}
    storage.update_meta("salts", lambda old: None)
    assert storage.get_meta("salts") is None


# -- the embedded backend's files ------------------------------------------------


def test_erase_leaves_no_trace_in_the_files(tmp_path):
    storage = TinyDBStorage(str(tmp_path))
    gone = contact("trace@example.com", first_name="Tracey")
    with storage.transaction() as people:
        people.save(contact("other@example.com"))
        people.save(gone)
    storage.erase_contact(gone["id"])
    storage.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"trace@example.com" not in data and b"Tracey" not in data, path


def test_erase_blanks_the_id_in_the_records_that_stay(tmp_path, set_clock):
    set_clock("2027-01-15T10:00:00+00:00")  # the click below is from November
    storage = TinyDBStorage(str(tmp_path))
    gone = contact("gone@example.com")
    friend = contact("friend@example.com", referred_by=gone["id"])
    with storage.transaction() as people:
        people.save(gone)
        people.save(friend)
    storage.append_event(event(type="click", contact=gone["id"], visitor="v1"))
    storage.append_event(event(type="click", contact=friend["id"], visitor="v2"))
    storage.ledger_add("digest-1", gone["id"])
    storage.ledger_add("digest-1", friend["id"])
    storage.erase_contact(gone["id"])
    assert len(list(storage.iter_events())) == 2  # the observations stay
    assert storage.ledger_keys("digest-1") == {friend["id"], "x" * len(gone["id"])}
    assert storage.get_contact(friend["id"])["referred_by"] == "x" * len(gone["id"])
    assert storage.timeline(friend["id"])[-1]["type"] == "click"
    storage.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert gone["id"].encode() not in path.read_bytes(), path


def test_other_processes_see_an_erase(tmp_path):
    one, two = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    c = contact()
    with one.transaction() as people:
        people.save(c)
    assert two.find_contact(c["email"])  # two has folded it
    one.erase_contact(c["id"])
    assert two.find_contact(c["email"]) is None
    with two.transaction() as people:  # two's writer reopened its files
        people.save(contact("new@example.com"))
    assert one.find_contact("new@example.com")


def test_a_torn_last_line_is_never_read(tmp_path):
    journal = Journal(str(tmp_path))
    journal.append({"n": 1}, "2026-11", sync=True)
    path = tmp_path / "2026-11" / (journal.writer + ".jsonl")
    with open(path, "ab") as f:
        f.write(b'{"n": 2, "half')  # what a kill -9 mid-write could leave
    assert [r["n"] for _, _, r in journal.read({})] == [1]
    journal.close()


def test_readers_pick_up_only_new_lines(tmp_path):
    journal = Journal(str(tmp_path))
    offsets = {}
    for n in range(3):
        journal.append({"n": n}, "2026-11")
    for name, offset, _ in journal.read(offsets):
        offsets[name] = offset
    journal.append({"n": 3}, "2026-11")
    assert [r["n"] for _, _, r in journal.read(offsets)] == [3]
    journal.close()


def test_events_reach_the_disk_within_the_flush_interval(tmp_path):
    journal = Journal(str(tmp_path), flush_interval=0.05)
    journal.append({"n": 1}, "2026-11")
    assert journal._flusher is not None and journal._flusher.is_alive()
    journal.close()
    assert not journal._dirty


def test_read_only_data_dir_is_unavailable_then_recovers(tmp_path):
    storage = TinyDBStorage(str(tmp_path))
    storage.append_event(event())
    with read_only(tmp_path):
        with pytest.raises(StorageUnavailable, match="Cannot store data now"):
            storage.append_event(event())
        with pytest.raises(StorageUnavailable):
            with storage.transaction() as people:
                people.save(contact())
    storage.append_event(event())
    with storage.transaction() as people:
        people.save(contact())
    assert len(list(storage.iter_events())) == 2
    assert len(list(storage.iter_contacts())) == 1
    storage.close()


def test_people_snapshot_spares_a_new_process_the_journal(tmp_path, monkeypatch):
    monkeypatch.setattr(PeopleSnapshot, "EVERY_LINES", 3)
    first = TinyDBStorage(str(tmp_path))
    with first.transaction() as people:
        for n in range(3):
            c = contact(f"p{n}@example.com")
            people.save(c, event(contact=c["id"], type="signup"))
    first.get_contact("anyone")  # a read outside the lock renews the snapshot
    assert (tmp_path / "people.json").is_file()
    with first.transaction() as people:  # one more line: the journal's tail
        people.save(contact("tail@example.com", ref_code="R1"))
    second = TinyDBStorage(str(tmp_path))
    view = second._refresh()
    assert view.offsets and len(view) == 4
    found = second.find_contact("p2@example.com")
    assert [e["type"] for e in second.decisions(found["id"])] == ["signup"]
    with second.transaction() as people:
        assert people.find_by("ref_code", "R1")["email"] == "tail@example.com"
    first.close(), second.close()


def test_erase_deletes_the_people_snapshot(tmp_path, monkeypatch):
    monkeypatch.setattr(PeopleSnapshot, "EVERY_LINES", 1)
    storage = TinyDBStorage(str(tmp_path))
    gone = contact("snap@example.com", first_name="Snappy")
    with storage.transaction() as people:
        people.save(gone)
        people.save(contact("stays@example.com"))
    storage.get_contact(gone["id"])
    assert b"snap@example.com" in (tmp_path / "people.json").read_bytes()
    storage.erase_contact(gone["id"])
    storage.get_contact("anyone")  # renews the snapshot, without them
    storage.close()
    assert b"stays@example.com" in (tmp_path / "people.json").read_bytes()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"snap@example.com" not in path.read_bytes(), path


def test_a_stale_process_never_saves_an_erased_person_back(tmp_path, monkeypatch):
    monkeypatch.setattr(PeopleSnapshot, "EVERY_LINES", 1)
    stale, eraser = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    gone = contact("gone@example.com")
    with eraser.transaction() as people:
        people.save(gone)
    stale._refresh()  # folded before the erase
    eraser.erase_contact(gone["id"])
    stale.people.save_snapshot()  # its save comes too late: refused
    snapshot = tmp_path / "people.json"
    assert not snapshot.exists() or b"gone@example.com" not in snapshot.read_bytes()
    stale.close(), eraser.close()


def test_summary_counts_what_other_processes_stored(tmp_path):
    one, two = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    one.append_event(event(visitor="a"))
    two.append_event(event(visitor="b"))
    assert one.summary()["visitors"] == two.summary()["visitors"] == 2
    one.close()
    two.close()


def test_ledgers_remember_what_was_done(storage):
    assert storage.ledger_keys("digest-2026-11-23") == set()
    storage.ledger_add("digest-2026-11-23", "c1")
    storage.ledger_add("digest-2026-11-23", "c2")
    storage.ledger_add("digest-2026-12-01", "c1")
    assert storage.ledger_keys("digest-2026-11-23") == {"c1", "c2"}


def test_a_ledger_is_shared_between_processes(tmp_path):
    one, two = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    one.ledger_add("d", "c1")
    two.ledger_add("d", "c2")
    assert one.ledger_keys("d") == two.ledger_keys("d") == {"c1", "c2"}
    one.close()
    two.close()


def test_meta_from_several_processes_never_collides(tmp_path):
    one, two = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    one.update_meta("a", lambda old: 1)
    two.update_meta("b", lambda old: 2)
    one.update_meta("c", lambda old: 3)  # TinyDB's cached next id would clash here
    two.update_meta("a", lambda old: None)
    two.update_meta("a", lambda old: 4)
    assert [one.get_meta(k) for k in "abc"] == [4, 2, 3]
    one.close()
    two.close()


def test_contacts_page_pages_last_seen_first_and_searches(storage, set_clock):
    """The contact list's pages come from the storage, each person read once."""
    made = []
    for n in range(5):
        set_clock(f"2026-12-0{n + 1}T10:00:00+00:00")
        c = contact(f"r{n}@example.com", first_name=f"Aino{n}" if n == 3 else "")
        with storage.transaction() as people:
            people.save(c)
        made.append(c)
    set_clock("2026-12-09T10:00:00+00:00")  # the first comes back: seen last
    decision = {"id": "d", "ts": clock.now_iso(), "type": "confirm"}
    with storage.transaction() as people:
        people.save(made[0], {**decision, "contact": made[0]["id"]})
    order = [made[i]["email"] for i in (0, 4, 3, 2, 1)]
    page, total = storage.contacts_page(0, 2)
    assert total == 5 and [c["email"] for c, _ in page] == order[:2]
    assert [e["id"] for e in page[0][1]] == ["d"]
    page, total = storage.contacts_page(4, 2)
    assert [c["email"] for c, _ in page] == order[4:]
    found, total = storage.contacts_page(0, 10, "aino")
    assert total == 1 and found[0][0]["id"] == made[3]["id"]
    assert storage.contacts_page(0, 10, "%")[1] == 0  # no wildcards
    page, total = storage.contacts_page(2, 2, "example")  # a search's page
    assert total == 5 and [c["email"] for c, _ in page] == order[2:4]
    assert storage.contacts_page(9, 2, "example") == ([], 5)  # past its end
    storage.erase_contact(made[4]["id"])
    assert [c["email"] for c, _ in storage.contacts_page(0, 9)[0]] == [
        e for e in order if e != made[4]["email"]
    ]


def test_a_browser_belongs_to_whoever_last_proved_it_theirs(storage):
    """GET /api/next's look-up: one answer on every backend, no pass over everyone."""
    people = [
        contact(f"r{n}@example.com", visitors=[f"v{n}", f"w{n}"]) for n in range(4)
    ]
    with storage.transaction() as tx:
        for p in people:
            tx.save(p)
    with storage.transaction() as tx:  # a browser forgotten, one taken over
        tx.save({**people[0], "visitors": ["w0", "v1"]})
    storage.erase_contact(people[3]["id"])
    ids = [p["id"] for p in people]
    expected = {"w0": ids[0], "v1": ids[0], "w1": ids[1], "v2": ids[2], "w2": ids[2]}
    for visitor in [*expected, "v0", "v3", "w3", "nobody"]:
        assert storage.visitor_owner(visitor) == expected.get(visitor), visitor
