"""The suppression rules, with literal inputs: who may no longer be mailed, and why."""

from __future__ import annotations

from tracker.journey import suppression as s

NOW = "2026-03-31T12:00:00+00:00"


def soft(ts: str, send: str) -> dict:
    return {"type": "bounce", "kind": "soft", "ts": ts, "send": send, "status": "452"}


def test_a_hard_bounce_suppresses_at_once():
    ev = {
        "type": "bounce",
        "kind": "hard",
        "ts": "2026-03-30T10:00:00+00:00",
        "send": "digest-1",
        "status": "550 5.1.1",
    }
    got = s.decide([ev], NOW)
    assert got == {"reason": "hard_bounce", "at": ev["ts"], "evidence": [ev]}


def test_a_complaint_suppresses_at_once():
    ev = {"type": "complaint", "ts": "2026-03-30T10:00:00+00:00", "send": "digest-1"}
    assert s.decide([ev], NOW)["reason"] == "complaint"


def test_three_soft_bounces_on_distinct_sends_within_30_days_suppress():
    events = [
        soft("2026-03-05T00:00:00+00:00", "d1"),
        soft("2026-03-15T00:00:00+00:00", "d2"),
        soft("2026-03-30T00:00:00+00:00", "d3"),
    ]
    got = s.decide(events, NOW)
    assert got["reason"] == "soft_bounces"
    assert got["at"] == "2026-03-30T00:00:00+00:00"
    assert got["evidence"] == events


def test_two_soft_bounces_do_not_suppress():
    events = [
        soft("2026-03-15T00:00:00+00:00", "d1"),
        soft("2026-03-30T00:00:00+00:00", "d2"),
    ]
    assert s.decide(events, NOW) is None


def test_three_soft_bounces_on_one_send_count_once():
    events = [soft(f"2026-03-2{i}T00:00:00+00:00", "d1") for i in range(3)]
    assert s.decide(events, NOW) is None


def test_soft_bounces_older_than_30_days_do_not_count():
    events = [
        soft("2026-02-01T00:00:00+00:00", "d1"),
        soft("2026-03-15T00:00:00+00:00", "d2"),
        soft("2026-03-30T00:00:00+00:00", "d3"),
    ]
    assert s.decide(events, NOW) is None


def test_a_delivery_resets_the_count():
    events = [
        soft("2026-03-05T00:00:00+00:00", "d1"),
        soft("2026-03-10T00:00:00+00:00", "d2"),
        {"type": "delivered", "ts": "2026-03-12T00:00:00+00:00", "send": "d3"},
        soft("2026-03-30T00:00:00+00:00", "d4"),
    ]
    assert s.decide(events, NOW) is None


def test_policy_blocks_are_the_senders_problem():
    assert s.classify(550, "5.7.1 Message rejected as spam") == "policy"
    assert s.classify(554, "5.7.26 DMARC failed") == "policy"
    assert s.classify(550, "5.1.1 No such user") == "hard"
    assert s.classify(452, "4.2.2 Mailbox full") == "soft"


def test_a_suppressed_contact_is_known():
    assert s.is_suppressed({"suppressed": {"reason": "complaint"}})
    assert not s.is_suppressed({"email": "a@example.com"})


# -- proving the address again -------------------------------------------------


def suppressed(reason: str, at: str) -> dict:
    return {"reason": reason, "at": at, "evidence": []}


def test_a_complaint_may_be_proved_again_only_after_its_days():
    complaint = suppressed("complaint", "2025-03-31T12:00:00+00:00")
    assert s.reprove_from(complaint, complaint_days=365, bounce_days=30) == (
        "2026-03-31T12:00:00+00:00"
    )
    assert s.may_reprove(complaint, NOW, complaint_days=365, bounce_days=30)
    assert not s.may_reprove(complaint, NOW, complaint_days=366, bounce_days=30)


def test_a_bounce_hard_or_soft_may_be_proved_again_after_the_bounce_days():
    for reason in ("hard_bounce", "soft_bounces"):
        bounced = suppressed(reason, "2026-03-01T12:00:00+00:00")
        assert s.may_reprove(bounced, NOW, complaint_days=365, bounce_days=30)
        assert not s.may_reprove(bounced, NOW, complaint_days=365, bounce_days=31)


def test_a_negative_setting_never_lets_the_address_be_proved_again():
    complaint = suppressed("complaint", "2000-01-01T00:00:00+00:00")
    assert s.reprove_from(complaint, complaint_days=-1, bounce_days=30) is None
    assert not s.may_reprove(complaint, NOW, complaint_days=-1, bounce_days=30)


def test_lifting_a_suppression_forgets_the_soft_bounces_too():
    contact = {
        "id": "c1",
        "suppressed": suppressed("hard_bounce", "2026-03-01T12:00:00+00:00"),
        "soft_bounces": [soft("2026-03-05T00:00:00+00:00", "d1")],
    }
    lifted = s.lift(contact)
    assert not s.is_suppressed(lifted) and not lifted["soft_bounces"]
    assert s.is_suppressed(contact)  # the given record is left as it was
