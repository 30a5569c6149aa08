"""What a mail server's answer to one recipient means, and trying again later.

Every sending path hands its messages to `deliver`, which keeps the answer:
accepted (counted per send; a delivery resets waiting soft bounces), a 5xx
(a hard bounce: the person is suppressed, see bounces), a 5.7.x (a policy
block: the sender's problem, suppresses no one, an alert for the owner) or a
4xx: the message is queued, durably, and tried again later by `flush` after
15 minutes, 1 hour and 4 hours; a 4xx to the last try is a soft bounce.

The queue: a queued message (its bytes, compressed) waits on its person's
contact (`outgoing`), so erasing the person erases it and one transaction
both queues it and tells the digest it is taken care of; a message to no
contact (the owner's report) waits in a meta document of its own. A ledger
per month lists what was queued and what is finished, so a pass reads no
one else. One pass at a time (a lease): two cron jobs never send a message
twice. A message is sent at least once: a pass killed after the server took
a message, before it was marked done, sends it again, unless the message
names a ledger (the digest's run) that already holds the person.
"""

from __future__ import annotations

import base64
import email
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message

from .. import clock
from ..journey.suppression import HARD, POLICY, SOFT, classify
from ..storage import Storage
from . import bounces, lease, sends
from .message import Envelope, MailError, as_bytes
from .send import Mailer

