"""The storage interface's narrow reads, on every backend: what the full reads
they stand in for would give, and nothing more."""

from __future__ import annotations

from .test_backends import contact, event


def test_events_of_selects_types_and_named_events_since_a_time(storage):
    stored = [
        event("2026-11-01T10:00:00+00:00", type="exposure", experiment="a"),
        event("2026-11-20T10:00:00+00:00", type="exposure", experiment="a"),
        event("2026-11-20T10:01:00+00:00"),  # a pageview
        event("2026-11-20T10:02:00+00:00", type="event", name="Booked a call"),
        event("2026-11-20T10:03:00+00:00", type="event", name="outbound"),
        event("2026-12-01T10:04:00+00:00", type="click", contact="c1"),
        event("2026-12-01T10:05:00+00:00", type="bot"),
        event("2026-12-01T10:06:00+00:00", type="pageview", name="Booked a call"),
    ]
    for e in stored:
        storage.append_event(e)

    def ids(found):
        return sorted(e["id"] for e in found)

    def full(since, types, names):
        return [
            e
            for e in storage.iter_events(since)
            if e["type"] in types or (e["type"] == "event" and e.get("name") in names)
        ]

    for since in (None, "2026-11-20", "2026-11-20T10:02:00+00:00"):
        for types, names in (
            (("exposure", "click"), ("Booked a call",)),
            (("exposure",), ()),
            ((), ("Booked a call", "outbound")),
        ):
            found = list(storage.events_of(since, types, names))
            assert ids(found) == ids(full(since, types, names))
    assert ids(storage.events_of("2026-11-20", ("exposure",), ())) == [stored[1]["id"]]
    assert storage.events_of(None, ("click",))  # names are optional
    (booked,) = storage.events_of(None, (), ("Booked a call",))
    assert booked == stored[3]


def test_decisions_of_gives_each_decision_of_a_type_with_its_persons_visitors(
    storage, set_clock
):
    set_clock("2026-11-20T10:00:00+00:00")
    ann = contact("ann@example.com", visitors=["v1", "v2"])
    bob = contact("bob@example.com")  # no visitors proved
    cid = contact("cid@example.com", visitors=["v3"])
    with storage.transaction() as people:
        for person, kind, ts in (
            (ann, "signup", "2026-11-01T10:00:00+00:00"),
            (bob, "signup", "2026-11-10T10:00:00+00:00"),
            (ann, "confirm", "2026-11-11T10:00:00+00:00"),
            (ann, "download", "2026-11-12T10:00:00+00:00"),
            (cid, "download", "2026-11-13T10:00:00+00:00"),
        ):
            decision = {"id": f"{kind}-{ts}", "ts": ts, "type": kind}
            people.save(person, {**decision, "contact": person["id"]})

    def full(types, since):
        return [
            (c["id"], list(c.get("visitors") or ()), d)
            for c, decided in storage.iter_people()
            for d in decided
            if d["type"] in types and (since is None or d["ts"] >= since)
        ]

    for types in (("signup",), ("signup", "download"), ("purchase", "booking")):
        for since in (None, "2026-11-10", "2026-11-12T10:00:00+00:00"):
            found = list(storage.decisions_of(types, since))
            assert sorted(found, key=str) == sorted(full(types, since), key=str)
    downloads = list(storage.decisions_of(("download",), "2026-11-12"))
    assert [(c, v, d["ts"]) for c, v, d in downloads] == [
        (ann["id"], ["v1", "v2"], "2026-11-12T10:00:00+00:00"),
        (cid["id"], ["v3"], "2026-11-13T10:00:00+00:00"),
    ]


def test_events_of_finds_names_that_json_escapes_or_spells_in_unicode(storage):
    names = ('Said "hi"', "back\\slash", "päivä", "tab\there")
    stored = [event(type="event", name=n) for n in names]
    stored.append(event(type="event", name="Said"))  # a part of a name is not it
    for e in stored:
        storage.append_event(e)
    for name, e in zip(names, stored, strict=False):
        assert [x["id"] for x in storage.events_of(None, (), (name,))] == [e["id"]]
    assert len(list(storage.events_of(None, ("event",)))) == len(stored)
    assert list(storage.events_of(None, ())) == []
