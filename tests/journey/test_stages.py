"""The journey model's stages, its attribution and its funnel, with literal
records and no app."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest

from tracker.journey.stages import (
    STAGES,
    Step,
    Thresholds,
    Touch,
    attribute,
    contact_stage,
    funnel,
    parse_ts,
    stage_counts,
    visitor_stage,
)
from tracker.journey.visits import touches

from .stage_records import NOW, contact, event, pv, ts

# -- parse_ts ---------------------------------------------------------------


def test_parse_ts_reads_iso_and_treats_naive_as_utc():
    assert parse_ts("2026-11-23T11:43:18.123456+00:00") == datetime(
        2026, 11, 23, 11, 43, 18, 123456, tzinfo=UTC
    )
    assert parse_ts(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)


# -- visitor_stage ----------------------------------------------------------


def test_visitor_with_no_pageviews_is_a_visitor():
    assert visitor_stage([], Thresholds()) == "visitor"


def test_one_page_once_is_a_visitor():
    assert visitor_stage([pv(ts(1))], Thresholds()) == "visitor"


def test_two_pages_in_one_day_is_engaged():
    views = [pv(ts(1, 5), "/pages/landing/"), pv(ts(1), "/posts/b/")]
    assert visitor_stage(views, Thresholds()) == "engaged"


def test_reloading_one_page_is_not_reading_two():
    assert visitor_stage([pv(ts(1, 5)), pv(ts(1))], Thresholds()) == "visitor"


def test_coming_back_on_another_day_is_engaged():
    assert visitor_stage([pv(ts(3)), pv(ts(1))], Thresholds()) == "engaged"


def test_bots_and_other_events_do_not_engage():
    views = [pv(ts(3), type="bot"), pv(ts(1), "/posts/b/", type="event"), pv(ts(1))]
    assert visitor_stage(views, Thresholds()) == "visitor"


def test_visitor_thresholds_are_settings():
    views = [pv(ts(1, 5), "/posts/a/"), pv(ts(1), "/posts/b/"), pv(ts(3))]
    strict = Thresholds(engaged_pageviews=3, engaged_return_days=3)
    assert visitor_stage(views, strict) == "visitor"


# -- contact_stage ----------------------------------------------------------


def test_pending_signup_alone_stays_engaged():
    pending = contact(status="pending")
    assert contact_stage(pending, [event("signup")], Thresholds()) == "engaged"


@pytest.mark.parametrize("kind", ["confirm", "download", "quote", "import"])
def test_leaving_contact_details_makes_a_lead(kind):
    assert contact_stage(contact(), [event(kind)], Thresholds()) == "lead"


def test_confirmed_status_or_lead_at_makes_a_lead():
    assert contact_stage(contact(status="confirmed"), [], Thresholds()) == "lead"
    assert contact_stage(contact(lead_at=ts(2)), [], Thresholds()) == "lead"


@pytest.mark.parametrize("kind", ["purchase", "booking"])
def test_purchase_or_booking_makes_a_customer(kind):
    timeline = [event("confirm"), event(kind, value=50.0, currency="EUR")]
    assert contact_stage(contact(), timeline, Thresholds()) == "customer"


def test_customer_at_makes_a_customer():
    assert contact_stage(contact(customer_at=ts(1)), [], Thresholds()) == "customer"


def test_unsubscribed_customer_stays_customer():
    gone = contact(status="unsubscribed", customer_at=ts(5))
    timeline = [event("purchase", ts(5), value=10.0), event("unsubscribe", ts(1))]
    assert contact_stage(gone, timeline, Thresholds()) == "customer"


def test_unsubscribed_lead_stays_lead():
    timeline = [event("confirm", ts(5)), event("unsubscribe", ts(1))]
    assert contact_stage(contact(status="unsubscribed"), timeline, Thresholds()) == (
        "lead"
    )


def test_referral_makes_an_advocate():
    assert contact_stage(contact(), [event("referral")], Thresholds()) == "advocate"


def test_advocate_at_makes_an_advocate():
    assert contact_stage(contact(advocate_at=ts()), [], Thresholds()) == "advocate"


@pytest.mark.parametrize(("score", "stage"), [(9, "advocate"), (8, "customer")])
def test_promoter_score_on_the_contact_makes_an_advocate(score, stage):
    happy = contact(
        customer_at=ts(9), feedback={"score": score, "ts": ts(), "comment": ""}
    )
    assert contact_stage(happy, [], Thresholds()) == stage


def test_promoter_score_in_the_timeline_makes_an_advocate():
    timeline = [event("purchase", value=5.0), event("feedback", score=10)]
    assert contact_stage(contact(), timeline, Thresholds()) == "advocate"
    timeline = [event("feedback", score=None)]
    assert contact_stage(contact(), timeline, Thresholds()) == "engaged"


def test_promoter_threshold_is_a_setting():
    timeline = [event("feedback", score=9)]
    strict = Thresholds(promoter_score=10)
    assert contact_stage(contact(), timeline, strict) == "engaged"


def test_stage_counts_count_everyone_who_reached_a_stage():
    counts = stage_counts(["visitor", "visitor", "engaged", "lead", "advocate"])
    assert counts == {
        "visitor": 5,
        "engaged": 3,
        "lead": 2,
        "customer": 1,
        "advocate": 1,
    }
    assert stage_counts([]) == dict.fromkeys(STAGES, 0)


# -- attribution ------------------------------------------------------------


NEWSLETTER = {"source": "newsletter", "medium": "email", "campaign": "nov"}


def test_touches_of_nothing_is_empty():
    assert touches([]) == []


def test_thirty_minutes_of_inactivity_starts_a_new_visit():
    # Gaps of 29 and exactly 30 minutes stay in the visit; 31 minutes starts one.
    views = [
        pv(ts(0, 100), "/posts/a/", referrer="news.example"),
        pv(ts(0, 71), "/posts/b/"),
        pv(ts(0, 41), "/posts/c/"),
        pv(ts(0, 10), "/posts/d/"),
    ]
    visits = touches(views)
    assert [t.landing for t in visits] == ["/posts/a/", "/posts/d/"]
    assert visits[0] == Touch(
        ts(0, 100), "news.example", "referral", None, "/posts/a/", "news.example"
    )
    assert visits[1].source == "direct"


def test_touches_sort_by_time_and_skip_bots():
    views = [pv(ts(0, 1), "/b/"), pv(ts(0, 5), "/a/"), pv(ts(0, 50), "/x/", type="bot")]
    assert [t.landing for t in touches(views)] == ["/a/"]


def test_a_new_campaign_starts_a_new_visit():
    views = [
        pv(ts(0, 10), "/posts/a/"),
        pv(ts(0, 9), "/posts/b/", utm=NEWSLETTER),
        pv(ts(0, 8), "/posts/c/"),
        pv(ts(0, 7), "/posts/c/", utm=NEWSLETTER),
        pv(ts(0, 6), "/posts/d/", utm=NEWSLETTER | {"campaign": "dec"}),
    ]
    visits = touches(views)
    assert [(t.source, t.campaign) for t in visits] == [
        ("direct", None),
        ("newsletter", "nov"),
        ("newsletter", "dec"),
    ]
    assert visits[1].medium == "email"


def test_utm_source_wins_over_the_referrer():
    view = pv(ts(), referrer="l.facebook.com", utm={"source": "fb", "medium": "paid"})
    assert touches([view])[0].source == "fb"
    assert touches([view])[0].referrer == "l.facebook.com"


def test_first_and_last_touch_before_the_conversion():
    visits = touches(
        [
            pv(ts(3), referrer="search.example"),
            pv(ts(2), utm=NEWSLETTER),
            pv(ts(1)),
            pv(ts(0), referrer="later.example"),
        ]
    )
    credit = attribute(visits, ts(0, 30))
    assert credit["first"].source == "search.example"
    assert credit["last"].source == "newsletter"


def test_last_touch_falls_back_to_direct():
    visits = touches([pv(ts(2)), pv(ts(1))])
    credit = attribute(visits, NOW)
    assert credit["first"] == visits[0]
    assert credit["last"] == visits[1]
    assert credit["last"].source == "direct"


def test_attribute_with_no_visit_before_the_conversion():
    assert attribute([], NOW) == {"first": None, "last": None}
    later = touches([pv(ts(1))])
    assert attribute(later, ts(2)) == {"first": None, "last": None}


# -- funnel -----------------------------------------------------------------


def test_funnel_rates_and_drop_off():
    counts = {
        "visitor": 1000,
        "engaged": 400,
        "lead": 100,
        "customer": 10,
        "advocate": 2,
    }
    steps = funnel(counts)
    assert [s.stage for s in steps] == list(STAGES)
    assert steps[0] == Step("visitor", 1000, None, 1.0, 0)
    assert steps[2] == Step("lead", 100, 0.25, 0.1, 300)
    assert steps[4] == Step("advocate", 2, 0.2, 0.002, 8)


def test_funnel_with_zeros():
    steps = funnel({"visitor": 0, "engaged": 0})
    assert all(s.count == 0 for s in steps)
    assert all(s.rate_from_previous is None for s in steps)
    assert all(s.rate_from_top is None for s in steps)
    assert all(s.drop_off == 0 for s in steps)


def test_funnel_zero_at_the_end_and_never_negative_drop_off():
    steps = funnel({"visitor": 10, "engaged": 0, "lead": 0})
    assert steps[1] == Step("engaged", 0, 0.0, 0.0, 10)
    assert steps[2] == Step("lead", 0, None, 0.0, 0)


def test_funnel_steps_never_exceed_the_step_before():
    # People move through the stages: a lead has been engaged and a visitor,
    # even when the tracker saw no visit of theirs (a sale the shop recorded).
    steps = funnel({"visitor": 1, "engaged": 0, "lead": 3, "customer": 2})
    assert [s.count for s in steps] == [3, 3, 3, 2, 0]
    assert all(a.count >= b.count for a, b in pairwise(steps))
    assert all(s.rate_from_previous <= 1 for s in steps[1:] if s.rate_from_previous)
