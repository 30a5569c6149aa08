"""Revenue, spend joined to campaigns, cost per lead and customer, ROAS: pure rules."""

from __future__ import annotations

from decimal import Decimal

from tracker.journey import facts, money

D = Decimal


def row(day, campaign_id, campaign, spend, currency="EUR", platform="meta"):
    return {
        "platform": platform,
        "day": day,
        "campaign_id": campaign_id,
        "campaign": campaign,
        "spend": D(spend),
        "currency": currency,
        "impressions": 0,
        "clicks": 0,
    }


def stored(rows, platform="meta", first="2026-11-01", last="2026-11-30", old=None):
    return money.replace(old, platform, first, last, rows, {"file": "x.csv"})


def test_replacing_a_period_keeps_other_days_and_platforms():
    doc = stored(
        [row("2026-11-01", "1", "A", "10.00"), row("2026-11-02", "1", "A", "5")]
    )
    doc = stored([row("2026-11-01", "9", "G", "7.5")], "google", old=doc)
    doc = stored(
        [row("2026-11-02", "1", "A", "6.25"), row("2026-11-03", "1", "A", "1.10")],
        first="2026-11-02",
        last="2026-11-03",
        old=doc,
    )
    rows = money.spend_rows(doc, None, None)
    assert money.totals(rows) == {"EUR": D("24.85")}  # 10 + 7.5 + 6.25 + 1.10
    assert [r["day"] for r in rows if r["platform"] == "meta"] == [
        "2026-11-01",
        "2026-11-02",
        "2026-11-03",
    ]
    assert money.totals(money.spend_rows(doc, "2026-11-02", "2026-11-02")) == {
        "EUR": D("6.25")
    }
    assert len(doc["imports"]) == 3


def test_amounts_are_stored_as_exact_text():
    doc = stored(
        [row("2026-11-01", "1", "A", "0.10"), row("2026-11-02", "1", "A", "0.20")]
    )
    assert money.totals(money.spend_rows(doc, None, None)) == {"EUR": D("0.30")}


def test_spend_joins_by_id_then_name_then_mapping():
    rows = [
        row("2026-11-01", "111", "Autumn", "30"),  # id in utm_campaign
        row("2026-11-01", "222", "  Winter Sale ", "20"),  # by name
        row("2026-11-01", "333", "Spring", "12.5"),  # by the owner's mapping
        row("2026-11-01", "444", "Nobody", "3", platform="google"),  # no match
    ]
    campaigns = ["111", "winter sale", "spring-tag", "newsletter"]
    matched, unmatched = money.join(campaigns, rows, {"spring-tag": "333"})
    assert matched == {
        "111": {"EUR": D("30")},
        "winter sale": {"EUR": D("20")},
        "spring-tag": {"EUR": D("12.5")},
    }
    assert [(g["platform"], g["campaign_id"]) for g in unmatched] == [("google", "444")]


def test_an_id_match_wins_over_a_name_match():
    rows = [row("2026-11-01", "111", "brand", "10")]
    matched, _ = money.join(["brand", "111"], rows, {})
    assert matched == {"111": {"EUR": D("10")}}


def test_cost_per_lead_to_the_cent_and_no_denominator_is_none():
    assert money.per(D("16.05"), 2) == D("8.03")  # 8.025, half up
    assert money.per(D("73.00"), 3) == D("24.33")
    assert money.per(D("10"), 0) is None
    assert money.per(None, 3) is None


def test_campaign_rows_keep_currencies_apart():
    campaigns = [
        {"campaign": "111", "visitors": 10, "leads": 4, "customers": 1},
        {"campaign": "news", "visitors": 5, "leads": 1, "customers": 0},
    ]
    rows = [
        row("2026-11-01", "111", "A", "40.00"),
        row("2026-11-01", "111", "A", "300", currency="SEK"),
        row("2026-11-01", "555", "Lost", "9.99"),
    ]
    earned = {"111": {"EUR": D("100"), "USD": D("20")}, "gone": {"EUR": D("5")}}
    listed, unmatched = money.campaign_rows(campaigns, earned, rows, {}, "EUR")
    first, news, gone = listed
    assert first["spend"] == D("40.00") and first["spend_other"] == {"SEK": D("300")}
    assert first["revenue"] == D("100") and first["revenue_other"] == {"USD": D("20")}
    assert first["cost_per_lead"] == D("10.00")
    assert first["cost_per_customer"] == D("40.00")
    assert first["roas"] == D("2.50")
    assert news["spend"] is None and news["cost_per_lead"] is None
    assert news["roas"] is None and news["revenue"] == 0
    assert gone["campaign"] == "gone" and gone["visitors"] == 0
    assert [(g["campaign"], g["spend"]) for g in unmatched] == [("Lost", D("9.99"))]


def test_revenue_is_credited_by_touch_once_per_order():
    contact = {
        "id": "c1",
        "first_touch": {"source": "facebook", "campaign": "autumn", "landing": "/a/"},
        "last_touch": {"source": "google", "campaign": "retarget", "landing": "/b/"},
    }
    events = [
        {"type": "purchase", "ts": "2026-11-02T10:00:00", "value": 19.9},
        {
            "type": "purchase",
            "ts": "2026-11-03T10:00:00",
            "value": 0.1,
            "order_id": "o",
        },
        {
            "type": "purchase",
            "ts": "2026-11-03T11:00:00",
            "value": 0.1,
            "order_id": "o",
        },
        {
            "type": "booking",
            "ts": "2026-11-04T10:00:00",
            "value": 50,
            "currency": "SEK",
        },
        {"type": "purchase", "ts": "2026-10-01T10:00:00", "value": 1000},
        {"type": "confirm", "ts": "2026-11-02T09:00:00"},
    ]
    people = [
        facts.of(contact, events),
        facts.of({"id": "c2"}, [{**events[0], "value": 5}]),
    ]
    first = money.revenue(people, "2026-11-01", "2026-11-30", "first")
    assert first["total"] == {"EUR": D("25.0"), "SEK": D("50")}
    assert first["by_campaign"] == {"autumn": {"EUR": D("20.0"), "SEK": D("50")}}
    assert first["orders"] == 4
    assert first["by"]["source"] == {
        "facebook": {"EUR": D("20.0"), "SEK": D("50")},
        "direct": {"EUR": D("5")},  # c2 has no touch: a direct visit, as sources
    }
    assert first["by"]["landing"] == {"/a/": {"EUR": D("20.0"), "SEK": D("50")}}
    last = money.revenue(people, "2026-11-01", "2026-11-30", "last")
    assert last["by_campaign"] == {"retarget": {"EUR": D("20.0"), "SEK": D("50")}}
    # the orders counted as the sums are, for average order values
    assert first["orders_in"] == {"EUR": 3, "SEK": 1}
    assert first["orders_by"]["source"] == {
        "facebook": {"EUR": 2, "SEK": 1},
        "direct": {"EUR": 1},
    }


def test_report_fields_without_spend():
    earned = money.revenue([], None, None, "first")
    part = {"currency": "EUR", "revenue": earned, "spend": None}
    fields = money.report_fields([], part, None, None)
    assert fields["revenue"] == 0 and fields["spend"] == 0
    assert fields["campaigns"] == [] and fields["spend_unmatched"] == []
    assert not fields["spend_imported"]
