"""Audience definitions: the defaults and JOURNEY_AUDIENCES parsed, from literal
records and no app."""

from __future__ import annotations

import pytest
from pelican.plugins.polku.settings import JourneySettingsError

from tracker.journey.audiences import Audience, default_audiences, parse_audiences
from tracker.journey.identifiers import AudienceError

from .audience_records import MANIFEST


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
