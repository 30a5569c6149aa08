"""A/B tests: definitions, sticky assignment, counting and the verdict."""

from __future__ import annotations

from collections import Counter

import pytest

from tracker.journey import experiments as ex

META = {
    "title": "Newsletter call to action: promise or practice",
    "kind": "cta",
    "target": "newsletter",
    "variants": ["control", "tips: One practical tip a week, in your inbox"],
    "goal": "signup",
    "sample": "5000",
}


def experiment(**changes):
    return ex.define("newsletter-cta", {**META, **changes})


def test_a_definition_becomes_an_experiment_with_an_even_split():
    got = experiment(start="2026-12-01")
    assert got == {
        "name": "newsletter-cta",
        "title": META["title"],
        "kind": "cta",
        "target": "newsletter",
        "goal": "signup",
        "sample": 5000,
        "status": "running",
        "start": "2026-12-01",
        "end": None,
        "variants": [
            {"name": "control", "text": None, "weight": 0.5},
            {"name": "tips", "text": META["variants"][1][6:], "weight": 0.5},
        ],
    }


def test_weights_goals_and_kinds_are_read():
    got = experiment(
        variants=["control", "a: Short", "b: Longer text"],
        weights="50, 25, 25",
        goal="event:Booked a call",
    )
    assert [v["weight"] for v in got["variants"]] == [0.5, 0.25, 0.25]
    assert got["goal"] == "event:Booked a call"
    subject = experiment(kind="digest-subject", target="")
    assert subject["target"] is None
    step = experiment(kind="step-subject", target="welcome/02-guide")
    assert step["target"] == "welcome/02-guide"


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"title": ""}, "Title: missing"),
        ({"kind": "popup"}, "Kind: 'popup'"),
        ({"target": "banner"}, "Target: 'banner'"),
        ({"kind": "headline", "target": ""}, "Target: a headline experiment"),
        ({"kind": "step-subject", "target": "welcome"}, "Target: 'welcome'"),
        ({"variants": "control, tips"}, "Variants: needs the control"),
        ({"variants": ["control", "tips"]}, "Variants: 'tips' needs its text"),
        ({"variants": ["control", "control: x"]}, "Variants: 'control' is given twice"),
        ({"variants": ["control", "Tips Two: x"]}, "Variants: 'tips two' is not"),
        ({"weights": "50"}, "Weights: 1 weights for 2 variants"),
        ({"weights": "50, 0"}, "Weights: '50, 0'"),
        ({"weights": "half, half"}, "Weights: 'half, half'"),
        ({"goal": "newsletter"}, "Goal: 'newsletter'"),
        ({"goal": ""}, "Goal: ''"),
        ({"sample": "lots"}, "Sample: 'lots'"),
        ({"sample": "10"}, "Sample: 10"),
        ({"status": "live"}, "Status: 'live'"),
        ({"start": "1.12.2026"}, "Start: '1.12.2026'"),
        ({"start": "2026-12-01", "end": "2026-11-01"}, "End: comes before Start"),
    ],
)
def test_a_malformed_definition_names_the_field_and_the_problem(changes, problem):
    with pytest.raises(ex.ExperimentError, match=f"^{problem}"):
        experiment(**changes)


def test_a_file_name_that_is_no_name_is_refused():
    with pytest.raises(ex.ExperimentError, match="file name 'New CTA'"):
        ex.define("New CTA", META)


def test_assignment_is_sticky_and_follows_the_weights():
    test = experiment(variants=["control", "a: A", "b: B"], weights="2, 1, 1")
    readers = [f"visitor-{i}" for i in range(20000)]
    seen = [ex.assign(test, r) for r in readers]
    assert seen == [ex.assign(test, r) for r in readers]
    shares = {k: n / len(readers) for k, n in Counter(seen).items()}
    assert shares == pytest.approx({"control": 0.5, "a": 0.25, "b": 0.25}, abs=0.02)


def test_assignments_of_two_experiments_are_independent():
    one, two = experiment(), ex.define("digest-subject", {**META})
    pairs = Counter(
        (ex.assign(one, f"r{i}"), ex.assign(two, f"r{i}")) for i in range(20000)
    )
    assert len(pairs) == 4
    assert all(abs(n / 20000 - 0.25) < 0.02 for n in pairs.values())


def exposure(visitor, variant, ts):
    return {"type": "exposure", "visitor": visitor, "variant": variant, "ts": ts}


