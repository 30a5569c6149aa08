"""Rates and warnings per send, from literal counts and events."""

from __future__ import annotations

from tracker.journey import deliverability as d

TS = "2026-12-01T09:00:00+00:00"


def bounce(contact: str, send: str, kind: str = "hard", ts: str = TS) -> dict:
    return {"type": "bounce", "kind": kind, "send": send, "contact": contact, "ts": ts}


def complaint(contact: str, send: str, ts: str = TS) -> dict:
    return {"type": "complaint", "send": send, "contact": contact, "ts": ts}


def one(counts, events, send):
    (row,) = [r for r in d.rows(counts, events) if r.send == send]
    return row


def test_rates_come_from_the_counts_and_each_person_counts_once():
    counts = {"digest-1": {"sent": 990, "failed": 10, "last": TS}}
    events = [
        bounce("a", "digest-1"),
        bounce("a", "digest-1"),  # a report replayed under another id
        bounce("b", "digest-1", kind="soft"),
        complaint("c", "digest-1"),
        {"type": "delivered", "send": "digest-1", "contact": "d", "ts": TS},
        bounce("e", "digest-2"),
    ]
    row = one(counts, events, "digest-1")
    assert (row.sent, row.addressed, row.hard, row.soft, row.complaints) == (
        990,
        1000,
        1,
        1,
        1,
    )
    assert row.hard_rate == 1 / 1000 and row.soft_rate == 1 / 1000
    assert row.complaint_rate == 1 / 990  # of the messages delivered
    assert row.kind == "digest" and row.warnings == [d.COMPLAINTS]


def test_a_send_passes_the_limits_strictly_above_them():
    at_limits = {"confirm": {"sent": 1000, "failed": 0}}
    events = [complaint("c", "confirm")] + [
        bounce(f"h{n}", "confirm") for n in range(20)
    ]
    assert one(at_limits, events, "confirm").warnings == []  # 0.1 % and 2 %: not past
    events.append(bounce("h20", "confirm"))
    events.append(complaint("c2", "confirm"))
    assert one(at_limits, events, "confirm").warnings == [d.COMPLAINTS, d.HARD_BOUNCES]


def test_a_send_without_counts_has_no_rates_and_no_warning():
    row = one({}, [bounce("a", "imap:unknown")], "imap:unknown")
    assert row.hard == 1 and row.hard_rate is None and row.warnings == []


def test_kinds_and_the_order_latest_first():
    counts = {
        "confirm": {"sent": 3, "last": "2026-12-02T00:00:00+00:00"},
        "seq:welcome:01-hello": {"sent": 2, "last": "2026-12-03T00:00:00+00:00"},
        "digest-2026-11-01-abc": {"sent": 5, "last": "2026-11-01T00:00:00+00:00"},
    }
    found = d.rows(counts, [])
    assert [r.kind for r in found] == ["sequence", "confirm", "digest"]
    assert [r.send for r in d.rows(counts, [], since="2026-12-01")] == [
        "seq:welcome:01-hello",
        "confirm",
    ]


def test_a_late_bounce_makes_an_old_send_recent():
    counts = {"digest-1": {"sent": 10, "last": "2026-10-01T00:00:00+00:00"}}
    late = bounce("a", "digest-1", ts="2026-12-05T00:00:00+00:00")
    assert [r.send for r in d.rows(counts, [late], since="2026-12-01")] == ["digest-1"]


def test_alerts_are_the_warnings_and_the_policy_blocks():
    counts = {
        "digest-1": {"sent": 100, "blocked": 1, "block": "550 5.7.1 Spam"},
        "confirm": {"sent": 100},
        "download": {"sent": 10},
    }
    events = [complaint("c", "confirm")]
    assert sorted(r.send for r in d.alerts(d.rows(counts, events))) == [
        "confirm",
        "digest-1",
    ]
