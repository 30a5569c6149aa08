"""Audience lists and ad-platform files, from literal records and no app."""

from __future__ import annotations

import csv
import json
import os
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from pelican.plugins.polku import audiences as aud
from pelican.plugins.polku.audiences import write_audiences
from pelican.plugins.polku.settings import JourneySettingsError

from tracker.journey import identifiers, stages
from tracker.journey.audiences import Audience, default_audiences, parse_audiences
from tracker.journey.identifiers import (
    AudienceError,
    normalise_country,
    normalise_name,
    normalise_phone,
    normalise_zip,
    platform_email,
    sha256_hex,
)
from tracker.journey.members import AudienceMembers, members
from tracker.journey.profiles import profiles

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HEX64 = re.compile(r"^[0-9a-f]{64}$")

MANIFEST = {
    "posts": [
        {
            "kind": "article",
            "url": "posts/kahvi-1/",
            "title": "Coffee one",
            "category": "Kahvi",
            "tags": ["Aamu", "Pavut"],
        },
        {
            "kind": "article",
            "url": "posts/kahvi-2/",
            "title": "Coffee two",
            "category": "Kahvi",
            "tags": ["Pavut"],
        },
        {
            "kind": "article",
            "url": "posts/tee-1/",
            "title": "Tea one",
            "category": "Tee & Yrtit",
            "tags": ["Aamu"],
        },
        {
            "kind": "landing",
            "url": "pages/opas/",
            "title": "Guide",
            "category": None,
            "tags": [],
        },
    ],
    "guides": {"kahvi-opas": {"slug": "kahvi-opas", "title": "Coffee guide"}},
}


def ts(days: float = 0) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def contact(cid: str, **over) -> dict:
    """A confirmed subscriber with both consents, created 10 days ago."""
    base = {
        "id": cid,
        "email": f"{cid}@example.com",
        "first_name": cid.capitalize(),
        "created": ts(10),
        "status": "confirmed",
        "consent": {
            "newsletter": {"confirmed_at": ts(10), "form": "signup"},
            "ads": {"confirmed_at": ts(10), "form": "signup"},
        },
        "visitors": [f"v-{cid}"],
        "lead_at": ts(10),
        "customer_at": None,
        "advocate_at": None,
        "feedback": None,
    }
    base.update(over)
    return base


def view(who: str, path: str, days: float = 1, by: str = "visitor") -> dict:
    ob = {"ts": ts(days), "type": "pageview", "visitor": None, "contact": None}
    ob[by] = who
    ob["path"] = path
    return ob


def event(cid: str, kind: str, days: float = 1, **extra) -> dict:
    return {
        "id": f"{cid}-{kind}",
        "ts": ts(days),
        "type": kind,
        "contact": cid,
        **extra,
    }


def run(audiences, contacts, observations=(), timelines=None):
    found = profiles(observations, contacts, MANIFEST)
    return members(audiences, contacts, found, timelines or {}, NOW)


def ids(rows) -> list[str]:
    return [row["id"] for row in rows]


def read_csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


# ---------------------------------------------------------------- hashing


def test_sha256_known_vector():
    assert (
        sha256_hex("test@example.com")
        == "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"
    )


def test_sha256_hashes_utf8():
    assert sha256_hex("émilie") == sha256_hex("émilie".encode().decode("utf-8"))
    assert HEX64.match(sha256_hex("émilie"))


# ---------------------------------------------------------------- normalisers


@pytest.mark.parametrize("platform", ["meta", "linkedin", "csv"])
def test_email_trimmed_and_lowercased_keeps_gmail_dots(platform):
    # Meta and LinkedIn document no Gmail rule: dots and tags stay.
    assert platform_email("  First.Last+ads@GMail.com ", platform) == (
        "first.last+ads@gmail.com"
    )


