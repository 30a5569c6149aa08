"""A person's way through sequences: entering, waiting, claiming, leaving."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from tracker.journey import enrolment
from tracker.journey.enrolment import Facts, Policy
from tracker.journey.sendtime import Window, zone

HKI = zone("Europe/Helsinki")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def subscriber(confirmed: str, **extra) -> dict:
    return {
        "id": "c1",
        "email": "aino@example.com",
        "status": "confirmed",
        "created": confirmed,
        "consent": {"newsletter": {"ts": confirmed, "confirmed_at": confirmed}},
        "orders": [],
        "customer_at": None,
        "lead_at": confirmed,
        **extra,
    }


def step(step_id: str, delay: dict, only_if: dict | None = None) -> dict:
    return {"id": step_id, "subject": step_id, "delay": delay, "only_if": only_if}


def sequence(name="welcome", trigger="signup", steps=None, **extra) -> dict:
    kind, _, value = trigger.partition(":")
    return {
        "name": name,
        "title": name,
        "trigger": {"kind": kind, "value": value},
        "exit": None,
        "lang": None,
        "reentry": False,
        "since": None,
        "steps": steps or [step("01", {"days": 0, "minutes": 0})],
        **extra,
    }


DAYTIME = Window(time(8), time(20))
LEAD = Facts(stage="lead")


def policy(now: str, window=DAYTIME, per_day=1) -> Policy:
    return Policy(now=at(now), tz=HKI, window=window, per_day=per_day)


def run(contact, sequences, now, facts=LEAD, **kw):
    return enrolment.advance(contact, facts, sequences, policy(now, **kw))


def test_a_new_subscriber_enters_and_the_first_step_is_claimed_in_the_window():
    contact = subscriber("2026-06-01T10:00:00+03:00")
    done = run(contact, [sequence()], "2026-06-01T10:05:00+03:00")
    assert [c.step for c in done.claims] == ["01"]
    assert [e["type"] for e in done.events] == ["sequence_entered"]
    record = done.contact["sequences"]["welcome"]
    assert record["state"] == "active" and record["steps"]["01"]["state"] == "claimed"
    again = run(done.contact, [sequence()], "2026-06-01T10:06:00+03:00")
    assert again.claims == []  # claimed once
    assert again.contact["sequences"]["welcome"]["state"] == "finished"


def test_the_helsinki_spring_case_waits_for_the_window():
    """Enrolled 2026-03-28 10:00 Helsinki, a one-day delay, an 09:00-11:00
    window: the step is due at 10:00 local the next day (the clocks went
    forward at 03:00), which is 07:00Z."""
    steps = [step("01", {"days": 1, "minutes": 0})]
    contact = subscriber("2026-03-28T10:00:00+02:00")
    window = Window(time(9), time(11))
    seqs = [sequence(steps=steps)]
    early = run(contact, seqs, "2026-03-29T06:59:00+00:00", window=window)
    assert early.claims == []
    assert early.waiting == [("welcome", "01", at("2026-03-29T07:00:00+00:00"))]
    due = run(early.contact, seqs, "2026-03-29T07:00:00+00:00", window=window)
    assert [c.step for c in due.claims] == ["01"]


def test_a_step_due_at_night_waits_for_the_window_start():
    steps = [step("01", {"days": 1, "minutes": 0})]
    contact = subscriber("2026-03-28T08:00:00+02:00")  # before the window opens
    window = Window(time(9), time(11))
    done = run(
        contact, [sequence(steps=steps)], "2026-03-29T05:00:00+00:00", window=window
    )
    assert done.waiting == [("welcome", "01", at("2026-03-29T06:00:00+00:00"))]


def test_two_sequences_due_the_same_local_day_give_one_email_that_day():
    contact = subscriber("2026-06-01T10:00:00+03:00")
    seqs = [sequence("welcome"), sequence("tips")]
    first = run(contact, seqs, "2026-06-01T10:05:00+03:00")
    assert [(c.sequence, c.step) for c in first.claims] == [("welcome", "01")]
    assert first.waiting == [("tips", "01", at("2026-06-02T08:00:00+03:00"))]
    later = run(first.contact, seqs, "2026-06-01T19:00:00+03:00")
    assert later.claims == []
    morning = run(later.contact, seqs, "2026-06-02T08:00:00+03:00")
    assert [(c.sequence, c.step) for c in morning.claims] == [("tips", "01")]


def test_a_conversion_before_the_step_ends_the_sequence():
    steps = [
        step("01", {"days": 0, "minutes": 0}),
        step("02", {"days": 2, "minutes": 0}),
    ]
    seq = sequence("guide", steps=steps, exit={"kind": "conversion", "value": ""})
    contact = subscriber("2026-06-01T10:00:00+03:00")
    first = run(contact, [seq], "2026-06-01T10:05:00+03:00")
    bought = {
        **first.contact,
        "customer_at": "2026-06-02T12:00:00+03:00",
        "orders": ["o1"],
    }
    after = run(bought, [seq], "2026-06-03T10:05:00+03:00")
    assert after.claims == []
    assert after.contact["sequences"]["guide"]["state"] == "exited"
    assert after.events[-1]["reason"] == "conversion"


def test_an_unsubscribe_leaves_every_sequence():
    steps = [
        step("01", {"days": 0, "minutes": 0}),
        step("02", {"days": 2, "minutes": 0}),
    ]
    contact = subscriber("2026-06-01T10:00:00+03:00")
    first = run(contact, [sequence(steps=steps)], "2026-06-01T10:05:00+03:00")
    gone = {**first.contact, "status": "unsubscribed"}
    after = run(gone, [sequence(steps=steps)], "2026-06-03T10:05:00+03:00")
    assert after.claims == []
    assert after.contact["sequences"]["welcome"]["state"] == "left"


def test_a_step_whose_condition_fails_is_skipped_not_delayed():
    steps = [
        step("01", {"days": 0, "minutes": 0}, {"kind": "interest", "value": "speed"}),
        step("02", {"days": 0, "minutes": 60}),
    ]
    contact = subscriber("2026-06-01T10:00:00+03:00")
    done = run(contact, [sequence(steps=steps)], "2026-06-01T11:00:00+03:00")
    record = done.contact["sequences"]["welcome"]
    assert record["steps"]["01"]["state"] == "skipped"
    assert [c.step for c in done.claims] == ["02"]


def test_a_refusal_for_now_is_tried_on_a_later_pass_and_a_permanent_one_never():
    contact = subscriber("2026-06-01T10:00:00+03:00")
    seqs = [sequence()]
    first = run(contact, seqs, "2026-06-01T10:05:00+03:00")
    (claim,) = first.claims
    now = at("2026-06-01T10:05:00+03:00")
    later, event = enrolment.settle(first.contact, claim, "retry", "451 4.7.1", now)
    assert event["result"] == "retry"
    soon = run(later, seqs, "2026-06-01T10:10:00+03:00")
    assert soon.claims == []  # backoff
    retry = run(later, seqs, "2026-06-02T08:00:00+03:00")
    assert [c.step for c in retry.claims] == ["01"]
    failed, _ = enrolment.settle(retry.contact, retry.claims[0], "failed", "550", now)
    assert run(failed, seqs, "2026-06-05T10:00:00+03:00").claims == []


def test_an_unsettled_claim_is_unknown_and_not_sent_again():
    contact = subscriber("2026-06-01T10:00:00+03:00")
    first = run(contact, [sequence()], "2026-06-01T10:05:00+03:00")
    later = at("2026-06-01T11:00:00+03:00")
    tried = lambda key, step: False  # noqa: E731 - its sender began to send it
    assert enrolment.unknown_claims(first.contact, later, tried) == [("welcome", "01")]
    assert run(first.contact, [sequence()], "2026-06-03T10:00:00+03:00").claims == []


def test_a_claim_its_dead_sender_never_began_is_sent_by_the_next_pass():
    contact = subscriber("2026-06-01T10:00:00+03:00")
    first = run(contact, [sequence(), sequence("tips")], "2026-06-01T10:05:00+03:00")
    (claim,) = first.claims
    never_tried = Policy(
        now=at("2026-06-01T10:06:00+03:00"),
        tz=HKI,
        retake=lambda key, step: key == claim.key,
    )
    again = enrolment.advance(
        first.contact, Facts(stage="lead"), [sequence()], never_tried
    )
    assert [c.key for c in again.claims] == [claim.key]  # and the day is still free
    assert (
        enrolment.unknown_claims(again.contact, never_tried.now, never_tried.retake)
        == []
    )


def test_no_one_enters_without_consent_or_from_before_the_sequence_began():
    pending = {**subscriber("2026-06-01T10:00:00+03:00"), "status": "pending"}
    assert run(pending, [sequence()], "2026-06-01T10:05:00+03:00").claims == []
    old = subscriber("2026-01-01T10:00:00+02:00")
    starts = {"welcome": at("2026-06-01T00:00:00+03:00")}
    done = enrolment.advance(
        old,
        Facts(stage="lead"),
        [sequence()],
        policy("2026-06-01T10:05:00+03:00"),
        starts,
    )
    assert not done.changed


def test_reentry_needs_a_new_trigger():
    seq = sequence("guide", trigger="download:checklist", reentry=True)
    contact = subscriber("2026-06-01T10:00:00+03:00")
    first_dl = Facts(
        stage="lead", downloads=(("2026-06-01T10:00:00+03:00", "checklist"),)
    )
    first = run(contact, [seq], "2026-06-01T10:05:00+03:00", facts=first_dl)
    settled, _ = enrolment.settle(
        first.contact, first.claims[0], "sent", "250", at("2026-06-01T10:05:00+03:00")
    )
    finished = run(settled, [seq], "2026-06-01T10:06:00+03:00", facts=first_dl)
    assert finished.contact["sequences"]["guide"]["state"] == "finished"
    same = run(finished.contact, [seq], "2026-06-05T10:00:00+03:00", facts=first_dl)
    assert same.claims == []
    again = Facts(
        stage="lead",
        downloads=first_dl.downloads + (("2026-06-04T10:00:00+03:00", "checklist"),),
    )
    second = run(finished.contact, [seq], "2026-06-05T10:00:00+03:00", facts=again)
    assert [(c.sequence, c.n) for c in second.claims] == [("guide", 2)]
    assert second.contact["sequences"]["guide"]["past"][0]["n"] == 1


def test_a_finished_person_does_not_count_against_tomorrow():
    contact = subscriber("2026-06-01T10:00:00+03:00")
    done = run(contact, [sequence()], "2026-06-01T10:05:00+03:00")
    assert enrolment.sent_times(done.contact) == [at("2026-06-01T10:05:00+03:00")]
    assert timedelta(0) < enrolment.UNKNOWN_AFTER
