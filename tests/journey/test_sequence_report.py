"""Per sequence: entered, sent, clicks, unsubscribes, exits by conversion, and
who became a lead or a customer within 30 days of entering."""

from __future__ import annotations

from datetime import UTC, datetime

from tracker.journey.sequence_report import clicks_by_sequence, report

NOW = datetime(2026, 9, 1, tzinfo=UTC)
SEQ = {
    "name": "welcome",
    "title": "Welcome",
    "trigger": {"kind": "signup"},
    "steps": [{}, {}],
}


def person(entered: str, state: str, sent: int, **fields) -> dict:
    steps = {f"0{n}": {"state": "sent"} for n in range(sent)}
    reason = fields.pop("reason", None)
    record = {"state": state, "entered": entered, "steps": steps, "n": 1}
    if reason:
        record["reason"] = reason
    return {
        "lead_at": None,
        "customer_at": None,
        "sequences": {"welcome": record},
        **fields,
    }


def test_one_row_per_sequence_with_its_outcomes():
    contacts = [
        person(
            "2026-06-01T08:00:00+00:00",
            "finished",
            2,
            customer_at="2026-06-20T08:00:00+00:00",
        ),
        person(
            "2026-06-01T08:00:00+00:00",
            "exited",
            1,
            reason="conversion",
            customer_at="2026-08-20T08:00:00+00:00",
        ),  # after 30 days
        person("2026-06-02T08:00:00+00:00", "left", 1, reason="unsubscribed"),
        person("2026-08-25T08:00:00+00:00", "active", 1),  # too early to tell
        {"id": "not-in-it"},
    ]
    clicks = clicks_by_sequence(
        [
            {"type": "click", "props": {"email": "seq:welcome:01"}},
            {"type": "click", "props": {"email": "seq:welcome:02"}},
            {"type": "click", "props": {"email": "digest-2026-06-01-abc"}},
            {"type": "pageview"},
        ]
    )
    (row,) = report([SEQ], contacts, clicks, NOW)
    assert row["entered"] == 4 and row["active"] == 1 and row["finished"] == 1
    assert row["sent"] == 5 and row["clicks"] == 2
    assert row["unsubscribed"] == 1 and row["exited_by_conversion"] == 1
    assert row["customers"] == 1
    assert row["customer_share"] == 1 / 3  # the one entered last week waits


def test_a_sequence_no_one_entered_has_no_share():
    (row,) = report([SEQ], [], {}, NOW)
    assert row["entered"] == 0 and row["lead_share"] is None


def test_the_facts_outline_counts_as_the_record_does():
    """The people's facts keep each record's outline: the same row from either."""
    from tracker.journey import facts

    whole = [
        person("2026-06-01T08:00:00+00:00", "finished", 2),
        person("2026-08-25T08:00:00+00:00", "active", 1, reason="x"),
    ]
    whole[1]["sequences"]["welcome"]["past"] = [{"state": "left"}]
    outlined = [facts.of({"id": str(n), **c}, []) for n, c in enumerate(whole)]
    assert report([SEQ], outlined, {}, NOW) == report([SEQ], whole, {}, NOW)