def test_email_gmail_rule_is_google_only():
    assert platform_email(" First.Last+ads@Gmail.com", "google") == (
        "firstlast@gmail.com"
    )
    assert platform_email("a.b.c@googlemail.com", "google") == "abc@googlemail.com"
    # Other domains keep their dots and tags.
    assert platform_email("User.Name+NYC@Example.com", "google") == (
        "user.name+nyc@example.com"
    )


@pytest.mark.parametrize("bad", [None, "", "   ", "no-at-sign", "@x.fi", "a@", 42])
def test_email_not_an_address(bad):
    assert platform_email(bad, "meta") is None


def test_unknown_platform_is_an_error():
    with pytest.raises(AudienceError, match="unknown format 'tiktok'"):
        platform_email("a@b.fi", "tiktok")


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+358 40 123 4567", None, "358401234567"),
        ("00358 40 123 4567", None, "358401234567"),
        ("040 123 4567", "FI", "358401234567"),
        ("040-1234567", "fi", "358401234567"),
        ("358401234567", "FI", "358401234567"),
        ("(212) 555-0100", "US", "12125550100"),
        ("1-212-555-0100", "US", "12125550100"),
        ("011 44 20 7031 3000", "US", "442070313000"),
        ("+1 (212) 555-0100", None, "12125550100"),
        ("12125550100", None, "12125550100"),
        ("06 1234 5678", "IT", "390612345678"),
        ("040 123 4567", None, None),  # national, country unknown
        ("040 123 4567", "ZZ", None),
        ("+0 123", None, None),
        ("12", None, None),
        ("", "FI", None),
        (None, "FI", None),
    ],
)
def test_phone_e164_digits(raw, country, expected):
    assert normalise_phone(raw, country) == expected


def test_names_per_platform():
    assert normalise_name(" Émilie-Anne O'Brien 2 ", "meta") == "émilieanneobrien"
    assert normalise_name("  Mary   Ann ", "google") == "mary ann"
    assert normalise_name("  Mary   Ann ", "csv") == "Mary Ann"
    assert normalise_name("", "meta") is None
    assert normalise_name("--", "meta") is None
    assert normalise_name(None, "google") is None


def test_country_iso2_lowercase():
    assert normalise_country(" FI ") == "fi"
    assert normalise_country("UK") == "gb"
    assert normalise_country("Finland") is None
    assert normalise_country("F1") is None
    assert normalise_country(None) is None


def test_zip_per_platform():
    assert normalise_zip("94303-5300", "meta", "US") == "94303"
    assert normalise_zip("WC2H 8LG", "meta", "GB") == "wc2h8lg"
    assert normalise_zip("00-950", "meta", "PL") == "00950"
    assert normalise_zip(" WC2H  8LG ", "google", "GB") == "WC2H 8LG"
    assert normalise_zip("94303-5300", "google", "US") == "94303-5300"
    assert normalise_zip(None, "meta") is None


# ---------------------------------------------------------------- definitions


def test_none_gives_the_defaults():
    found = parse_audiences(None, MANIFEST)
    assert [a.name for a in found] == [
        "leads-not-customers",
        "one-step-from-converting",
        "downloaded-kahvi-opas",
        "customers",
        "lapsed-subscribers",
        "interest-kahvi",
        "interest-tee-yrtit",
    ]
    assert found == default_audiences(MANIFEST)
    by = {a.name: a for a in found}
    assert by["lapsed-subscribers"].not_seen_days == 90
    assert by["lapsed-subscribers"].status == ("confirmed",)
    assert by["one-step-from-converting"].min_posts == 2
    assert by["customers"].only_customers


def test_defaults_without_posts_or_guides():
    names = [a.name for a in default_audiences({})]
    assert names == [
        "leads-not-customers",
        "one-step-from-converting",
        "customers",
        "lapsed-subscribers",
    ]


