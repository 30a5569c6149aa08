"""The narrowed pass over everyone `polku audiences` makes: only the fields
asked for (`stream_people(fields, decision_fields)`, on every backend), and
on PostgreSQL what it reads kept by every write, so no contact's whole JSON
is parsed: the browsers' owners (`contact_visitors`, migration 0013) and the
lists' fields (`contact_fields`, 0014)."""

from __future__ import annotations

import pytest

from tracker.journey.members import DECISION_READS, READS
from tracker.storage.postgres.db import migration_files
from tracker.storage.postgres.reads import KEPT

from .test_backends import contact, event
from .test_postgres import storage_pg  # noqa: F401 - a fixture

TYPES = ("pageview", "event", "click")
# A download, a feedback score and a decision of an odd type (a number).
DECISIONS = [
    {
        "id": "d1",
        "ts": "2026-11-02T10:00:00+00:00",
        "type": "download",
        "guide": "g",
    },
    {"id": "d2", "ts": "2026-11-03T10:00:00+00:00", "type": "feedback", "score": 9},
    {"id": "d3", "ts": "2026-11-04T10:00:00+00:00", "type": 7},
]


def _save(storage, person, *decisions):
    with storage.transaction() as people:
        people.save(person)
        for decision in decisions:
            people.save(person, {**decision, "contact": person["id"]})


def test_stream_people_narrowed_holds_what_the_full_read_does(storage):
    ann = contact("ann@example.com", visitors=["v1"], zip=33100, first_name=None)
    ann["consent"] = {"newsletter": {"ts": "2026-11-01"}, "ads": None}
    bob = contact("bob@example.com", erased=True, feedback={"score": 10})
    _save(storage, ann, *DECISIONS)
    _save(storage, bob)
    full = list(storage.iter_people())
    narrow = list(storage.stream_people(READS, DECISION_READS))
    assert [c["id"] for c, _ in narrow] == [c["id"] for c, _ in full]
    for (whole, timeline), (got, decided) in zip(full, narrow, strict=True):
        for field in READS:
            assert got.get(field) == whole.get(field), field
        assert len(decided) == len(timeline)
        for kept, made in zip(decided, timeline, strict=True):
            for field in ("ts", "type", *DECISION_READS):
                assert kept.get(field) == made.get(field), field
    assert narrow[0][0]["zip"] == 33100  # as stored, not as text
    assert narrow[0][1][2]["type"] == 7


def test_stream_people_without_fields_is_the_full_read(storage):
    _save(storage, contact("ann@example.com"))
    assert list(storage.stream_people()) == list(storage.iter_people())


def _owners(storage):
    found = storage.observations_of_people(TYPES)
    return {r["visitor"]: r["owner"] for r in found}


def test_every_write_keeps_the_browsers_owners(storage_pg):  # noqa: F811
    """A save, a changed list of browsers, an erasure: the first contact saved
    holding a browser owns it, as the full read has it."""
    ann = contact("ann@example.com", visitors=["shared", "a"])
    bob = contact("bob@example.com", visitors=["shared", "b", "b"])
    for person in (ann, bob):
        _save(storage_pg, person)
    for visitor in ("shared", "a", "b", "c", "nobody"):
        storage_pg.append_event(event(visitor=visitor))
    assert _owners(storage_pg) == {"shared": ann["id"], "a": ann["id"], "b": bob["id"]}
    _save(storage_pg, {**ann, "visitors": ["a", "c"]})
    assert _owners(storage_pg) == {
        "shared": bob["id"],
        "a": ann["id"],
        "b": bob["id"],
        "c": ann["id"],
    }
    storage_pg.erase_contact(bob["id"])
    assert _owners(storage_pg) == {"a": ann["id"], "c": ann["id"]}
    with storage_pg.db.connect() as conn:
        kept = conn.execute("SELECT visitor, contact FROM contact_visitors").fetchall()
    assert sorted(kept) == [("a", ann["id"]), ("c", ann["id"])]


