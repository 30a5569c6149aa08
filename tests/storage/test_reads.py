"""The reads for one pass over everyone (`stream_people`,
`observations_of_people`), on every backend: what the full reads give."""

from __future__ import annotations

from datetime import datetime

from .test_backends import contact, event

TYPES = ("pageview", "event", "click")


def _people(storage):
    """Ann and Bob share a browser (v2, Ann's first); Cid has one of his own."""
    ann = contact("ann@example.com", visitors=["v1", "v2"])
    bob = contact("bob@example.com", visitors=["v2", "v4"])
    cid = contact("cid@example.com", visitors=["v3"])
    with storage.transaction() as people:
        for person, kind, ts in (
            (ann, "signup", "2026-11-01T10:00:00+00:00"),
            (bob, "signup", "2026-11-02T10:00:00+00:00"),
            (ann, "confirm", "2026-11-03T10:00:00+00:00"),
            (cid, "download", "2026-11-04T10:00:00+00:00"),
        ):
            decision = {"id": f"{kind}-{ts}", "ts": ts, "type": kind, "guide": "g"}
            people.save(person, {**decision, "contact": person["id"]})
    return ann, bob, cid


def test_stream_people_gives_what_iter_people_does_in_its_order(storage):
    ann, bob, cid = _people(storage)
    quiet = contact("quiet@example.com")  # no decision
    with storage.transaction() as people:
        people.save(quiet)
    streamed = list(storage.stream_people())
    assert streamed == list(storage.iter_people())
    everyone = [ann["id"], bob["id"], cid["id"], quiet["id"]]
    assert [c["id"] for c, _ in streamed] == everyone
    assert [d["type"] for d in streamed[0][1]] == ["signup", "confirm"]
    assert streamed[3][1] == []


def test_observations_of_people_are_the_full_read_narrowed(storage):
    ann, bob, cid = _people(storage)
    stored = [
        event("2026-11-20T10:00:00+00:00", visitor="v1", path="/posts/a/"),
        event("2026-11-20T10:00:01+00:00", visitor="v2", path="/posts/b/?x=1"),
        event("2026-11-20T10:00:02+00:00", visitor="v9", path="/anonymous/"),
        event("2026-11-20T10:00:03+00:00", visitor="v4", path="/posts/c/"),
        event("2026-11-20T10:00:04+00:00", type="click", contact=cid["id"]),
        event("2026-11-20T10:00:05+00:00", type="bot", visitor="v1"),
        event("2026-11-20T10:00:06+00:00", type="event", name="x", visitor="v3"),
        event("2026-11-20T10:00:07+00:00", type="click", contact="x" * 32),
        event("2026-12-01T09:00:00.5+00:00", visitor="v3", contact=ann["id"]),
        event("2026-12-01T09:00:01+00:00", type="exposure", visitor="v1"),
    ]
    for e in stored:
        storage.append_event(e)

    owner: dict[str, str] = {}
    for person in storage.iter_contacts():
        for visitor in person["visitors"]:
            owner.setdefault(visitor, person["id"])
    expected = []
    for e in storage.iter_events():
        found = e.get("contact") or owner.get(e.get("visitor"))
        if e["type"] in TYPES and found:
            expected.append({**e, "owner": found})

    def narrow(records):
        """Each record's ts, type, visitor, contact, path and owner, by time."""
        found = [
            (
                datetime.fromisoformat(r["ts"]),
                r["type"],
                r.get("visitor"),
                r.get("contact"),
                r.get("path"),
                r["owner"],
            )
            for r in records
        ]
        return sorted(found, key=str)

    got = list(storage.observations_of_people(TYPES, ("path",)))
    assert narrow(got) == narrow(expected)
    months = [r["ts"][:7] for r in got]
    assert months == sorted(months)  # oldest month first
    assert [r["owner"] for r in sorted(got, key=lambda r: r["ts"])] == [
        ann["id"],  # v1
        ann["id"],  # v2: Ann's, saved first
        bob["id"],  # v4
        cid["id"],  # the click names him
        cid["id"],  # v3
        "x" * 32,  # an erased person's, as named
        ann["id"],  # named, whatever the browser
    ]
    assert [r["type"] for r in storage.observations_of_people(("click",))] == [
        "click",
        "click",
    ]
