"""What each row of the report earned: revenue, average order and per visitor."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from tracker.journey import earnings, facts, money

D = Decimal


def bought(source, landing, value, currency="EUR", order=None):
    contact = {"id": f"{source}{landing}{value}"}
    contact["first_touch"] = {"source": source, "campaign": None, "landing": landing}
    event = {"type": "purchase", "ts": "2026-11-02T10:00:00", "value": value}
    if currency != "EUR":
        event["currency"] = currency
    return facts.of(contact, [event])


PEOPLE = [
    bought("facebook", "/a/", 100),
    bought("facebook", "/a/", 50),
    bought("facebook", "/b/", 30, "SEK"),
    bought("google", "/b/", 9.99),
    bought("newsletter", "/old/", 20),  # no visit in the period
]


def earned():
    return money.revenue(PEOPLE, "2026-11-01", "2026-11-30", "first")


def test_each_source_shows_its_revenue_average_order_and_revenue_per_visitor():
    rows = [
        {"source": "facebook", "visits": 12, "visitors": 10, "leads": 2},
        {"source": "google", "visits": 3, "visitors": 3, "leads": 1},
        {"source": "direct", "visits": 7, "visitors": 7, "leads": 0},
    ]
    shown = earnings.with_revenue(rows, "source", "source", earned(), "EUR")
    facebook, google, direct, newsletter = shown
    assert facebook["revenue"] == D("150") and facebook["orders"] == 2
    assert facebook["revenue_other"] == {"SEK": D("30")}  # beside, never summed
    assert facebook["average_order"] == D("75.00")
    assert facebook["revenue_per_visitor"] == D("15.00")
    assert google["average_order"] == D("9.99")
    assert google["revenue_per_visitor"] == D("3.33")
    assert direct["revenue"] == 0 and direct["average_order"] is None
    assert direct["revenue_per_visitor"] == D("0.00")
    # revenue with no visit in the period still has its row
    assert newsletter["source"] == "newsletter" and newsletter["visitors"] == 0
    assert newsletter["revenue"] == D("20")
    assert newsletter["revenue_per_visitor"] is None


def test_only_other_currencies_make_no_average_in_the_sites():
    rows = [{"path": "/b/", "visits": 4, "visitors": 4}]
    shown = earnings.with_revenue(rows, "path", "landing", earned(), "SEK")
    b = next(r for r in shown if r["path"] == "/b/")
    assert b["revenue"] == D("30") and b["revenue_other"] == {"EUR": D("9.99")}
    assert b["average_order"] == D("30.00") and b["orders"] == 1


def test_the_report_gains_totals_and_posts_their_customers():
    data = {
        "visitors": 40,
        "sources": [{"source": "facebook", "visits": 1, "visitors": 1}],
        "landings": [{"path": "/a/", "visits": 2, "visitors": 2}],
        "posts": [
            {"path": "/a/", "views": 9, "visitors": 5, "signups": 1},
            {"path": "/c/", "views": 1, "visitors": 1, "signups": 0},
        ],
    }
    credited = {"/a/": Counter(leads=2, customers=2)}
    fields = earnings.report_fields(data, earned(), credited, "EUR")
    assert fields["average_order"] == D("45.00")  # (100 + 50 + 9.99 + 20) / 4
    assert fields["revenue_per_visitor"] == D("4.50")  # 179.99 / 40
    a, c = fields["posts"]
    assert a["customers"] == 2 and a["revenue"] == D("150")
    assert a["revenue_per_visitor"] == D("30.00")
    assert c["customers"] == 0 and c["revenue"] == 0
    assert len(fields["posts"]) == 2  # pages read only: no row for revenue alone
    assert {r["path"] for r in fields["landings"]} == {"/a/", "/b/", "/old/"}


def test_no_visitors_no_revenue_per_visitor():
    data = {"visitors": 0, "sources": [], "landings": [], "posts": []}
    empty = money.revenue([], None, None, "first")
    fields = earnings.report_fields(data, empty, {}, "EUR")
    assert fields["average_order"] is None and fields["revenue_per_visitor"] is None