def test_parse_every_rule():
    raw = {
        "warm": {
            "stages": ["lead", "customer"],
            "categories": ["Kahvi"],
            "tags": "pavut",
            "min_posts": 2,
            "guides": ["kahvi-opas"],
            "min_score": 20,
            "seen_within_days": 30,
            "not_seen_days": 7,
            "exclude_customers": True,
            "exclude": ["cold"],
            "status": ["confirmed", "none"],
            "description": " Warm leads ",
        },
        "cold": {"not_seen_days": 90},
    }
    warm, cold = parse_audiences(raw, MANIFEST)
    assert warm == Audience(
        "warm",
        stages=("lead", "customer"),
        categories=("kahvi",),
        tags=("pavut",),
        min_posts=2,
        guides=("kahvi-opas",),
        min_score=20,
        seen_within_days=30,
        not_seen_days=7,
        exclude_customers=True,
        exclude=("cold",),
        status=("confirmed", "none"),
        description="Warm leads",
    )
    assert cold.rules() == {"not_seen_days": 90}
    assert warm.rules()["categories"] == ["kahvi"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"warm": {"stages": ["lead2"]}},
            "JOURNEY_AUDIENCES['warm']: unknown stage 'lead2'; expected one of "
            "visitor, engaged, lead, customer, advocate",
        ),
        (
            {"warm": {"stage": ["lead"]}},
            "JOURNEY_AUDIENCES['warm']: unknown rule 'stage'; expected one of stages,",
        ),
        (
            {"warm": {"status": ["unsubscribed"]}},
            "JOURNEY_AUDIENCES['warm']: unknown status 'unsubscribed'; "
            "expected one of confirmed, none",
        ),
        (
            {"warm": {"status": ["pending"]}},
            "JOURNEY_AUDIENCES['warm']: unknown status 'pending'",
        ),
        (
            {"warm": {"categories": ["Recipes"]}},
            "JOURNEY_AUDIENCES['warm']: unknown category 'recipes'; "
            "expected one of kahvi, tee-yrtit",
        ),
        (
            {"warm": {"tags": ["nope"]}},
            "JOURNEY_AUDIENCES['warm']: unknown tag 'nope'; "
            "expected one of aamu, pavut",
        ),
        (
            {"warm": {"guides": ["tee-opas"]}},
            "JOURNEY_AUDIENCES['warm']: unknown guide 'tee-opas'; "
            "expected one of kahvi-opas",
        ),
        (
            {"warm": {"exclude": ["ghost"]}},
            "JOURNEY_AUDIENCES['warm']: unknown audience in exclude 'ghost'; "
            "expected one of warm",
        ),
        (
            {"warm": {"exclude": ["warm"]}},
            "JOURNEY_AUDIENCES['warm']: an audience cannot exclude itself",
        ),
        (
            {"a": {"exclude": ["b"]}, "b": {"exclude": ["c"]}, "c": {"exclude": "a"}},
            "JOURNEY_AUDIENCES['a']: exclusions form a cycle a -> b -> c -> a",
        ),
        (
            {"warm": {"min_posts": 0}},
            "JOURNEY_AUDIENCES['warm']: min_posts must be a whole number >= 1, got 0",
        ),
        (
            {"warm": {"not_seen_days": True}},
            "JOURNEY_AUDIENCES['warm']: not_seen_days must be a whole number",
        ),
        (
            {"warm": {"min_score": "20"}},
            "JOURNEY_AUDIENCES['warm']: min_score must be a number, got '20'",
        ),
        (
            {"warm": {"min_score": -1}},
            "JOURNEY_AUDIENCES['warm']: min_score must be >= 0",
        ),
        (
            {"warm": {"exclude_customers": "yes"}},
            "JOURNEY_AUDIENCES['warm']: exclude_customers must be true or false",
        ),
        (
            {"warm": {"only_customers": True, "exclude_customers": True}},
            "JOURNEY_AUDIENCES['warm']: only_customers and exclude_customers",
        ),
        (
            {"warm": {"seen_within_days": 30, "not_seen_days": 30}},
            "JOURNEY_AUDIENCES['warm']: seen_within_days 30 and not_seen_days 30 "
            "can never both hold",
        ),
        (
            {"warm": {"stages": []}},
            "JOURNEY_AUDIENCES['warm']: stages must be a non-empty list of names",
        ),
        (
            {"warm": {"stages": [3]}},
            "JOURNEY_AUDIENCES['warm']: stages must hold names, got 3",
        ),
        (
            {"warm": ["lead"]},
            "JOURNEY_AUDIENCES['warm']: expected a dict of rules, got list",
        ),
        (
            {"Warm Leads": {}},
            "JOURNEY_AUDIENCES['Warm Leads']: audience name 'Warm Leads' must be",
        ),
        (
            {"../etc": {}},
            "JOURNEY_AUDIENCES['../etc']: audience name",
        ),
        (
            ["warm"],
            "JOURNEY_AUDIENCES: expected a dict of name -> rules, got list",
        ),
    ],
)
def test_errors_name_the_setting(raw, message):
    with pytest.raises(AudienceError) as info:
        parse_audiences(raw, MANIFEST)
    assert str(info.value).startswith(message)


