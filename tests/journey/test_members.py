"""Audience members: each rule, exclusions and refusals; literal records, no app."""

from __future__ import annotations

import pytest

from tracker.journey.audiences import Audience, default_audiences, parse_audiences
from tracker.journey.identifiers import AudienceError

from .audience_records import MANIFEST, contact, event, ids, run, ts, view


def test_rule_stages():
    people = [
        contact("lead"),
        contact("buyer", customer_at=ts(2)),
        contact("fan", advocate_at=ts(1)),
    ]
    rows = run([Audience("x", stages=("customer",))], people)
    assert ids(rows["x"]) == ["buyer"]
    assert rows["x"][0]["stage"] == "customer"


def test_rule_categories_and_min_posts_count_per_category():
    people = [contact("ana"), contact("ben"), contact("cid")]
    observations = [
        view("v-ana", "/posts/kahvi-1/"),
        view("v-ana", "/posts/kahvi-2/"),
        view("v-ben", "/posts/kahvi-1/"),
        view("v-ben", "/posts/tee-1/"),  # two posts, but in two categories
        view("v-cid", "/posts/tee-1/"),
    ]
    rows = run(
        [
            Audience("coffee", categories=("kahvi",)),
            Audience("coffee2", categories=("kahvi",), min_posts=2),
            Audience("any2", categories=("*",), min_posts=2),
            Audience("tea", categories=("tee-yrtit",)),
            Audience("read2", min_posts=2),
        ],
        people,
        observations,
    )
    assert ids(rows["coffee"]) == ["ana", "ben"]
    assert ids(rows["coffee2"]) == ["ana"]
    assert ids(rows["any2"]) == ["ana"]
    assert ids(rows["tea"]) == ["ben", "cid"]
    assert ids(rows["read2"]) == ["ana", "ben"]
    assert rows["coffee"][0]["interests"] == ["kahvi"]
    assert rows["coffee"][1]["interests"] == ["kahvi", "tee-yrtit"]


def test_rule_tags():
    people = [contact("ana"), contact("ben")]
    observations = [view("v-ana", "/posts/kahvi-1/"), view("v-ben", "/posts/tee-1/")]
    rows = run([Audience("beans", tags=("pavut",))], people, observations)
    assert ids(rows["beans"]) == ["ana"]


def test_rule_guides():
    people = [contact("ana"), contact("ben"), contact("cid")]
    timelines = {
        "ana": [event("ana", "download", guide="kahvi-opas")],
        "ben": [event("ben", "download", guide="tee-opas")],
    }
    rows = run(
        [Audience("coffee", guides=("kahvi-opas",)), Audience("any", guides=("*",))],
        people,
        timelines=timelines,
    )
    assert ids(rows["coffee"]) == ["ana"]
    assert ids(rows["any"]) == ["ana", "ben"]


def test_rule_min_score():
    people = [contact("ana"), contact("ben")]
    timelines = {"ana": [event("ana", "quote", days=0)]}  # 20 points today
    rows = run([Audience("hot", min_score=20)], people, timelines=timelines)
    assert ids(rows["hot"]) == ["ana"]
    assert rows["hot"][0]["score"] == 20


def test_rule_seen_within_and_not_seen():
    people = [
        contact("recent", created=ts(200)),
        contact("lapsed", created=ts(200)),
        contact("silent", created=ts(200)),
        contact("newbie", created=ts(5)),
    ]
    observations = [view("v-recent", "/", days=3), view("v-lapsed", "/", days=120)]
    rows = run(
        [
            Audience("active", seen_within_days=30),
            Audience("lapsed", not_seen_days=90),
        ],
        people,
        observations,
    )
    assert ids(rows["active"]) == ["recent", "newbie"]
    assert ids(rows["lapsed"]) == ["lapsed", "silent"]


def test_a_decision_counts_as_seen():
    people = [contact("ana", created=ts(200))]
    timelines = {"ana": [event("ana", "purchase", days=2)]}
    rows = run([Audience("lapsed", not_seen_days=90)], people, timelines=timelines)
    assert rows["lapsed"] == []


def test_rule_customers():
    people = [
        contact("lead"),
        contact("flagged", customer_at=ts(3)),
        contact("buyer"),
        contact("fan", advocate_at=ts(1)),
    ]
    timelines = {"buyer": [event("buyer", "booking", value=50)]}
    rows = run(
        [
            Audience("customers", only_customers=True),
            Audience("prospects", exclude_customers=True),
        ],
        people,
        timelines=timelines,
    )
    assert ids(rows["customers"]) == ["flagged", "buyer"]
    assert ids(rows["prospects"]) == ["lead", "fan"]


