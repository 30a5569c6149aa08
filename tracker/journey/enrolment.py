"""A person's way through the sequences: who enters, what is due, what is claimed.

Pure. `advance` takes a contact as it is now and returns it with what this
moment decides: entering a sequence, leaving it (unsubscribed, exit reached),
skipping a step whose condition fails, finishing, and *claiming* each step
that is due. The scheduler calls it twice: on a snapshot, to find who has
anything to do, and again inside the people lock on the fresh contact, so
two schedulers never claim one step twice and exit conditions and consent
are checked at the moment of sending. A claim is settled by `settle` with
the mail server's answer; a claim never settled (the process died between
claiming and recording) is never sent again by itself: it is "unknown".

A contact's progress is kept on it: ``sequences[name]`` is ``{"state":
"active" | "finished" | "exited" | "left", "n": enrolment number, "entered",
"steps": {step id: {"state": "claimed" | "sent" | "failed" | "retry" |
"skipped", "at", ...}}}``; earlier enrolments of a `Reentry: yes` sequence
are summed up in ``past``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .sendtime import Delay, Window, after, next_slot
from .stages import STAGES
from .suppression import is_suppressed

ACTIVE, FINISHED, EXITED, LEFT = "active", "finished", "exited", "left"
CLAIMED, SENT, FAILED, RETRY, SKIPPED = "claimed", "sent", "failed", "retry", "skipped"
OUT = {CLAIMED, SENT}  # steps that count as mail the person got (or may have)
RETRIES = 3  # a step refused for now (4xx) is tried on this many passes
GRACE = timedelta(days=1)  # triggers this long before a sequence's start count
UNKNOWN_AFTER = timedelta(minutes=15)  # a claim this old, unsettled: unknown


@dataclass(frozen=True)
class Policy:
    """When mail may go: the moment of the pass and the site's rules.

    retake(key, step) tells a claim whose sender died before it even tried to
    send (so sending it now cannot make a second copy) from one that may have
    gone out; the scheduler knows, from its attempt ledger and the claimer's
    process. by: who claims now (kept on the claim for that question).
    """

    now: datetime
    tz: ZoneInfo
    window: Window = field(default_factory=Window)
    per_day: int = 1
    lang: str = "en"  # the site's language, for readers who chose none
    retake: Callable[[str, Mapping], bool] = lambda key, step: False
    by: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What the journey says about one person (from their decisions and reads)."""

    stage: str = "visitor"
    downloads: tuple[tuple[str, str], ...] = ()  # (ts, guide slug)
    interests: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Claim:
    """One email to send: this person, this sequence's enrolment, this step."""

    contact: str
    sequence: str
    n: int
    step: str
    index: int

    @property
    def key(self) -> str:
        """What the email answers: a resend is the same message."""
        return f"{self.sequence}:{self.n}:{self.step}:{self.contact}"

    @property
    def send(self) -> str:
        """The send it belongs to: its bounces, complaints, clicks and rates."""
        return f"seq:{self.sequence}:{self.step}"


@dataclass
class Outcome:
    contact: dict
    events: list[dict] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    waiting: list[tuple[str, str, datetime]] = field(default_factory=list)
    changed: bool = False


