"""What a mail server's answer to one recipient means, and trying again later.

Every sending path hands its messages to `deliver`, which keeps the answer:
accepted (counted per send; a delivery resets waiting soft bounces), a 5xx
(a hard bounce: the person is suppressed, see bounces), a 5.7.x (a policy
block: the sender's problem, suppresses no one, an alert for the owner) or a
4xx: the message is queued, durably, and tried again later by `flush` after
15 minutes, 1 hour and 4 hours; a 4xx to the last try is a soft bounce.

The queue is kept by mail.retry_queue. One pass at a time (a lease): two
cron jobs never send a message twice. A message is sent at least once: a
pass killed after the server took a message, before it was marked done,
sends it again, unless the message names a ledger (the digest's run) that
already holds the person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message

from .. import clock
from ..journey.suppression import HARD, POLICY, SOFT, classify
from ..storage import Storage
from . import bounces, lease, sends
from . import retry_queue as queue
from .message import MailError
from .send import Mailer

BACKOFF = queue.BACKOFF
LEASE_KEY = "mail-retry-sender"
waiting = queue.waiting  # does a message of this send wait for the contact?

SENT = "sent"
QUEUED = "queued"  # a 4xx: tried again later
BOUNCED = "bounced"  # a 5xx: a hard bounce
SOFT_BOUNCED = "soft"  # a 4xx to the last try
BLOCKED = "blocked"  # a 5.7.x policy block
REFUSED = "refused"  # for good, with no SMTP answer (no SMTPUTF8, no address)
FAILED = "failed"  # for now, with no answer (no connection): the caller retries
_DEFERRED = "deferred"  # a 4xx before the last try
# What must still hold when a queued message is tried again:
SUBSCRIBED = "subscribed"  # list mail: a standing newsletter consent, no suppression
MAILABLE = "mailable"  # transactional mail: no suppression since it was queued
ASKED = "asked"  # a link the person asked for: only that they still exist


@dataclass
class Answer:
    result: str
    status: str = ""  # the server's words, "451 4.2.2 Mailbox full"
    reason: str = ""  # why, for a report (the MailError's reason)
    suppressed: dict | None = None


def _status(error: MailError) -> str:
    code, text = error.smtp or (0, "")
    return f"{code} {text}".strip()


def deliver(
    storage: Storage,
    send_fn: Callable[[Message], None],
    msg: Message,
    *,
    send: str,
    contact: dict | None = None,
    needs: str = MAILABLE,
    ledger: str | None = None,
    counts: sends.Batch | None = None,
) -> Answer:
    """Send msg with send_fn and keep what the answer means (see the module).

    `contact` is the recipient's record (None: no contact, the owner);
    `ledger`, if the caller records deliveries in one (the digest run), is
    filled by a later try as the caller would have; `counts` gathers a long
    send's acceptances (else each is written at once).
    """
    try:
        send_fn(msg)
    except MailError as e:
        answer = _refused(storage, e, send, contact)
        if answer.result != _DEFERRED:
            return answer
        if queue.enqueue(
            storage,
            msg,
            send=send,
            contact=contact,
            needs=needs,
            ledger=ledger,
            status=answer.status,
        ):
            return Answer(QUEUED, answer.status, e.reason)
        return Answer(FAILED, answer.status, e.reason)
    _accepted(storage, send, contact, counts)
    return Answer(SENT)


def _accepted(storage: Storage, send: str, contact: dict | None, counts=None) -> None:
    if counts is not None:
        counts.sent(send)
    else:
        sends.sent(storage, send)
    if contact and contact.get("soft_bounces"):  # a delivery resets them
        bounces.record_delivery(storage, contact["id"], send)


def _refused(
    storage: Storage, error: MailError, send: str, contact: dict | None, last=False
) -> Answer:
    """What a refusal means, kept; a 4xx before the last try is to be queued."""
    if error.smtp is None:
        if error.permanent:
            sends.failed(storage, send)
            return Answer(REFUSED, reason=error.reason)
        return Answer(FAILED, reason=error.reason)
    status = _status(error)
    kind = classify(*error.smtp)
    if kind == POLICY:
        sends.blocked(storage, send, status)
        return Answer(BLOCKED, status, error.reason)
    if kind == SOFT and not last:
        return Answer(_DEFERRED, status, error.reason)
    sends.failed(storage, send)
    suppressed = None
    if contact:
        suppressed = bounces.record_bounce(storage, contact["id"], kind, send, status)
    result = BOUNCED if kind == HARD else SOFT_BOUNCED
    return Answer(result, status, error.reason, suppressed)


# -- a pass over the queue ---------------------------------------------------------


@dataclass
class Summary:
    """What a pass did. Lists hold "address: reason" lines for the owner."""

    sent: int = 0
    waiting: int = 0  # not due yet, or queued again
    dropped: int = 0  # the person left, unsubscribed or was suppressed since
    busy: bool = False  # another pass runs
    bounced: list[str] = field(default_factory=list)  # hard, at a later try
    soft: list[str] = field(default_factory=list)  # 4xx to the last try
    blocked: list[str] = field(default_factory=list)  # 5.7.x: the sender's problem
    refused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # no answer: the pass stopped


def flush(storage: Storage, config: dict) -> Summary:
    """Try again every queued message that is due; one pass at a time."""
    summary = Summary()
    try:
        with (
            lease.held(storage, LEASE_KEY) as holding,
            Mailer(config) as mailer,
            sends.Batch(storage) as counts,
        ):
            a_pass = Pass(storage, mailer, counts, summary)
            for month in queue.months():
                finished = storage.ledger_keys(queue.done(month))
                for key in sorted(storage.ledger_keys(queue.index(month))):
                    entry_id, _, contact_id = key.partition("|")
                    if entry_id in finished:
                        continue
                    holding.keep()
                    if not a_pass.one(month, entry_id, contact_id):
                        return summary  # no answer from the server: later
    except lease.Busy:
        summary.busy = True
    return summary


def still_wanted(contact: dict | None, entry: dict) -> bool:
    """May the queued message still go? (Checked again just before each try.)"""
    if contact is None:
        return True  # to no contact (the owner's report)
    suppressed = (contact.get("suppressed") or {}).get("at")
    needs = entry.get("needs")
    if needs == SUBSCRIBED:
        consent = (contact.get("consent") or {}).get("newsletter") or {}
        return (
            contact.get("status") == "confirmed"
            and bool(consent)
            and not consent.get("withdrawn_at")
            and not suppressed
        )
    if needs == MAILABLE:
        return not suppressed or suppressed == entry.get("suppressed_at")
    return True


@dataclass
class Pass:
    """One pass over the queue, on one connection."""

    storage: Storage
    mailer: Mailer
    counts: sends.Batch
    summary: Summary
    ledgers: dict[str, set[str]] = field(default_factory=dict)

    def delivered(self, entry: dict, contact_id: str) -> bool:
        """The caller's ledger (a digest run) has the person: a rerun sent it."""
        ledger = entry.get("ledger")
        if not ledger or not contact_id:
            return False
        if ledger not in self.ledgers:
            self.ledgers[ledger] = self.storage.ledger_keys(ledger)
        return contact_id in self.ledgers[ledger]

    def one(self, month: str, entry_id: str, contact_id: str) -> bool:
        """Try one entry if due; False when the server gave no answer (stop)."""
        storage, summary = self.storage, self.summary
        contact, entry = queue.load(storage, entry_id, contact_id)
        now = clock.now()
        if entry is None:  # erased, or finished by a pass killed before marking it
            storage.ledger_add(queue.done(month), entry_id)
            return True
        stale = entry["queued"] < (now - queue.GIVE_UP).isoformat()
        if (
            stale
            or self.delivered(entry, contact_id)
            or not still_wanted(contact, entry)
        ):
            summary.dropped += 1
            queue.finish(storage, month, entry_id, contact_id)
            return True
        if entry["due"] > now.isoformat():
            summary.waiting += 1
            return True
        msg = queue.unpack(entry)
        try:
            self.mailer.send(msg)
        except MailError as e:
            last = entry["tries"] >= len(BACKOFF)
            answer = _refused(storage, e, entry["send"], contact, last=last)
            line = f"{e.address or msg['To']}: {answer.status or answer.reason}"
            if answer.result == FAILED:
                summary.failed.append(line)
                return False
            if answer.result == _DEFERRED:
                queue.again(storage, entry, contact_id, answer.status)
                summary.waiting += 1
                return True
            {
                BOUNCED: summary.bounced,
                SOFT_BOUNCED: summary.soft,
                BLOCKED: summary.blocked,
                REFUSED: summary.refused,
            }[answer.result].append(line)
        else:
            _accepted(storage, entry["send"], contact, self.counts)
            if entry.get("ledger") and contact_id:
                storage.ledger_add(entry["ledger"], contact_id)
            summary.sent += 1
        queue.finish(storage, month, entry_id, contact_id)
        return True