def test_rule_exclude_uses_the_other_lists_final_members():
    people = [contact("ana"), contact("ben"), contact("cid")]
    observations = [
        view("v-ana", "/posts/kahvi-1/"),
        view("v-ben", "/posts/kahvi-1/"),
        view("v-ben", "/posts/tee-1/"),
        view("v-cid", "/posts/tee-1/"),
    ]
    found = parse_audiences(
        {
            "coffee-only": {"categories": ["kahvi"], "exclude": ["tea"]},
            "tea": {"categories": ["tee-yrtit"], "exclude": ["cid-list"]},
            "cid-list": {"categories": ["tee-yrtit"], "tags": ["aamu"]},
        },
        MANIFEST,
    )
    rows = run(found, people, observations)
    # ben is in tea's inclusions, but cid-list takes him out of tea's final
    # list, so coffee-only (which excludes tea's final list) keeps him.
    assert ids(rows["cid-list"]) == ["ben", "cid"]
    assert ids(rows["tea"]) == []
    assert ids(rows["coffee-only"]) == ["ana", "ben"]


def test_status_none_only_where_a_rule_allows_it():
    people = [
        contact("sub"),
        contact("downloader", status="none", consent={"newsletter": None, "ads": None}),
    ]
    timelines = {
        "sub": [event("sub", "download", guide="kahvi-opas")],
        "downloader": [event("downloader", "download", guide="kahvi-opas")],
    }
    rows = run(
        [
            Audience("subscribers-only", guides=("kahvi-opas",)),
            Audience("all", guides=("kahvi-opas",), status=("confirmed", "none")),
            Audience("non-subscribers", status=("none",)),
        ],
        people,
        timelines=timelines,
    )
    assert ids(rows["subscribers-only"]) == ["sub"]
    assert ids(rows["all"]) == ["sub", "downloader"]
    assert ids(rows["non-subscribers"]) == ["downloader"]


def test_refused_people_are_never_listed():
    withdrawn = contact("withdrawn")
    withdrawn["consent"]["newsletter"]["withdrawn_at"] = ts(1)
    people = [
        contact("ok"),
        contact("gone", status="unsubscribed"),
        contact("pending", status="pending", lead_at=None),
        withdrawn,
        contact("erased", email=None),
        {"id": None, "email": "x@example.com", "status": "confirmed"},
        contact("typo", status="Confirmed"),
    ]
    everything = Audience("everyone", status=("confirmed", "none"))
    defaults = default_audiences(MANIFEST)
    observations = [view(f"v-{p['id']}", "/posts/kahvi-1/") for p in people[:5]]
    rows = run([everything, *defaults], people, observations)
    for name, listed in rows.items():
        assert set(ids(listed)) <= {"ok"}, name
    assert ids(rows["everyone"]) == ["ok"]


def test_each_contact_is_listed_once():
    people = [contact("ana"), contact("ana")]
    rows = run([Audience("all")], people)
    assert ids(rows["all"]) == ["ana"]


def test_members_rejects_an_exclusion_it_was_not_given():
    with pytest.raises(AudienceError, match="unknown audience in exclude 'ghost'"):
        run([Audience("x", exclude=("ghost",))], [contact("ana")])


def test_default_audiences_end_to_end():
    no_consent = {"newsletter": None, "ads": None}
    people = [
        contact("lead"),
        contact("buyer", customer_at=ts(5)),
        contact("reader", status="none", consent=no_consent, lead_at=ts(9)),
        contact("sleeper", created=ts(300), lead_at=ts(300)),
    ]
    observations = [
        view("v-lead", "/posts/tee-1/"),
        view("v-reader", "/posts/kahvi-1/"),
        view("v-reader", "/posts/kahvi-2/"),
        view("v-sleeper", "/posts/kahvi-1/", days=200),
    ]
    timelines = {"reader": [event("reader", "download", days=9, guide="kahvi-opas")]}
    rows = run(default_audiences(MANIFEST), people, observations, timelines)
    assert {name: ids(listed) for name, listed in rows.items()} == {
        "leads-not-customers": ["lead", "reader", "sleeper"],
        "one-step-from-converting": ["reader"],
        "downloaded-kahvi-opas": ["reader"],
        "customers": ["buyer"],
        "lapsed-subscribers": ["sleeper"],
        "interest-kahvi": ["reader", "sleeper"],
        "interest-tee-yrtit": ["lead"],
    }
