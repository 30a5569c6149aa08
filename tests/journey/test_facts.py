"""A person's facts, folded one saved record at a time, are those of their
whole timeline: whatever the order of states and decisions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tracker.journey import facts, money, stages

TYPES = ("signup", "confirm", "download", "purchase", "booking", "feedback")
TYPES += ("referral", "unsubscribe", "click", "quote", "import")


@st.composite
def decision(draw, n: int) -> dict:
    kind = draw(st.sampled_from(TYPES))
    event = {
        "id": f"e{n}",
        "type": kind,
        "ts": f"2026-{draw(st.integers(1, 12)):02d}-0{n % 9 + 1}T10:00:00+00:00",
    }
    if kind in ("purchase", "booking"):
        event["value"] = draw(st.one_of(st.none(), st.integers(0, 500)))
        event["order_id"] = draw(st.sampled_from([None, "o1", "o2"]))
        event["currency"] = draw(st.sampled_from(["EUR", "SEK"]))
    if kind == "download":
        event["guide"] = draw(st.sampled_from(["a", "b"]))
    if kind == "feedback":
        event["score"] = draw(st.integers(0, 10))
    return event


@st.composite
def state(draw) -> dict:
    found = {
        "id": "c1",
        "email": "a@example.com",
        "created": "2026-01-01T00:00:00+00:00",
    }
    found["status"] = draw(st.sampled_from(["pending", "confirmed", "none"]))
    for field in ("lead_at", "customer_at", "advocate_at"):
        if draw(st.booleans()):
            found[field] = f"2026-{draw(st.integers(1, 12)):02d}-15T09:00:00+00:00"
    if draw(st.booleans()):
        found["first_touch"] = {
            "source": "google",
            "landing": "/a/",
            "ts": "2026-01-02T00:00:00+00:00",
        }
    if draw(st.booleans()):
        found["feedback"] = {
            "score": draw(st.integers(0, 10)),
            "ts": "2026-05-05T00:00:00+00:00",
        }
    return found


@st.composite
def saves(draw) -> list[tuple[dict, dict | None]]:
    """The records one person's transactions save: (state after, decision)."""
    count = draw(st.integers(1, 8))
    return [
        (draw(state()), draw(st.one_of(st.none(), decision(n)))) for n in range(count)
    ]


@given(saves())
def test_folding_each_save_gives_the_whole_timelines_facts(saved):
    folded = None
    for contact, event in saved:
        folded = facts.step(folded, contact, event)
    contact = saved[-1][0]
    timeline = [event for _, event in saved if event]
    whole = facts.of(contact, timeline)
    assert folded == whole
    assert whole["stage"] == stages.contact_stage(contact, timeline)
    assert whole["seen"] == (timeline[-1]["ts"] if timeline else contact["created"])


@given(saves())
def test_revenue_from_facts_counts_each_valued_order_once(saved):
    contact = saved[-1][0]
    timeline = [event for _, event in saved if event]
    earned = money.revenue([facts.of(contact, timeline)], None, None, "first")
    orders, total = set(), {}
    for event in timeline:
        if event["type"] not in ("purchase", "booking") or event.get("value") is None:
            continue
        if event.get("order_id") and event["order_id"] in orders:
            continue
        orders.add(event.get("order_id"))
        total[event["currency"]] = total.get(event["currency"], 0) + event["value"]
    assert {k: float(v) for k, v in earned["total"].items()} == total


@given(saves(), st.integers(1, 12), st.integers(0, 11))
def test_a_period_skips_only_people_with_nothing_in_it(saved, month, length):
    contact = saved[-1][0]
    timeline = [event for _, event in saved if event]
    found = facts.of(contact, timeline)
    since = f"2026-{month:02d}-01"
    until = f"2026-{min(12, month + length):02d}-28"
    days = [found.get(f) for f in ("lead_at", "customer_at", "advocate_at")]
    days += [(found.get(f) or {}).get("ts") for f in ("feedback", "first_touch")]
    days += [p["ts"] for p in found.get("purchases", [])]
    days += [d[0] for d in found.get("downloads", [])]
    counted = any(day and since <= day[:10] <= until for day in days)
    if counted:
        assert facts.active(found, since, until)