def test_a_reader_counts_once_in_their_first_variant_and_converts_after_it():
    test = experiment(start="2026-12-01", end="2026-12-31")
    exposures = [
        exposure("v1", "control", "2026-12-01T10:00:00+00:00"),
        exposure("v1", "tips", "2026-12-02T10:00:00+00:00"),  # counted as control
        exposure("v2", "tips", "2026-12-01T11:00:00+00:00"),
        exposure("v3", "tips", "2026-12-02T09:00:00+00:00"),
        exposure("v4", "gone", "2026-12-02T09:00:00+00:00"),  # no such variant
        exposure("v5", "tips", "2026-11-30T09:00:00+00:00"),  # before Start
        exposure("v6", "tips", "2027-01-01T09:00:00+00:00"),  # after End
    ]
    conversions = [
        ("v1", "2026-12-02T10:05:00+00:00"),
        ("v1", "2026-12-03T10:05:00+00:00"),  # once is enough
        ("v2", "2026-12-01T10:00:00+00:00"),  # before their exposure
        ("v3", "2026-12-03T08:00:00+00:00"),
        ("v5", "2026-12-03T08:00:00+00:00"),
        ("nobody", "2026-12-03T08:00:00+00:00"),
    ]
    assert ex.looks(test, exposures, conversions) == [
        {
            "day": "2026-12-01",
            "exposures": {"control": 1, "tips": 1},
            "conversions": {"control": 0, "tips": 0},
        },
        {
            "day": "2026-12-02",
            "exposures": {"control": 1, "tips": 2},
            "conversions": {"control": 1, "tips": 0},
        },
        {
            "day": "2026-12-03",
            "exposures": {"control": 1, "tips": 2},
            "conversions": {"control": 1, "tips": 1},
        },
    ]


def day(n, exposures, conversions):
    return {
        "day": f"2026-12-{n:02d}",
        "exposures": dict(zip(("control", "tips"), exposures, strict=True)),
        "conversions": dict(zip(("control", "tips"), conversions, strict=True)),
    }


def test_the_report_gives_rates_intervals_and_the_known_vector():
    result = ex.analyse(experiment(), [day(1, (2500, 2500), (100, 140))])
    control, tips = result["variants"]
    assert control == {
        "name": "control",
        "exposures": 2500,
        "conversions": 100,
        "rate": 0.04,
        "interval": [0.0, 0.0],
    }
    assert tips["rate"] == 0.056
    assert [round(x, 5) for x in tips["interval"]] == [-0.00234, 0.03434]
    # The planned 5,000 are in and the interval holds zero: no difference.
    assert result["verdict"] == ex.NO_DIFFERENCE
    assert result["reason"]["key"] == "no difference"
    assert result["srm"] is False and result["srm_p"] == pytest.approx(1.0)


def test_before_the_planned_sample_it_is_keep_running():
    result = ex.analyse(experiment(), [day(1, (1000, 1000), (40, 50))])
    assert result["verdict"] == ex.KEEP_RUNNING
    assert result["reason"] | {"low": 0, "high": 0} == {
        "key": "not yet",
        "seen": 2000,
        "planned": 5000,
        "control": "control",
        "low": 0,
        "high": 0,
    }


def test_a_clear_difference_names_the_winner_either_way():
    won = ex.analyse(experiment(), [day(1, (2500, 2500), (100, 180))])
    assert (won["verdict"], won["winner"]) == (ex.WINNER, "tips")
    assert won["reason"]["key"] == "better" and won["reason"]["low"] > 0
    lost = ex.analyse(experiment(), [day(1, (2500, 2500), (180, 100))])
    assert (lost["verdict"], lost["winner"]) == (ex.WINNER, "control")
    assert lost["reason"]["key"] == "control better"


def test_the_interval_is_the_intersection_over_the_days():
    days = [day(1, (1000, 1000), (40, 60)), day(2, (2000, 2000), (90, 100))]
    both = ex.analyse(experiment(), days)["variants"][1]["interval"]
    alone = ex.analyse(experiment(), days[1:])["variants"][1]["interval"]
    first = ex.analyse(experiment(), days[:1])["variants"][1]["interval"]
    assert both == [max(alone[0], first[0]), min(alone[1], first[1])]


def test_a_ratio_mismatch_holds_the_verdict_back():
    result = ex.analyse(experiment(), [day(1, (5000, 5400), (100, 300))])
    assert result["srm"] is True and result["srm_p"] < 0.001
    assert result["verdict"] == ex.KEEP_RUNNING
    assert result["reason"]["key"] == "mismatch"


def test_too_few_exposures_or_no_conversions_say_nothing_yet():
    for days in ([], [day(1, (5, 9), (1, 3))], [day(1, (300, 300), (0, 0))]):
        result = ex.analyse(experiment(), days)
        assert result["verdict"] == ex.KEEP_RUNNING
        assert result["reason"]["key"] == "too few"
    empty = ex.analyse(experiment(), [])
    assert [v["rate"] for v in empty["variants"]] == [None, None]
    assert empty["variants"][1]["interval"] is None


def test_more_variants_share_the_error_rate():
    three = experiment(variants=["control", "tips: T", "short: S"])
    days = [
        {
            "day": "2026-12-01",
            "exposures": {"control": 2500, "tips": 2500, "short": 2500},
            "conversions": {"control": 100, "tips": 140, "short": 100},
        }
    ]
    wide = ex.analyse(three, days)["variants"][1]["interval"]
    narrow = ex.analyse(experiment(), [day(1, (2500, 2500), (100, 140))])
    narrow = narrow["variants"][1]["interval"]
    assert wide[0] < narrow[0] and wide[1] > narrow[1]