def time_of(ts: str | None) -> datetime | None:
    if not ts:
        return None
    moment = datetime.fromisoformat(str(ts).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def may_email(contact: Mapping) -> bool:
    """Consent to email stands: a confirmed subscriber, not withdrawn or suppressed."""
    consent = (contact.get("consent") or {}).get("newsletter") or {}
    return (
        contact.get("status") == "confirmed"
        and bool(consent)
        and not consent.get("withdrawn_at")
        and not is_suppressed(contact)
    )


def _rank(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else 0


def trigger_time(sequence: Mapping, contact: Mapping, facts: Facts, now: datetime):
    """When the person met the sequence's trigger (the latest time), or None."""
    kind, value = sequence["trigger"]["kind"], sequence["trigger"]["value"]
    if kind == "signup":
        consent = (contact.get("consent") or {}).get("newsletter") or {}
        return time_of(consent.get("confirmed_at") or consent.get("ts"))
    if kind == "download":
        times = [
            time_of(ts) for ts, guide in facts.downloads if not value or guide == value
        ]
        return max(times) if times else None
    if kind == "stage":
        if _rank(facts.stage) < _rank(value):
            return None
        reached = {
            "lead": contact.get("lead_at"),
            "customer": contact.get("customer_at"),
            "advocate": contact.get("advocate_at"),
        }.get(value) or contact.get("created")
        return time_of(reached) or now
    return now if value in facts.interests else None  # tag: read a post with it


def exit_reason(sequence: Mapping, record: Mapping, contact: Mapping, facts: Facts):
    """Why the person leaves now (the exit met, consent gone), or None."""
    if not may_email(contact):
        return "suppressed" if is_suppressed(contact) else "unsubscribed"
    rule = sequence.get("exit")
    if not rule:
        return None
    if rule["kind"] == "stage" and _rank(facts.stage) >= _rank(rule["value"]):
        return f"stage:{rule['value']}"
    if rule["kind"] == "conversion":
        entered = time_of(record.get("entered"))
        customer = time_of(contact.get("customer_at"))
        more_orders = len(contact.get("orders") or []) > record.get("orders", 0)
        if more_orders or (customer and entered and customer >= entered):
            return "conversion"
    return None


def condition_holds(rule: Mapping | None, facts: Facts) -> bool:
    if not rule:
        return True
    if rule["kind"] == "interest":
        return rule["value"] in facts.interests
    return _rank(facts.stage) >= _rank(rule["value"])


def sent_times(contact: Mapping) -> list[datetime]:
    """When the person got (or may have got) automated mail, every sequence."""
    return [
        time_of(step["at"])
        for record in (contact.get("sequences") or {}).values()
        for step in (record.get("steps") or {}).values()
        if step.get("state") in OUT
    ]


def _event(kind: str, contact: Mapping, now: datetime, **fields: Any) -> dict:
    return {
        "type": kind,
        "contact": contact["id"],
        "ts": now.isoformat(),
        **{k: v for k, v in fields.items() if v is not None},
    }


def _enter(sequence, contact, facts, policy, starts) -> dict | None:
    """A new enrolment if the person meets the trigger now, else None."""
    name = sequence["name"]
    record = (contact.get("sequences") or {}).get(name)
    if record and (record["state"] == ACTIVE or not sequence.get("reentry")):
        return None
    lang = sequence.get("lang")
    if lang and (contact.get("lang") or policy.lang) != lang:
        return None
    if not may_email(contact):
        return None
    when = trigger_time(sequence, contact, facts, policy.now)
    start = starts.get(name)
    if when is None or (start is not None and when < start - GRACE):
        return None
    if record and when <= (time_of(record.get("ended")) or when):
        return None  # re-entry needs a new trigger after the last one ended
    if exit_reason(sequence, {"entered": when.isoformat()}, contact, facts):
        return None  # already past the exit (a customer; no consent)
    past = list((record or {}).get("past") or [])
    if record:
        past.append({k: record.get(k) for k in ("n", "entered", "state", "ended")})
    return {
        "state": ACTIVE,
        "n": (record or {}).get("n", 0) + 1,
        "entered": max(when, start or when).isoformat(),
        "orders": len(contact.get("orders") or []),
        "steps": {},
        **({"past": past[-10:]} if past else {}),
    }


def _base(sequence: Mapping, record: Mapping, index: int) -> datetime:
    """What step `index`'s delay counts from: the previous step, or entering."""
    if index == 0:
        return time_of(record["entered"])
    previous = record["steps"].get(sequence["steps"][index - 1]["id"]) or {}
    # Its planned moment, not when cron got to it: the series keeps its hour.
    return time_of(previous.get("due") or previous.get("at")) or time_of(
        record["entered"]
    )


def _progress(sequence, record, contact, facts, policy, outcome) -> None:
    """Move one active enrolment along as far as this moment allows."""
    name, now = sequence["name"], policy.now
    reason = exit_reason(sequence, record, contact, facts)
    if reason:
        state = LEFT if reason in ("unsubscribed", "suppressed") else EXITED
        record.update(state=state, ended=now.isoformat(), reason=reason)
        outcome.events.append(
            _event(f"sequence_{state}", contact, now, sequence=name, reason=reason)
        )
        outcome.changed = True
        return
    for index, step in enumerate(sequence["steps"]):
        done = record["steps"].get(step["id"])
        key = Claim(contact["id"], name, record["n"], step["id"], index).key
        if done and done["state"] == CLAIMED and policy.retake(key, done):
            done = {**done, "state": RETRY, "attempts": done.get("attempts", 1) - 1}
            record["steps"][step["id"]] = done  # no longer counts as sent today
        if done and done["state"] != RETRY:
            continue
        if done is None:
            due = after(
                _base(sequence, record, index), Delay.of(step["delay"]), policy.tz
            )
            if due > now:
                slot = next_slot(
                    due, policy.tz, policy.window, sent_times(contact), policy.per_day
                )
                outcome.waiting.append((name, step["id"], slot))
                return
            if not condition_holds(step.get("only_if"), facts):
                record["steps"][step["id"]] = {"state": SKIPPED, "at": due.isoformat()}
                outcome.changed = True
                continue
        else:
            due = time_of(done.get("retry_at")) or now
        slot = next_slot(
            due, policy.tz, policy.window, sent_times(contact), policy.per_day
        )
        if slot > now:
            outcome.waiting.append((name, step["id"], slot))
            return
        attempts = (done or {}).get("attempts", 0) + 1
        record["steps"][step["id"]] = {
            "state": CLAIMED,
            "at": now.isoformat(),
            "due": slot.isoformat(),
            "attempts": attempts,
            **({"by": dict(policy.by)} if policy.by else {}),
        }
        outcome.claims.append(
            Claim(contact["id"], name, record["n"], step["id"], index)
        )
        outcome.changed = True
        return
    record.update(state=FINISHED, ended=now.isoformat())
    outcome.events.append(_event("sequence_finished", contact, now, sequence=name))
    outcome.changed = True


def _own_records(contact: Mapping) -> dict:
    """A copy of the contact whose sequence records are its own to change
    (the rest is shared: this runs for every contact on every pass)."""
    mine = dict(contact)
    mine["sequences"] = copy.deepcopy(contact.get("sequences") or {})
    return mine


def advance(
    contact: Mapping,
    facts: Facts,
    sequences: Iterable[Mapping],
    policy: Policy,
    starts: Mapping[str, datetime] | None = None,
) -> Outcome:
    """Everything this moment decides for one person, in the sequences' order.

    starts: when each sequence began taking people (triggers from before its
    start, less a day's grace, do not enrol anyone).
    """
    contact = _own_records(contact)
    outcome = Outcome(contact)
    records = contact["sequences"]
    for sequence in sequences:
        name = sequence["name"]
        entered = _enter(sequence, contact, facts, policy, starts or {})
        if entered:
            records[name] = entered
            outcome.events.append(
                _event(
                    "sequence_entered",
                    contact,
                    policy.now,
                    sequence=name,
                    n=entered["n"],
                )
            )
            outcome.changed = True
        record = records.get(name)
        if record and record["state"] == ACTIVE:
            _progress(sequence, record, contact, facts, policy, outcome)
    if not records:
        contact.pop("sequences")
    return outcome


def settle(contact: Mapping, claim: Claim, result: str, answer: str, now: datetime):
    """Record the mail server's answer to a claimed step; return (contact, event).

    result: SENT, FAILED (5xx: not tried again) or RETRY (4xx: tried on the
    next pass, until RETRIES, then FAILED). A claim of an enrolment that has
    moved on (re-entered) is left as it is.
    """
    contact = _own_records(contact)
    record = contact["sequences"].get(claim.sequence)
    if not record or record.get("n") != claim.n:
        return contact, None
    step = record["steps"].get(claim.step)
    if not step or step["state"] != CLAIMED:
        return contact, None
    if result == RETRY and step.get("attempts", 1) >= RETRIES:
        result = FAILED
    step.update(state=result, answer=answer or None, settled=now.isoformat())
    if result == RETRY:
        step["retry_at"] = (now + timedelta(minutes=30 * step["attempts"])).isoformat()
    event = _event(
        "sequence_email",
        contact,
        now,
        sequence=claim.sequence,
        step=claim.step,
        n=claim.n,
        result=result,
        answer=answer or None,
    )
    return contact, event


def unknown_claims(
    contact: Mapping, now: datetime, retake: Callable[[str, Mapping], bool]
) -> list[tuple[str, str]]:
    """Claims never settled that may have gone out (the sender died after it
    tried): (sequence, step). They are never sent again by themselves."""
    found = []
    for name, record in (contact.get("sequences") or {}).items():
        for step_id, step in (record.get("steps") or {}).items():
            if (
                step.get("state") != CLAIMED
                or time_of(step["at"]) >= now - UNKNOWN_AFTER
            ):
                continue
            key = Claim(contact["id"], name, record.get("n", 0), step_id, -1).key
            if not retake(key, step):
                found.append((name, step_id))
    return found
