"""One scheduler pass over the sequences: enter, claim, send, record.

Safe from cron, and twice at once: `enrolment.advance` decides on a snapshot
who has anything to do, then again inside the people lock on each fresh
contact, where it *claims* the due steps (one durable write per batch). Only
claimed steps are sent, and each claim is settled with the mail server's
answer in a second write. Two passes never claim one step twice (the lock);
a pass killed between claiming and settling leaves the claim, which no later
pass sends again: the step is reported as "unknown" (at most once, never
twice). On PostgreSQL the lock is the people lock every decision takes.

A 5xx is a hard bounce (the address is suppressed for every kind of mail)
and the step failed; a 5.7.x is the sender's problem, reported; a 4xx is
tried again on a later pass, and after the last try is a soft bounce.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from .. import mail
from ..journey import enrolment, stages
from ..journey.enrolment import Claim, Facts, Policy
from ..journey.sendtime import parse_window, zone
from ..journey.suppression import HARD, POLICY, SOFT, classify
from ..storage import Storage
from ..web import site as sitemeta
from . import bounces, lease, sends, sequence_email, variants

STARTS_KEY = "sequences"  # meta: {name: {"since": ISO}}: when each began taking people
ATTEMPTS = "sequence-attempts"  # ledger: claim keys a sender began to hand over
BATCH = 200
SEND, DRY_RUN, LIST = "send", "dry-run", "list"


@dataclass
class Pass:
    """What one pass did (or, listing, would do)."""

    now: datetime
    entered: int = 0
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    due: list[Claim] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    exited: int = 0
    finished: int = 0
    per_sequence: dict[str, dict[str, int]] = field(default_factory=dict)


def definitions() -> list[dict]:
    return list(sitemeta.manifest().get("sequences") or [])


def policy(now: datetime, attempted: set[str]) -> Policy:
    manifest = sitemeta.manifest()
    site, rules = manifest.get("site") or {}, manifest.get("journey") or {}

    def retake(key: str, step: dict) -> bool:
        """A claim no one began to send, whose sender is gone: send it now."""
        if key in attempted:
            return False
        stale = enrolment.time_of(step["at"]) < now - enrolment.UNKNOWN_AFTER
        return stale or lease.gone(step.get("by") or {})

    return Policy(
        now=now,
        tz=zone(site.get("timezone")),
        window=parse_window(rules.get("send_window") or "08:00-20:00"),
        per_day=int(rules.get("max_per_day") or 1),
        lang=site.get("lang") or "en",
        retake=retake,
        by={"machine": lease.machine(), "pid": os.getpid()},
    )


def starts(storage: Storage, sequences: list[dict], now: datetime, keep: bool):
    """When each sequence began taking people: its `Since`, else the first
    pass that sent for it (kept), so adding a sequence does not mail the
    whole list about signups from long ago."""
    known = storage.get_meta(STARTS_KEY) or {}
    missing = [s["name"] for s in sequences if s["name"] not in known]
    if keep and missing:
        known = storage.update_meta(
            STARTS_KEY,
            lambda old: {
                **{n: {"since": now.isoformat()} for n in missing},
                **(old or {}),
            },
        )
    result = {}
    for s in sequences:
        since = s.get("since") or (known.get(s["name"]) or {}).get("since")
        result[s["name"]] = enrolment.time_of(since) if since else now
    return result


def facts_of(contact: dict, decisions: list[dict], interests: dict) -> Facts:
    return Facts(
        stage=stages.contact_stage(contact, decisions),
        downloads=tuple(
            (e["ts"], str(e.get("guide") or ""))
            for e in decisions
            if e.get("type") == "download"
        ),
        interests=frozenset(
            str(k).casefold() for k in chosen_interests(contact, interests)
        ),
    )


CHOSEN_WEIGHT = 3  # an interest the reader ticked on their page counts as 3 reads


def chosen_interests(contact: dict, read: dict) -> dict[str, int]:
    """What the reader read, and what they said they want on their own page."""
    found = dict(read)
    for tag in contact.get("interests") or []:
        found[tag] = found.get(tag, 0) + CHOSEN_WEIGHT
    return found


def _save(tx, contact: dict, events: list[dict]) -> None:
    """Keep the contact's new state, with each event on its timeline."""
    if not events:
        tx.save(contact)
    for event in events:
        tx.save(contact, {"id": secrets.token_hex(12), **event})


def _answer(error: mail.MailError) -> tuple[str, str]:
    """(result, words) for a refusal: failed for good, or tried again later."""
    code, text = error.smtp or (None, error.reason)
    words = f"{code} {text}".strip() if code else str(text)
    return (enrolment.FAILED if error.permanent else enrolment.RETRY), words


def run(
    storage: Storage,
    *,
    mode: str,
    now: datetime,
    deliver: Callable,
    interests: Callable[[list[dict]], dict[str, dict]],
    reads: Callable[[list[dict]], dict[str, frozenset]] = lambda c: {},
) -> Pass:
    """One pass: LIST what is due, DRY_RUN it into deliver() without recording,
    or SEND: claim, deliver and record each due step."""
    sequences = definitions()
    result = Pass(now=now)
    if not sequences:
        return result
    rules = policy(now, storage.ledger_keys(ATTEMPTS))
    began = starts(storage, sequences, now, keep=(mode == SEND))
    people = list(storage.iter_people())
    liked = interests([c for c, _ in people])
    facts = {c["id"]: facts_of(c, d, liked.get(c["id"], {})) for c, d in people}
    by_name = {s["name"]: s for s in sequences}
    todo = []
    for contact, _ in people:
        out = enrolment.advance(contact, facts[contact["id"]], sequences, rules, began)
        result.unknown += [
            f"{contact['email']}: {s}/{step}"
            for s, step in enrolment.unknown_claims(contact, now, rules.retake)
        ]
        if out.changed:
            todo.append(contact["id"])
        if mode != SEND:
            result.due += out.claims
            result.entered += sum(e["type"] == "sequence_entered" for e in out.events)
            if mode == DRY_RUN:
                _deliver_all(out.contact, out.claims, by_name, liked, reads, deliver)
    if mode != SEND:
        return result
    with sends.Batch(storage) as counted:
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            claimed = _claim(storage, batch, facts, sequences, (rules, began), result)
            answers = _send(storage, claimed, by_name, liked, reads, deliver, result)
            _settle(storage, answers, now, result)
            _count(storage, answers, counted)
    return result