def test_audience_error_is_a_settings_error():
    assert issubclass(AudienceError, JourneySettingsError)
    assert issubclass(AudienceError, ValueError)


def test_fresh_site_accepts_categories_before_posts_exist():
    (found,) = parse_audiences({"x": {"categories": ["Kahvi"], "guides": "g"}}, {})
    assert found.categories == ("kahvi",)
    assert found.guides == ("g",)


def test_star_means_any():
    (found,) = parse_audiences({"x": {"categories": "*", "guides": ["*"]}}, MANIFEST)
    assert found.categories == ("*",)
    assert found.guides == ("*",)


# ---------------------------------------------------------------- profiles


def test_profiles_via_visitor_ids_and_contact():
    people = [contact("ana"), contact("ben", visitors=["v-ben", "v-ben-phone"])]
    observations = [
        view("v-ana", "/posts/kahvi-1/", days=3),
        view("v-ana", "/posts/kahvi-1/?utm_source=x", days=2),  # same post again
        view("v-ana", "/posts/kahvi-2/index.html", days=1),
        view("ben", "/posts/tee-1", days=5, by="contact"),
        view("v-ben-phone", "/posts/kahvi-1/", days=4),
        view("v-ben-phone", "/about/", days=0.5),  # not a post: seen, not read
        {"ts": ts(0.2), "type": "click", "contact": "ben", "visitor": None},
        {"ts": ts(0.1), "type": "bot", "visitor": "v-ana", "path": "/posts/tee-1/"},
        view("v-stranger", "/posts/tee-1/"),
        view("erased-id", "/posts/tee-1/", by="contact"),
    ]
    found = profiles(observations, people, MANIFEST)
    assert set(found) == {"ana", "ben"}
    ana, ben = found["ana"], found["ben"]
    assert ana.posts == {"posts/kahvi-1/", "posts/kahvi-2/"}
    assert ana.categories == {"kahvi": 2}
    assert ana.tags == {"aamu": 1, "pavut": 2}
    assert ana.pageviews == 3
    assert ana.last_seen == NOW - timedelta(days=1)
    assert ben.posts == {"posts/tee-1/", "posts/kahvi-1/"}
    assert ben.categories == {"tee-yrtit": 1, "kahvi": 1}
    assert ben.pageviews == 3
    assert ben.clicks == 1
    assert ben.last_seen == NOW - timedelta(days=0.2)


def test_profiles_accept_a_generator_and_naive_timestamps():
    people = [contact("ana")]

    def stream():
        yield {"ts": "2026-11-22T12:00:00", "type": "pageview", "visitor": "v-ana",
               "path": "/posts/kahvi-1/"}  # fmt: skip
        yield {"ts": "not a time", "type": "pageview", "visitor": "v-ana"}

    found = profiles(stream(), people, MANIFEST)
    assert found["ana"].last_seen == NOW - timedelta(days=1)
    assert found["ana"].pageviews == 1


