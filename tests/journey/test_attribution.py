"""Attribution is pure: plain visits in, first and last touch out; no app, no store."""

from __future__ import annotations

from tracker.journey import attribution

NOW = "2026-11-20T12:00:00+00:00"


def pageview(ts: str, path: str, **fields) -> dict:
    return {"type": "pageview", "ts": ts, "visitor": "v1", "path": path, **fields}


def test_first_and_last_touch_of_plain_visits():
    visits = [
        pageview("2026-11-02T09:00:00+00:00", "/a/", utm={"source": "facebook"}),
        pageview("2026-11-10T09:00:00+00:00", "/b/", referrer="news.example"),
        pageview("2026-11-19T09:00:00+00:00", "/c/"),  # a bookmark: direct
    ]
    touch = attribution.credit(visits, NOW)
    assert touch["first"]["source"] == "facebook" and touch["first"]["landing"] == "/a/"
    assert touch["last"]["source"] == "news.example"  # not the direct return


def test_a_forms_campaign_stands_in_for_a_direct_last_touch():
    visits = [pageview("2026-11-19T09:00:00+00:00", "/c/")]
    touch = attribution.credit(visits, NOW, {"source": "newsletter", "medium": "email"})
    assert touch["first"]["source"] == "direct"
    assert touch["last"] == {
        "ts": NOW,
        "source": "newsletter",
        "medium": "email",
        "campaign": None,
        "landing": None,
        "referrer": None,
    }


def test_no_visits_credit_nothing_unless_the_form_names_a_campaign():
    assert attribution.credit([], NOW) == {"first": None, "last": None}
    touch = attribution.credit([], NOW, {"source": "ig"})
    assert touch["first"] == touch["last"] and touch["last"]["source"] == "ig"


def test_the_lookback_starts_thirty_days_before():
    assert attribution.since(NOW) == "2026-10-21T12:00:00+00:00"


def test_apply_keeps_the_first_conversions_first_touch():
    contact: dict = {}
    attribution.apply(contact, {"first": {"source": "a"}, "last": {"source": "a"}})
    attribution.apply(contact, {"first": {"source": "b"}, "last": {"source": "b"}})
    assert contact == {"first_touch": {"source": "a"}, "last_touch": {"source": "b"}}
