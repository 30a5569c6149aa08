"""The journey map: first source -> first content -> stage, adding up to the
period's visitors; and the time to convert per source."""

from __future__ import annotations

from collections import Counter

import pytest

from tracker.journey import journey_map

SINCE, UNTIL = "2026-11-01", "2026-11-30"


def visits(*rows):
    return [{"source": s, "landing": p, "visitors": n} for s, p, n in rows]


def person(cid, source, landing, ts="2026-11-05T10:00:00+00:00", **stages):
    return {
        "id": cid,
        "status": "none",
        "first_touch": {"ts": ts, "source": source, "landing": landing},
        "lead_at": None,
        "customer_at": None,
        "advocate_at": None,
        **stages,
    }


PEOPLE = [
    person("a", "facebook", "/a/", lead_at="2026-11-05T10:10:00+00:00"),
    person(
        "b",
        "facebook",
        "/a/",
        lead_at="2026-11-06T10:00:00+00:00",
        customer_at="2026-11-08T10:00:00+00:00",
    ),
    person("c", "google", "/b/", advocate_at="2026-11-09T00:00:00+00:00"),
    person("d", "google", "/b/"),  # asked, never proved: not yet a lead
    person("e", "google", "/b/", ts="2026-10-20T10:00:00+00:00", lead_at="x"),
    {"id": "f", "status": "confirmed"},  # no first visit seen: not on the map
]
FIRST_VISITS = visits(
    ("facebook", "/a/", 10), ("google", "/b/", 5), ("direct", "/a/", 4), (None, None, 3)
)


def journey():
    return journey_map.build(FIRST_VISITS, journey_map.cohort(PEOPLE, SINCE, UNTIL))


def test_the_bands_add_up_to_the_periods_visitors_in_every_column():
    found = journey()
    assert found["total"] == 22  # 10 + 5 + 4 + 3: every visitor once
    for column in journey_map.COLUMNS:
        assert sum(n["count"] for n in found["columns"][column]) == 22
    out_of = Counter()
    into = Counter()
    for band in found["bands"]:
        out_of[band["from"]] += band["count"]
        into[band["to"]] += band["count"]
    for node in found["columns"]["content"]:
        key = ("content", node["key"])
        assert out_of[key] == into[key] == node["count"]
    assert sum(b["share"] for b in found["bands"] if b["from"][0] == "source") == (
        pytest.approx(1.0)
    )


def test_each_band_holds_its_people_and_the_rest_are_not_yet_leads():
    found = journey()
    people = {(b["from"], b["to"]): (b["count"], b["people"]) for b in found["bands"]}
    assert people[("source", "facebook"), ("content", "/a/")] == (10, ["a", "b"])
    assert people[("content", "/a/"), ("stage", "lead")] == (1, ["a"])
    assert people[("content", "/a/"), ("stage", "customer")] == (1, ["b"])
    assert people[("content", "/b/"), ("stage", "advocate")] == (1, ["c"])
    # 14 came first to /a/, two converted; d has not proved their address
    assert people[("content", "/a/"), ("stage", "visitor")] == (12, [])
    assert people[("content", "/b/"), ("stage", "visitor")] == (4, ["d"])
    assert people[("source", None), ("content", None)] == (3, [])
    assert journey_map.band_people(
        found, ("content", "/b/"), ("stage", "advocate")
    ) == ["c"]
    assert journey_map.band_people(found, ("content", "/b/"), ("stage", "lead")) is None


def test_small_sources_and_pages_are_grouped():
    rows = visits(*[(f"s{i}", f"/p{i}/", 10 - i) for i in range(6)])
    found = journey_map.build(rows, [], top_sources=3, top_contents=2)
    sources = [n["key"] for n in found["columns"]["source"]]
    assert sources == ["s0", "s1", "s2", journey_map.OTHER]
    other = next(n for n in found["columns"]["source"] if n["key"] == journey_map.OTHER)
    assert other["count"] == 7 + 6 + 5
    assert [n["key"] for n in found["columns"]["content"]][-1] == journey_map.OTHER
    assert found["total"] == sum(10 - i for i in range(6))


def test_more_people_than_counted_visitors_are_shown_not_hidden():
    people = [
        person("x", "news", "/n/", lead_at="2026-11-05T11:00:00+00:00"),
        person("y", "news", "/n/", lead_at="2026-11-05T11:00:00+00:00"),
    ]
    found = journey_map.build(
        visits(("news", "/n/", 1)), journey_map.cohort(people, SINCE, UNTIL)
    )
    assert found["total"] == 2
    assert journey_map.band_people(found, ("content", "/n/"), ("stage", "lead")) == [
        "x",
        "y",
    ]


def test_time_to_convert_median_and_quartiles_per_source():
    def contact(source, first, lead, customer=None):
        return {
            "first_touch": {"ts": first, "source": source},
            "lead_at": lead,
            "customer_at": customer,
        }

    day = "2026-11-{:02d}T00:00:00+00:00".format
    contacts = [
        contact("facebook", day(1), day(2), day(12)),  # 1 day, then 10 days
        contact("facebook", day(1), day(3)),  # 2 days
        contact("facebook", day(1), day(5)),  # 4 days
        contact("facebook", day(1), day(9), day(11)),  # 8 days, then 2 days
        contact("google", day(4), day(4)),  # at once
        contact("google", "2026-10-01T00:00:00+00:00", "2026-10-02T00:00:00+00:00"),
    ]
    rows = journey_map.time_to_convert(contacts, SINCE, UNTIL)
    assert [r["source"] for r in rows] == [None, "facebook", "google"]
    every, facebook, google = rows
    days = 86400
    assert facebook["to_lead"] == {
        "n": 4,
        "q1": 1.75 * days,
        "median": 3 * days,
        "q3": 5 * days,
    }
    assert facebook["to_customer"]["median"] == 6 * days
    assert google["to_lead"] == {"n": 1, "q1": 0, "median": 0, "q3": 0}
    assert google["to_customer"] is None
    assert every["to_lead"]["n"] == 5 and every["to_customer"]["n"] == 2
