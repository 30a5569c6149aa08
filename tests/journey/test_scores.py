"""The journey model's scores: lead score, RFM and NPS, with literal records and
no app."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tracker.journey.stages import (
    RFM,
    LeadScoreWeights,
    Thresholds,
    lead_score,
    nps,
    rfm,
    rfm_segment,
)

from .stage_records import NOW, event, pv, ts

# -- lead_score -------------------------------------------------------------


def test_lead_score_of_nothing_is_zero():
    assert lead_score([], NOW, LeadScoreWeights()) == 0


def test_lead_score_sums_the_default_weights_for_fresh_events():
    events = [
        pv(ts()),
        pv(ts(), type="click"),
        event("download"),
        event("confirm"),
        event("quote"),
        event("feedback", score=7),
    ]
    assert lead_score(events, NOW, LeadScoreWeights()) == 1 + 3 + 10 + 15 + 20 + 5


def test_points_halve_after_one_half_life():
    weights = LeadScoreWeights()
    assert lead_score([event("quote", ts(30))], NOW, weights) == 10
    assert lead_score([event("quote", ts(60))], NOW, weights) == 5
    assert (
        lead_score([event("quote", ts(10))], NOW, LeadScoreWeights(half_life_days=10))
        == 10
    )


def test_bots_unknown_types_and_pending_signups_score_zero():
    events = [
        pv(ts(), type="bot"),
        pv(ts(), type="event"),
        event("signup"),
        event("purchase", value=99.0),
        event("mystery"),
    ]
    assert lead_score(events, NOW, LeadScoreWeights()) == 0


def test_future_events_do_not_grow():
    future = (NOW + timedelta(days=30)).isoformat()
    assert lead_score([event("quote", future)], NOW, LeadScoreWeights()) == 20


def test_lead_score_is_never_negative():
    weights = LeadScoreWeights(pageview=-5)
    assert lead_score([pv(ts())], NOW, weights) == 0


def test_half_life_must_be_positive():
    with pytest.raises(ValueError, match="half_life_days"):
        LeadScoreWeights(half_life_days=0)


def test_weights_and_thresholds_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        LeadScoreWeights().quote = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        Thresholds().promoter_score = 1


# -- RFM --------------------------------------------------------------------


def buy(days: float, value: float | None, order_id=None, type="purchase") -> dict:
    return event(type, ts(days), value=value, currency="EUR", order_id=order_id)


def test_rfm_is_none_without_a_valued_purchase():
    assert rfm([], NOW) is None
    assert rfm([buy(1, None), event("download")], NOW) is None


def test_rfm_of_one_recent_purchase_is_new():
    assert rfm([buy(3, 49.5)], NOW) == RFM(3, 1, 49.5, 5, 1, 1, "new")


def test_rfm_counts_bookings_and_skips_duplicate_orders():
    purchases = [
        buy(200, 100.0, "A1"),
        buy(200, 100.0, "A1"),
        buy(100, 200.0, "A2", type="booking"),
        buy(40, 0.0),
        buy(10, None),
    ]
    result = rfm(purchases, NOW)
    assert (result.recency_days, result.frequency, result.monetary) == (40, 3, 300.0)
    assert (result.r, result.f, result.m) == (4, 3, 3)


@pytest.mark.parametrize(
    ("days", "r"),
    [
        (0, 5),
        (30, 5),
        (31, 4),
        (90, 4),
        (91, 3),
        (180, 3),
        (181, 2),
        (365, 2),
        (366, 1),
    ],
)
def test_recency_bands(days, r):
    assert rfm([buy(days, 10.0)], NOW).r == r


@pytest.mark.parametrize(("n", "f"), [(1, 1), (2, 2), (3, 3), (4, 4), (5, 4), (6, 5)])
def test_frequency_bands(n, f):
    assert rfm([buy(1, 1.0) for _ in range(n)], NOW).f == f


@pytest.mark.parametrize(
    ("value", "m"),
    [(0, 1), (99.99, 1), (100, 2), (299, 2), (300, 3), (999, 3), (1000, 4), (3000, 5)],
)
def test_monetary_bands(value, m):
    assert rfm([buy(1, value)], NOW).m == m


@pytest.mark.parametrize(
    ("r", "f", "segment"),
    [
        (5, 5, "champions"),
        (4, 4, "champions"),
        (3, 4, "loyal"),
        (1, 5, "loyal"),
        (5, 1, "new"),
        (4, 2, "promising"),
        (4, 3, "promising"),
        (2, 3, "at risk"),
        (1, 3, "at risk"),
        (2, 2, "hibernating"),
        (1, 1, "hibernating"),
        (3, 3, "needs attention"),
        (3, 1, "needs attention"),
    ],
)
def test_segment_table(r, f, segment):
    assert rfm_segment(r, f) == segment


def test_rfm_names_the_segment():
    lapsed = [buy(400, 50.0, str(i)) for i in range(3)]
    assert rfm(lapsed, NOW).segment == "at risk"


# -- NPS --------------------------------------------------------------------


def test_nps_of_no_scores_is_none():
    assert nps([]) == {
        "promoters": 0,
        "passives": 0,
        "detractors": 0,
        "total": 0,
        "nps": None,
    }


def test_nps_counts_groups_and_rounds():
    result = nps([10, 9, 8, 7, 6, 0])
    assert result == {
        "promoters": 2,
        "passives": 2,
        "detractors": 2,
        "total": 6,
        "nps": 0,
    }
    assert nps([10, 10, 8])["nps"] == 67
    assert nps([0])["nps"] == -100
