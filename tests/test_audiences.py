"""The audience lists from what is stored (`tracker.audiences`), on every
backend: the narrowed, streamed reads give what the full reads give."""

from __future__ import annotations

from tracker.audiences import find_members, interests_by_contact
from tracker.journey.audiences import default_audiences
from tracker.journey.members import members
from tracker.journey.profiles import profiles

from .journey.audience_records import MANIFEST, NOW, contact, ts

POSTS = ("/posts/kahvi-1/", "/posts/kahvi-2/index.html", "/posts/tee-1/?utm=x")


def _store(storage):
    """Twelve people of every kind, their decisions, and what they read."""
    people = []
    for n in range(12):
        status = ("confirmed", "none", "unsubscribed", "pending")[n % 4]
        person = contact(f"p{n}", status=status, visitors=[f"v{n}", f"w{n % 3}"])
        if n % 5 == 0:
            person["consent"] = {**person["consent"], "ads": None}
        if n % 6 == 1:
            person["customer_at"] = ts(3)
        people.append(person)
    with storage.transaction() as saving:
        for n, person in enumerate(people):
            saving.save(person)
            kinds = ("download", "purchase", "feedback", "quote")[: n % 5]
            for k, kind in enumerate(kinds):
                decision = {"id": f"{person['id']}-{kind}", "ts": ts(20 - k)}
                decision.update(type=kind, contact=person["id"], guide="kahvi-opas")
                saving.save(person, {**decision, "score": 9})
    for day in range(40):
        for n in range(0, 12, 1 + day % 3):
            path = POSTS[(n + day) % len(POSTS)]
            seen = {"id": f"e{day}-{n}", "ts": ts(day + n / 100), "path": path}
            storage.append_event({**seen, "type": "pageview", "visitor": f"v{n}"})
        shared = {"id": f"s{day}", "ts": ts(day + 0.5), "path": POSTS[day % 3]}
        storage.append_event({**shared, "type": "pageview", "visitor": f"w{day % 3}"})
        anonymous = {"id": f"a{day}", "ts": ts(day + 0.7), "path": POSTS[0]}
        storage.append_event({**anonymous, "type": "pageview", "visitor": "nobody"})
        if day % 4 == 0:
            click = {"id": f"c{day}", "ts": ts(day + 0.2), "type": "click"}
            storage.append_event({**click, "contact": f"p{day % 12}"})
        storage.append_event({"id": f"b{day}", "ts": ts(day), "type": "bot"})
    return people


def test_find_members_is_the_full_read(storage):
    _store(storage)
    everyone = list(storage.iter_people())
    contacts = [c for c, _ in everyone]
    timelines = {c["id"]: decided for c, decided in everyone}
    found = profiles(storage.iter_events(), contacts, MANIFEST)
    expected = members(default_audiences(MANIFEST), contacts, found, timelines, NOW)

    got, source = find_members(storage, MANIFEST, None, NOW)
    assert got == expected
    assert got.audiences == expected.audiences
    assert source["contacts"] == 12
    assert sum(len(rows) for rows in got.values()) > 12  # the data reaches the lists
    assert any(row["interests"] for rows in got.values() for row in rows)


def test_interests_by_contact_are_those_of_every_event(storage):
    people = _store(storage)
    some = people[::2]
    expected = {
        cid: {**dict(p.categories), **p.tags}
        for cid, p in profiles(storage.iter_events(), some, MANIFEST).items()
    }
    assert interests_by_contact(storage, MANIFEST, some) == expected
    assert expected and set(expected) <= {p["id"] for p in some}