def test_observed_score_matches_lead_score():
    people = [contact("ana")]
    observations = [
        view("v-ana", "/posts/kahvi-1/", days=40),
        view("v-ana", "/posts/tee-1/", days=3),
        view("v-ana", "/posts/kahvi-2/", days=12),
        {"ts": ts(8), "type": "click", "contact": "ana", "visitor": None},
    ]
    found = profiles(observations, people, MANIFEST)
    expected = stages.lead_score(observations, NOW)
    assert round(found["ana"].observed_score(NOW)) == expected
    timeline = [event("ana", "confirm", days=10), event("ana", "download", days=2)]
    rows = members([Audience("all")], people, found, {"ana": timeline}, NOW)
    assert rows["all"][0]["score"] == stages.lead_score(observations + timeline, NOW)


# ---------------------------------------------------------------- members


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


# ---------------------------------------------------------------- files


def full(cid: str, **over) -> dict:
    """A member row with every identifier the ad formats can use."""
    return {
        **contact(cid),
        "email": f"{cid}.Name@gmail.com".lower(),
        "first_name": "Émilie",
        "last_name": "O'Brien",
        "phone": "040 123 4567",
        "country": "FI",
        "zip": "00100",
        "city": "Helsinki",
        "stage": "lead",
        "score": 12,
        "interests": ["kahvi", "tee-yrtit"],
        **over,
    }


def write(tmp_path, rows, formats=aud.FORMATS, **kwargs):
    out = tmp_path / "audiences"
    warnings = write_audiences(
        str(out), rows, formats, {"contacts": 4, "store": "tinydb"}, now=NOW, **kwargs
    )
    return out, warnings