def _count(storage: Storage, answers: list, counted: sends.Batch) -> None:
    """Each step's deliveries and refusals, for its rates on the dashboard."""
    for _contact, claim, outcome, words, kind in answers:
        send = claim.send
        if outcome == enrolment.SENT:
            counted.sent(send)
        elif kind == POLICY:
            sends.blocked(storage, send, words)
        elif outcome == enrolment.FAILED:
            sends.failed(storage, send)


def _claim(storage, batch, facts, sequences, moment, result) -> list:
    """Advance each fresh contact inside the people lock: its claims are ours."""
    rules, began = moment
    claimed = []
    with storage.transaction() as tx:
        for contact_id in batch:
            fresh = tx.get(contact_id)
            if fresh is None or fresh.get("erased"):
                continue
            out = enrolment.advance(fresh, facts[contact_id], sequences, rules, began)
            if not out.changed:
                continue
            _save(tx, out.contact, out.events)
            for event in out.events:
                kind = event["type"]
                result.entered += kind == "sequence_entered"
                result.exited += kind in ("sequence_exited", "sequence_left")
                result.finished += kind == "sequence_finished"
            claimed += [(out.contact, claim) for claim in out.claims]
    return claimed


def _deliver_all(contact, claims, by_name, liked, reads, deliver) -> None:
    for claim in claims:
        deliver(_message(contact, claim, by_name, liked, reads))


def _message(contact, claim, by_name, liked, reads):
    reader = sequence_email.Reader(
        contact,
        chosen_interests(contact, liked.get(contact["id"], {})),
        frozenset(reads([contact]).get(contact["id"], frozenset())),
    )
    return sequence_email.message(reader, by_name[claim.sequence], claim)


def _send(storage, claimed, by_name, liked, reads, deliver, result) -> list:
    """Hand each claimed email over; note each attempt just before (handed to
    the OS: a killed pass keeps it; only a power cut in that second could lose
    it), so a pass killed mid-batch resends the ones it never began, and only
    those."""
    answers = []
    for contact, claim in claimed:
        label = f"{contact['email']}: {claim.sequence}/{claim.step}"
        try:
            msg = _message(contact, claim, by_name, liked, reads)
            storage.ledger_add(ATTEMPTS, claim.key, sync=False)
            deliver(msg)
        except mail.MailError as e:
            outcome, words = _answer(e)
            kind = classify(e.smtp[0], e.smtp[1]) if e.smtp else None
            if kind == POLICY:
                result.blocked.append(f"{label}: {words}")
            (result.failed if outcome == enrolment.FAILED else result.retry).append(
                f"{label}: {words}"
            )
            answers.append((contact, claim, outcome, words, kind))
        else:
            result.sent.append(label)
            answers.append((contact, claim, enrolment.SENT, "250", None))
            step = f"{claim.sequence}/{claim.step}"
            send = claim.send
            variants.record(storage, variants.STEP, step, contact["id"], send)
    return answers


def _settle(storage, answers, now, result) -> None:
    """Record each answer in one write; then the bounces they make."""
    bounced = []
    with storage.transaction() as tx:
        for _contact, claim, outcome, words, kind in answers:
            fresh = tx.get(claim.contact)
            if fresh is None:
                continue
            updated, event = enrolment.settle(fresh, claim, outcome, words, now)
            if event is None:
                continue
            _save(tx, updated, [event])
            step = updated["sequences"][claim.sequence]["steps"][claim.step]
            send = claim.send
            if kind == HARD or (kind == SOFT and step["state"] == enrolment.FAILED):
                bounced.append((claim.contact, kind, send, words))
            elif outcome == enrolment.SENT and fresh.get("soft_bounces"):
                bounced.append((claim.contact, "delivered", send, words))
    for contact_id, kind, send, words in bounced:
        if kind == "delivered":
            bounces.record_delivery(storage, contact_id, send)
        else:
            bounces.record_bounce(storage, contact_id, kind, send, words)


def summary(storage: Storage, now: datetime) -> list[dict]:
    """Per sequence: people in it, due now, finished, exited (for `list`)."""
    sequences = definitions()
    counts = {
        s["name"]: {"active": 0, "due": 0, "finished": 0, "exited": 0, "left": 0}
        for s in sequences
    }
    listing = run(
        storage, mode=LIST, now=now, deliver=lambda m: None, interests=lambda c: {}
    )
    for claim in listing.due:
        counts[claim.sequence]["due"] += 1
    for contact in storage.people_facts(having="sequences"):
        for name, record in contact["sequences"].items():
            if name in counts and record.get("state") in counts[name]:
                counts[name][record["state"]] += 1
    return [{**s, "counts": counts[s["name"]]} for s in sequences]
