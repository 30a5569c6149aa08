"""One rule for a visit and one for its source, and every reader of visits agrees."""

from __future__ import annotations

import pytest

from tracker.journey import visits
from tracker.journey.counters import Stats
from tracker.journey.visits import Source, source_of, starts_visit


def pv(minute: int, path: str = "/a/", **fields) -> dict:
    hour, minute = divmod(minute, 60)
    return {
        "ts": f"2026-11-01T{10 + hour:02d}:{minute:02d}:00+00:00",
        "type": "pageview",
        "visitor": "v1",
        "path": path,
        **fields,
    }


FB = {"source": "facebook", "medium": "paid", "campaign": "spring"}


def test_the_source_is_the_utm_source_else_the_referrer_else_direct():
    assert source_of(pv(0, utm=FB, referrer="l.facebook.com")) == Source(
        "facebook", "paid", "spring"
    )
    assert source_of(pv(0, referrer="news.example")) == Source(
        "news.example", "referral", None
    )
    assert source_of(pv(0)) == Source("direct", None, None)


@pytest.mark.parametrize(
    "later, idle, new",
    [
        (pv(5, "/b/", entry=False), 5 * 60, False),  # a click on the site
        (pv(5, "/b/"), 5 * 60, False),  # opened directly, a reload
        (pv(5, "/b/", utm=FB), 5 * 60, False),  # the same campaign again
        (pv(30, "/b/", entry=False), 30 * 60, False),  # exactly 30 minutes
        (pv(31, "/b/", entry=False), 31 * 60, True),  # 31 idle minutes
        (pv(5, "/b/", referrer="news.example"), 5 * 60, True),  # another site
        (pv(5, "/b/", utm=FB | {"campaign": "autumn"}), 5 * 60, True),  # campaign
    ],
)
def test_what_starts_a_visit(later, idle, new):
    current = source_of(pv(0, utm=FB))
    assert starts_visit(later, idle, current) is new
    assert starts_visit(later, None, None)  # the first pageview always does


STREAM = [
    pv(0, "/a/", utm=FB, referrer="l.facebook.com"),
    pv(3, "/b/", entry=False),
    pv(4, "/b/"),  # a reload
    pv(10, "/c/", referrer="news.example"),
    pv(12, "/d/", entry=False),
    pv(50, "/e/", entry=False),
    pv(55, "/e/", utm=FB),
]


def test_counters_attribution_and_the_timeline_count_the_same_visits():
    stats = Stats()
    for event in STREAM:
        stats.add(event)
    summary = stats.summary()
    counted = {row["source"]: row["visits"] for row in summary["sources"]}
    touched = visits.touches(STREAM)
    shown = [i for i in visits.timeline(STREAM) if i["kind"] == "visit"]
    expected = ["facebook", "news.example", "direct", "facebook"]
    assert [t.source for t in touched] == expected
    assert [v["source"] for v in shown] == expected
    assert counted == {"facebook": 2, "news.example": 1, "direct": 1}
    assert [t.landing for t in touched] == [v["landing"] for v in shown]
    assert [len(v["pages"]) for v in shown] == [3, 2, 1, 1]