BACKOFF = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))
GIVE_UP = timedelta(days=3)  # a message still waiting then (no pass ran) is dropped
LEASE_KEY = "mail-retry-sender"
INDEX = "mail-retry"
PER_CONTACT = 20  # messages one person may have waiting

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
) -> Answer:
    """Send msg with send_fn and keep what the answer means (see the module).

    `contact` is the recipient's record (None: no contact, the owner);
    `ledger`, if the caller records deliveries in one (the digest run), is
    filled by a later try as the caller would have.
    """
    try:
        send_fn(msg)
    except MailError as e:
        answer = _refused(storage, e, send, contact)
        if answer.result != _DEFERRED:
            return answer
        if enqueue(
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
    _accepted(storage, send, contact)
    return Answer(SENT)


def _accepted(storage: Storage, send: str, contact: dict | None) -> None:
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


# -- the queue ---------------------------------------------------------------------


def _month(ts: str) -> str:
    return ts[:7]


def _index(month: str) -> str:
    return f"{INDEX}:{month}"


def _done(month: str) -> str:
    return f"{INDEX}:{month}:done"


def _doc(entry_id: str) -> str:
    return f"{INDEX}:{entry_id}"


def _pack(msg: Message) -> dict:
    envelope = getattr(msg, "envelope", None)
    packed = {"msg": base64.b64encode(zlib.compress(as_bytes(msg, "\r\n"))).decode()}
    if isinstance(envelope, Envelope):
        packed["envelope"] = {
            "sender": envelope.sender,
            "recipients": list(envelope.recipients),
            "shown": envelope.shown,
            "international": envelope.international,
            "sender_international": envelope.sender_international,
        }
    return packed


def unpack(entry: dict) -> Message:
    """The queued message, as it was first sent (its Message-ID and Date too)."""
    data = zlib.decompress(base64.b64decode(entry["msg"]))
    msg = email.message_from_bytes(data)
    if entry.get("envelope"):
        kept = entry["envelope"]
        msg.envelope = Envelope(  # type: ignore[attr-defined]
            kept["sender"],
            tuple(kept["recipients"]),
            kept["shown"],
            kept["international"],
            kept["sender_international"],
        )
    return msg


def _fresh(outgoing: dict, now: datetime) -> dict:
    """The messages still worth a try (a pass that never ran leaves old ones)."""
    oldest = (now - GIVE_UP).isoformat()
    return {k: v for k, v in (outgoing or {}).items() if v["queued"] >= oldest}


def enqueue(
    storage: Storage,
    msg: Message,
    *,
    send: str,
    contact: dict | None,
    needs: str = MAILABLE,
    ledger: str | None = None,
    status: str = "",
) -> bool:
    """Queue msg for its first retry; False when it cannot wait (the person is
    gone, or has too many messages waiting)."""
    now = clock.now()
    entry = {
        "id": secrets.token_hex(8),
        "send": send,
        "needs": needs,
        "ledger": ledger,
        "tries": 1,
        "queued": now.isoformat(),
        "due": (now + BACKOFF[0]).isoformat(),
        "status": status[:300],
        **_pack(msg),
    }
    contact_id = contact["id"] if contact else ""
    # Listed first: a listed message that never got queued is dropped by a pass;
    # a queued one never listed would wait for ever.
    storage.ledger_add(_index(_month(entry["queued"])), f"{entry['id']}|{contact_id}")
    if not contact:
        storage.update_meta(_doc(entry["id"]), lambda _: entry)
        return True
    with storage.transaction() as tx:
        current = tx.get(contact_id)
        if current is None or current.get("erased"):
            return False
        waiting = _fresh(current.get("outgoing"), now)
        if len(waiting) >= PER_CONTACT:
            return False
        entry["suppressed_at"] = (current.get("suppressed") or {}).get("at")
        tx.save({**current, "outgoing": {**waiting, entry["id"]: entry}})
    return True


def waiting(contact: dict, send: str) -> bool:
    """True when a message of this send waits in the queue for the contact."""
    return any(e.get("send") == send for e in (contact.get("outgoing") or {}).values())


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
        with lease.held(storage, LEASE_KEY) as holding, Mailer(config) as mailer:
            ledgers: dict[str, set[str]] = {}
            for month in _months():
                finished = storage.ledger_keys(_done(month))
                todo = storage.ledger_keys(_index(month))
                for key in sorted(todo):
                    if key.partition("|")[0] in finished:
                        continue
                    holding.keep()
                    entry_id, _, contact_id = key.partition("|")
                    if not _one(
                        storage, mailer, month, entry_id, contact_id, summary, ledgers
                    ):
                        return summary  # no answer from the server: later
    except lease.Busy:
        summary.busy = True
    return summary


def _months() -> list[str]:
    now = clock.now()
    first = now.replace(day=1)
    before = first - timedelta(days=1)
    return [_month(before.isoformat()), _month(now.isoformat())]


def _load(storage: Storage, entry_id: str, contact_id: str):
    if not contact_id:
        return None, storage.get_meta(_doc(entry_id))
    contact = storage.get_contact(contact_id)
    return contact, ((contact or {}).get("outgoing") or {}).get(entry_id)


def _still_wanted(contact: dict | None, entry: dict) -> bool:
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


def _one(storage, mailer, month, entry_id, contact_id, summary, ledgers) -> bool:
    """Try one entry if due; False when the server gave no answer (stop the pass)."""
    contact, entry = _load(storage, entry_id, contact_id)
    now = clock.now()
    if entry is None:  # erased, or finished by a pass killed before marking it
        storage.ledger_add(_done(month), entry_id)
        return True
    stale = entry["queued"] < (now - GIVE_UP).isoformat()
    delivered = entry.get("ledger") and contact_id in ledgers.setdefault(
        entry["ledger"], storage.ledger_keys(entry["ledger"])
    )
    if stale or delivered or not _still_wanted(contact, entry):
        summary.dropped += 1
        _finish(storage, month, entry_id, contact_id)
        return True
    if entry["due"] > now.isoformat():
        summary.waiting += 1
        return True
    msg = unpack(entry)
    shown = f"{getattr(msg, 'envelope', None) and msg.envelope.shown}"
    try:
        mailer.send(msg)
    except MailError as e:
        last = entry["tries"] >= len(BACKOFF)
        answer = _refused(storage, e, entry["send"], contact, last=last)
        line = f"{shown}: {answer.status or answer.reason}"
        if answer.result == FAILED:
            summary.failed.append(line)
            return False
        if answer.result == _DEFERRED:
            _again(storage, entry, contact_id, answer.status)
            summary.waiting += 1
            return True
        {
            BOUNCED: summary.bounced,
            SOFT_BOUNCED: summary.soft,
            BLOCKED: summary.blocked,
            REFUSED: summary.refused,
        }[answer.result].append(line)
    else:
        _accepted(storage, entry["send"], contact)
        if entry.get("ledger") and contact_id:
            storage.ledger_add(entry["ledger"], contact_id)
        summary.sent += 1
    _finish(storage, month, entry_id, contact_id)
    return True


def _again(storage: Storage, entry: dict, contact_id: str, status: str) -> None:
    """Count the try and set the next one after the backoff."""
    tries = entry["tries"] + 1
    due = (clock.now() + BACKOFF[tries - 1]).isoformat()
    changed = {**entry, "tries": tries, "due": due, "status": status[:300]}
    if not contact_id:
        storage.update_meta(_doc(entry["id"]), lambda _: changed)
        return
    with storage.transaction() as tx:
        current = tx.get(contact_id)
        outgoing = (current or {}).get("outgoing") or {}
        if entry["id"] in outgoing:
            tx.save({**current, "outgoing": {**outgoing, entry["id"]: changed}})


def _finish(storage: Storage, month: str, entry_id: str, contact_id: str) -> None:
    """The message leaves the queue (sent, bounced or dropped)."""
    if not contact_id:
        storage.update_meta(_doc(entry_id), lambda _: None)
    else:
        with storage.transaction() as tx:
            current = tx.get(contact_id)
            outgoing = dict((current or {}).get("outgoing") or {})
            if outgoing.pop(entry_id, None) is not None:
                tx.save({**current, "outgoing": outgoing})
    storage.ledger_add(_done(month), entry_id)