@pytest.mark.parametrize("visitors", [["x", "y"], "not-a-list", None])
def test_the_upgrade_keeps_the_browsers_of_contacts_saved_before(
    storage_pg,  # noqa: F811
    visitors,
):
    """Migration 0013 fills contact_visitors from the contacts already stored."""
    first = contact("a@example.com", visitors=["shared", "a-only"])
    later = contact("b@example.com", visitors=visitors)
    with storage_pg.db.connect() as conn:
        conn.execute(
            "DROP TRIGGER contacts_keep_visitors ON contacts;"
            "DROP FUNCTION polku_keep_visitors(), polku_visitor_owners(),"
            " polku_visitors(json);"
            "DROP TABLE contact_visitors"
        )
    for person in (first, later, {**first, "first_name": "Ann"}):
        _save(storage_pg, person)
    with storage_pg.db.connect() as conn:
        conn.execute(dict(migration_files())["0013_contact_visitors"])
        kept = conn.execute(
            "SELECT visitor, contact FROM contact_visitors ORDER BY visitor"
        ).fetchall()
        owners = dict(conn.execute("SELECT * FROM polku_visitor_owners()"))
    expected = {("a-only", first["id"]), ("shared", first["id"])}
    if isinstance(visitors, list):
        expected |= {(v, later["id"]) for v in visitors}
    assert set(kept) == expected and len(kept) == len(expected)
    assert owners["shared"] == first["id"]


def _kept(storage):
    with storage.db.connect() as conn:
        found = conn.execute("SELECT id, doc FROM contact_fields ORDER BY seq")
        return {contact_id: doc for contact_id, doc in found}


def _fields(person):
    return {f: person.get(f) for f in KEPT if f != "id"}


def test_the_lists_fields_are_kept_by_every_write(storage_pg):  # noqa: F811
    """contact_fields holds what the rules and files read, as each save left it;
    the facts' upgrade (a write of facts alone) does not touch it."""
    assert set(READS) <= KEPT  # the audiences' pass reads the kept copy
    ann = contact("ann@example.com", zip=33100, consent={"ads": None}, phone="+3584")
    bob = contact("bob@example.com", status="confirmed")
    for person in (ann, bob):
        _save(storage_pg, person)
    assert _kept(storage_pg) == {ann["id"]: _fields(ann), bob["id"]: _fields(bob)}
    ann = {**ann, "city": "Tampere", "zip": None, "status": "unsubscribed"}
    _save(storage_pg, ann)
    written = "SELECT xmin::text FROM contact_fields ORDER BY seq"
    with storage_pg.db.connect() as conn:
        before = conn.execute(written).fetchall()
        conn.execute("UPDATE contacts SET facts = NULL")  # as before 0009's fill
    assert storage_pg.fill_facts() == 2
    with storage_pg.db.connect() as conn:
        assert conn.execute(written).fetchall() == before
    assert _kept(storage_pg)[ann["id"]] == _fields(ann)
    storage_pg.erase_contact(bob["id"])
    assert list(_kept(storage_pg)) == [ann["id"]]
    streamed = list(storage_pg.stream_people(READS, DECISION_READS))
    assert streamed == [({**_fields(ann), "id": ann["id"]}, [])]


def test_the_upgrade_keeps_the_lists_fields_of_contacts_saved_before(
    storage_pg,  # noqa: F811
):
    """Migration 0014 fills contact_fields from the contacts already stored."""
    with storage_pg.db.connect() as conn:
        conn.execute(
            "DROP TRIGGER contacts_keep_fields ON contacts;"
            "DROP FUNCTION polku_keep_fields(), polku_list_fields(json);"
            "DROP TABLE contact_fields"
        )
    ann = contact("ann@example.com", first_name="Ann", feedback={"score": 9})
    bob = contact("bob@example.com", erased=True, suppressed={"reason": "complaint"})
    for person in (ann, bob):
        _save(storage_pg, person)
    with storage_pg.db.connect() as conn:
        conn.execute(dict(migration_files())["0014_contact_fields"])
    assert _kept(storage_pg) == {ann["id"]: _fields(ann), bob["id"]: _fields(bob)}


def test_ordering_the_browsers_table_changes_no_owner(storage_pg):  # noqa: F811
    """Migration 0015 rewrites contact_visitors in its key's order, no more."""
    people = [
        contact(f"{n}@example.com", visitors=[f"v{9 - n}", "s"]) for n in range(5)
    ]
    for person in people:
        _save(storage_pg, person)
    with storage_pg.db.connect() as conn:
        before = conn.execute("SELECT * FROM polku_visitor_owners()").fetchall()
        conn.execute(dict(migration_files())["0015_contact_visitors_in_order"])
        after = conn.execute("SELECT * FROM polku_visitor_owners()").fetchall()
    assert sorted(after) == sorted(before)
    assert dict(after)["s"] == people[0]["id"]
    assert len(after) == 6