def test_headers_exactly_per_platform(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana")]})
    assert read_csv(out / "x.csv.csv")[0] == [
        "email",
        "first_name",
        "stage",
        "score",
        "interests",
        "newsletter_consent",
        "ads_consent",
    ]
    assert read_csv(out / "x.meta.csv")[0] == [
        "email",
        "phone",
        "fn",
        "ln",
        "ct",
        "st",
        "zip",
        "country",
    ]
    assert read_csv(out / "x.google.csv")[0] == [
        "Email",
        "Phone",
        "First Name",
        "Last Name",
        "Country",
        "Zip",
    ]
    assert read_csv(out / "x.linkedin.csv")[0] == [
        "email",
        "firstname",
        "lastname",
        "jobtitle",
        "employeecompany",
        "country",
        "googleaid",
    ]


def test_csv_for_the_crm(tmp_path):
    no_ads = full("ben", first_name="=HYPERLINK(1)", consent={"newsletter": {}})
    out, warnings = write(tmp_path, {"x": [full("ana"), no_ads]}, ["csv"])
    assert warnings == []
    assert read_csv(out / "x.csv.csv")[1:] == [
        ["ana.name@gmail.com", "Émilie", "lead", "12", "kahvi;tee-yrtit",
         ts(10), ts(10)],
        ["ben.name@gmail.com", "'=HYPERLINK(1)", "lead", "12", "kahvi;tee-yrtit",
         "yes", ""],
    ]  # fmt: skip


def test_meta_cells_are_hashes_of_the_normalised_values(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana")]}, ["meta"])
    row = read_csv(out / "x.meta.csv")[1]
    assert row == [
        sha256_hex("ana.name@gmail.com"),  # Meta keeps Gmail dots
        sha256_hex("358401234567"),  # digits, no "+"
        sha256_hex("émilie"),
        sha256_hex("obrien"),
        sha256_hex("helsinki"),
        "",  # no state given
        sha256_hex("00100"),
        sha256_hex("fi"),
    ]


def test_google_cells(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana")]}, ["google"])
    assert read_csv(out / "x.google.csv")[1] == [
        sha256_hex("ananame@gmail.com"),  # Gmail dots removed for Google only
        sha256_hex("+358401234567"),  # E.164 with "+"
        sha256_hex("émilie"),
        sha256_hex("o'brien"),
        "fi",  # Country and Zip are not hashed
        "00100",
    ]


def test_google_address_only_when_complete(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana", zip=None, phone=None)]}, ["google"])
    assert read_csv(out / "x.google.csv")[1] == [
        sha256_hex("ananame@gmail.com"),
        "",
        "",
        "",
        "",
        "",
    ]


def test_linkedin_holds_the_hashed_email_only(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana")]}, ["linkedin"])
    assert read_csv(out / "x.linkedin.csv")[1] == [
        sha256_hex("ana.name@gmail.com"),
        "",
        "",
        "",
        "",
        "",
        "",
    ]


def test_ad_formats_hold_only_live_ads_consent(tmp_path):
    withdrawn = full("cid")
    withdrawn["consent"]["ads"] = {"confirmed_at": ts(9), "withdrawn_at": ts(1)}
    rows = {
        "x": [
            full("ana"),
            full("ben", consent={"newsletter": {"confirmed_at": ts(3)}, "ads": None}),
            withdrawn,
            full("dan", consent={}),
        ]
    }
    out, _ = write(tmp_path, rows)
    for fmt in aud.AD_FORMATS:
        body = read_csv(out / f"x.{fmt}.csv")[1:]
        assert len(body) == 1, fmt
        assert body[0][0] == sha256_hex(platform_email("ana.name@gmail.com", fmt))
    assert len(read_csv(out / "x.csv.csv")) == 5  # the CRM gets everyone
    manifest = json.loads((out / "manifest.json").read_text())
    meta = next(f for f in manifest["files"] if f["file"] == "x.meta.csv")
    assert meta["members"] == 4
    assert meta["rows"] == 1
    assert meta["without_ads_consent"] == 3


def test_no_raw_identifier_in_ad_files(tmp_path):
    people = [full(f"p{i}") for i in range(5)] + [full("x", email="Plain@Example.COM")]
    out, _ = write(tmp_path, {"x": people}, aud.AD_FORMATS)
    for fmt in aud.AD_FORMATS:
        text = (out / f"x.{fmt}.csv").read_text(encoding="utf-8")
        text = text.split("\n", 1)[1]  # the rows, after the header
        assert "@" not in text
        for needle in ("name", "plain", "émilie", "brien", "helsinki", "0401234567"):
            assert needle not in text.lower(), (fmt, needle)
        for row in read_csv(out / f"x.{fmt}.csv")[1:]:
            hashed = row if fmt == "meta" else row[:2] if fmt == "google" else row[:1]
            for cell in hashed:
                assert cell == "" or HEX64.match(cell), (fmt, cell)


def test_unmatchable_people_are_skipped_and_counted(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana", email="not-an-address", phone=None)]})
    assert len(read_csv(out / "x.meta.csv")) == 1
    manifest = json.loads((out / "manifest.json").read_text())
    meta = next(f for f in manifest["files"] if f["file"] == "x.meta.csv")
    assert meta["unmatchable"] == 1


def test_below_minimum_warns_but_writes(tmp_path):
    enough = [full(f"p{i}") for i in range(100)]
    out, warnings = write(tmp_path, {"big": enough}, ["meta", "google", "linkedin"])
    assert warnings == [
        "big.linkedin.csv: 100 people, below LinkedIn's minimum of 300 for a "
        "matchable list; written anyway"
    ]
    assert len(read_csv(out / "big.linkedin.csv")) == 101
    _, warnings = write(tmp_path, {"small": enough[:3]}, ["google"])
    assert warnings == [
        "small.google.csv: 3 people, below Google's minimum of 100 "
        "(1,000 for YouTube) for a matchable list; written anyway"
    ]


def test_manifest_says_when_from_what_and_how(tmp_path):
    found = parse_audiences({"hot": {"min_score": 20, "description": "Hot"}}, {})
    rows = AudienceMembers({"hot": [full("ana")]}, {a.name: a for a in found})
    out, _ = write(tmp_path, rows, ["csv", "meta"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generated_at"] == "2026-11-23T12:00:00+00:00"
    assert manifest["source"] == {"contacts": 4, "store": "tinydb"}
    assert manifest["formats"] == ["csv", "meta"]
    assert manifest["files"] == [
        {
            "file": "hot.csv.csv",
            "audience": "hot",
            "format": "csv",
            "members": 1,
            "rows": 1,
            "without_ads_consent": 0,
            "unmatchable": 0,
            "rules": {"min_score": 20, "description": "Hot"},
            "description": "Hot",
        },
        {
            "file": "hot.meta.csv",
            "audience": "hot",
            "format": "meta",
            "members": 1,
            "rows": 1,
            "without_ads_consent": 0,
            "unmatchable": 0,
            "rules": {"min_score": 20, "description": "Hot"},
            "description": "Hot",
            "minimum": 100,
            "spec": "https://www.facebook.com/business/help/2082575038703844",
            "warning": "hot.meta.csv: 1 people, below Meta's minimum of 100 for a "
            "matchable list; written anyway",
        },
    ]


def test_members_result_carries_the_rules_to_the_manifest(tmp_path):
    found = parse_audiences({"hot": {"min_score": 5}}, MANIFEST)
    timelines = {"ana": [event("ana", "download", guide="kahvi-opas")]}
    rows = run(found, [contact("ana")], timelines=timelines)
    out, _ = write(tmp_path, rows, ["csv"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"][0]["rules"] == {"min_score": 5}


def test_files_are_replaced_atomically_and_stale_ones_removed(tmp_path):
    out, _ = write(tmp_path, {"old": [full("ana")], "keep": [full("ben")]})
    (out / "notes.txt").write_text("mine")
    write(tmp_path, {"keep": [full("ben")]}, ["csv"])
    assert sorted(os.listdir(out)) == ["keep.csv.csv", "manifest.json", "notes.txt"]
    mode = os.stat(out / "keep.csv.csv").st_mode & 0o777
    assert mode == 0o600  # personal data: the owner's eyes only


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    out, _ = write(tmp_path, {"x": [full("ana")]}, ["csv"])
    before = (out / "x.csv.csv").read_bytes()

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(aud.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write(tmp_path, {"x": [full("ben")]}, ["csv"])
    assert (out / "x.csv.csv").read_bytes() == before
    assert not [n for n in os.listdir(out) if n.startswith(".tmp")]


@pytest.mark.parametrize(
    ("formats", "message"),
    [(["tiktok"], "unknown format 'tiktok'"), ([], "no format given")],
)
def test_write_refuses_unknown_formats(tmp_path, formats, message):
    with pytest.raises(AudienceError, match=message):
        write(tmp_path, {"x": []}, formats)


def test_write_refuses_a_name_that_is_not_a_file_name(tmp_path):
    with pytest.raises(AudienceError, match="cannot name a file"):
        write(tmp_path, {"../x": []}, ["csv"])


def test_identifier_hashes_cover_the_google_gmail_form():
    hashes = identifiers.identifier_hashes({"email": "first.last@gmail.com"})
    assert hashes == {
        sha256_hex("first.last@gmail.com"),
        sha256_hex("firstlast@gmail.com"),
    }


# ---------------------------------------------------------------- scale


@pytest.mark.slow
def test_a_million_observations_in_a_few_seconds():
    people = [contact(f"c{i}") for i in range(100_000)]
    paths = [p["url"] for p in MANIFEST["posts"]] + ["about/"]
    observations = [
        view(f"v-c{i % 150_000}", "/" + paths[i // 150_000 % len(paths)], i % 200)
        for i in range(1_000_000)
    ]
    started = time.perf_counter()
    found = profiles(observations, people, MANIFEST)
    rows = members(default_audiences(MANIFEST), people, found, {}, NOW)
    elapsed = time.perf_counter() - started
    assert len(found) == 100_000
    assert len(rows["interest-kahvi"]) == 100_000
    assert elapsed < 15, elapsed
