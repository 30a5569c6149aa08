"""Every backend keeps each person's facts beside them, as their saves fold:
the facts it gives are the core's for their whole timeline."""

from __future__ import annotations

import random

import pytest

from tracker import clock
from tracker.journey import facts


def person(n: int) -> dict:
    return {
        "id": f"c{n:03d}",
        "email": f"reader{n}@example.com",
        "first_name": f"Reader{n}",
        "created": clock.now_iso(),
        "status": "pending",
        "visitors": [],
    }


def decide(storage, contact: dict, kind: str, day: str, **fields) -> None:
    event = {
        "id": f"{contact['id']}-{kind}-{day}",
        "type": kind,
        "contact": contact["id"],
    }
    event["ts"] = f"{day}T10:00:00+00:00"
    with storage.transaction() as tx:
        if kind == "confirm":
            contact.update(status="confirmed", lead_at=event["ts"])
        if kind == "purchase":
            contact["customer_at"] = contact.get("customer_at") or event["ts"]
        tx.save(dict(contact), {**event, **fields})


def populate(storage, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    people = [person(n) for n in range(12)]
    for contact in people:
        with storage.transaction() as tx:
            tx.save(dict(contact))
    for _ in range(40):
        contact = rng.choice(people)
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        kind = rng.choice(["confirm", "download", "purchase", "feedback"])
        extra = {"value": rng.randint(1, 99)} if kind == "purchase" else {}
        if kind == "feedback":
            extra = {"score": rng.randint(0, 10)}
        decide(storage, contact, kind, day, **extra)
    people[3]["referred_by"] = people[0]["id"]
    with storage.transaction() as tx:
        tx.save(dict(people[3]))
    return people


def expected(storage) -> dict[str, dict]:
    return {c["id"]: facts.of(c, d) for c, d in storage.iter_people()}


def test_the_facts_are_the_whole_timelines(storage):
    populate(storage)
    whole = expected(storage)
    assert {f["id"]: f for f in storage.people_facts()} == whole
    buyers = {k for k, f in whole.items() if f.get("purchases")}
    assert {f["id"] for f in storage.people_facts(having="purchases")} == buyers
    customers = {k for k, f in whole.items() if f["stage"] == "customer"}
    assert {f["id"] for f in storage.people_facts(stages=["customer"])} == customers


def test_a_period_gives_everyone_with_something_in_it(storage):
    populate(storage)
    whole = expected(storage)
    since, until = "2026-05-01", "2026-06-30"
    kept = {f["id"] for f in storage.people_facts(since, until)}
    assert {k for k, f in whole.items() if facts.active(f, since, until)} <= kept


def test_referrals_come_with_their_referrers_and_lose_an_erased_one(storage):
    people = populate(storage)
    referred = {f["id"] for f in storage.people_facts(referred=True)}
    assert referred == {people[3]["id"], people[0]["id"]}
    storage.erase_contact(people[0]["id"])
    left = list(storage.people_facts(referred=True))
    assert [f["id"] for f in left] == [people[3]["id"]]
    # the facts say what the stored contact says (id overwritten, or not in memory)
    doc = storage.get_contact(people[3]["id"])
    assert left[0]["referred_by"] == doc["referred_by"]


def test_the_stage_filter_pages_by_the_facts_stage(storage):
    populate(storage)
    whole = expected(storage)
    for stage in ("engaged", "lead", "customer", "advocate"):
        page, total = storage.contacts_page(0, 50, "", stage)
        assert {c["id"] for c, _ in page} == {
            k for k, f in whole.items() if f["stage"] == stage
        }
        assert total == len(page)


@pytest.mark.parametrize("storage", ["postgres"], indirect=True)
def test_contacts_saved_before_facts_get_theirs_from_their_timelines(storage):
    populate(storage)
    whole = expected(storage)
    with storage.db.connect() as conn:
        conn.execute("UPDATE contacts SET facts = NULL")
    people = {c["id"]: c for c, _ in storage.iter_people()}
    decide(storage, people["c001"], "download", "2026-12-01", guide="g")
    whole["c001"] = facts.of(people["c001"], storage.decisions("c001"))
    assert storage.fill_facts() == len(whole)
    assert {f["id"]: f for f in storage.people_facts()} == whole