def test_the_later_months_read_apart_give_the_one_read(storage_pg, monkeypatch):  # noqa: F811
    """Many events are read as two halves of the months at once: the same
    records as one read, the earlier half's months first."""
    from tracker.storage.postgres import reads

    ann = contact("ann@example.com", visitors=["v1"])
    _save(storage_pg, ann)
    for month in ("2026-10", "2026-11", "2026-12", "2027-01"):
        for day in ("05", "20"):
            storage_pg.append_event(
                event(f"{month}-{day}T10:00:00+00:00", visitor="v1")
            )
    storage_pg.append_event(event("2026-12-07T10:00:00+00:00", contact=ann["id"]))
    whole = list(storage_pg.observations_of_people(TYPES, ("path",)))
    monkeypatch.setattr(reads, "SPLIT_FROM", 0)
    monkeypatch.setattr(reads, "SPLIT", "SELECT timestamptz '2026-12-01 00:00+00'")
    halves = list(storage_pg.observations_of_people(TYPES, ("path",)))
    assert sorted(halves, key=str) == sorted(whole, key=str) and len(whole) == 9
    months = [r["ts"][:7] for r in halves]
    assert max(months[:4]) < "2026-12" <= min(months[4:])


def _kept_decisions(storage):
    with storage.db.connect() as conn:
        found = conn.execute(
            "SELECT contact, ts, type, type_json, guide, score FROM decision_fields"
            " ORDER BY seq"
        )
        return found.fetchall()


def test_the_decisions_fields_are_kept_by_every_write(storage_pg):  # noqa: F811
    """decision_fields holds each decision's type, guide and score as the
    read of the documents gives them; an erasure removes the person's."""
    ann, bob = contact("ann@example.com"), contact("bob@example.com")
    _save(storage_pg, ann, *DECISIONS)
    _save(storage_pg, bob, {**DECISIONS[0], "id": "d4", "guide": bob["id"]})
    assert _kept_decisions(storage_pg) == [
        (ann["id"], DECISIONS[0]["ts"], "download", None, "g", None),
        (ann["id"], DECISIONS[1]["ts"], "feedback", None, None, 9),
        (ann["id"], DECISIONS[2]["ts"], None, 7, None, None),
        (bob["id"], DECISIONS[0]["ts"], "download", None, bob["id"], None),
    ]
    storage_pg.erase_contact(ann["id"])  # rewrites no one else's here
    assert [row[0] for row in _kept_decisions(storage_pg)] == [bob["id"]]
    blank = "x" * len(bob["id"])  # as an erasure rewrites a document
    with storage_pg.db.connect() as conn:
        conn.execute(
            "UPDATE decisions SET doc = replace(doc::text, %s, %s)::json",
            [bob["id"], blank],
        )
    assert _kept_decisions(storage_pg)[0][4] == blank


def test_the_upgrade_keeps_the_fields_of_decisions_made_before(
    storage_pg,  # noqa: F811
):
    """Migration 0016 fills decision_fields from the decisions already stored,
    and the narrowed stream reads the same from it as from the documents."""
    ann = contact("ann@example.com", visitors=["v1"])
    with storage_pg.db.connect() as conn:
        conn.execute(
            "DROP TRIGGER decisions_keep_fields ON decisions;"
            "DROP FUNCTION polku_keep_decision_fields();"
            "DROP TABLE decision_fields"
        )
    _save(
        storage_pg,
        ann,
        {
            "id": "d1",
            "ts": "2026-11-02T10:00:00+00:00",
            "type": "download",
            "guide": "g",
        },
        {"id": "d2", "ts": "2026-11-03T10:00:00+00:00", "type": "confirm"},
    )
    with storage_pg.db.connect() as conn:
        conn.execute(dict(migration_files())["0016_decision_fields"])
    assert [row[2] for row in _kept_decisions(storage_pg)] == ["download", "confirm"]
    kept = list(storage_pg.stream_people(READS, DECISION_READS))
    parsed = list(storage_pg.stream_people(READS, ("guide", "score", "form")))
    assert kept == [
        (p, [{k: v for k, v in d.items() if k != "form"} for d in t]) for p, t in parsed
    ]
    assert kept[0][1] == [
        {"ts": "2026-11-02T10:00:00+00:00", "type": "download", "guide": "g"},
        {"ts": "2026-11-03T10:00:00+00:00", "type": "confirm"},
    ]
