"""Record what mail servers say about a person's address, as decisions.

A refusal at send time, a bounce report (DSN) or a complaint (ARF, a
provider's webhook) becomes an event on the person's timeline and, when the
rules of `tracker.journey.suppression` say so, a ``suppressed`` record on the
contact (reason, when, evidence): every kind of mail and every audience then
leaves the address out. Recent soft bounces wait on the contact
(``soft_bounces``) until a delivery resets them.

Reports from outside come as `Report`s and are applied by `apply`: the person
is found by the signed X-Polku-Ref of the original (see mail.message), else
by the address, and each report id is applied once however often it is
replayed (the ids are kept on the contact, inside the same transaction).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from .. import clock
from ..journey import people, suppression
from ..storage import Storage
from .message import read_reference

COMPLAINT = "complaint"
KEEP_REPORT_IDS = 200  # per contact: enough for any provider's replays


@dataclass(frozen=True)
class Report:
    """One bounce or complaint about one recipient, from outside Polku.

    kind: "hard", "soft" or "complaint"; id: the report's own id (a provider's
    event id, the DSN's Message-ID), what makes a replay a replay; ref: the
    original's X-Polku-Ref; email: the recipient, when the report names it;
    status: the server's words (5.1.1 ...); source: imap, ses, postmark, mailgun.
    """

    kind: str
    id: str
    source: str
    ref: str | None = None
    email: str | None = None
    status: str = ""
    send: str | None = None


def _event(type_: str, contact_id: str, **fields) -> dict:
    return {
        "id": secrets.token_hex(12),
        "ts": clock.now().isoformat(),
        "type": type_,
        "contact": contact_id,
        **{k: v for k, v in fields.items() if v is not None},
    }


def _bounce(contact: dict, kind: str, send: str, status: str, **extra) -> tuple:
    """The contact after one bounce, and the bounce's timeline event."""
    event = _event(
        "bounce", contact["id"], kind=kind, send=send, status=status, **extra
    )
    since = (clock.now() - timedelta(days=suppression.SOFT_DAYS)).isoformat()
    recent = [e for e in contact.get("soft_bounces", []) if e["ts"] >= since]
    contact = {**contact}
    if kind == suppression.SOFT:
        recent.append(event)
    contact["soft_bounces"] = recent
    current = contact.get("suppressed")
    decided = suppression.decide(recent if kind == "soft" else [event], event["ts"])
    # A hard bounce on an address suppressed by bounces (a confirmation sent
    # once the wait was over) starts the wait again; a complaint stays.
    renewed = kind == suppression.HARD and (current or {}).get("reason") != COMPLAINT
    if decided and (not current or renewed):
        contact["suppressed"] = decided
    return contact, event


def _complaint(contact: dict, send: str, status: str, **extra) -> tuple:
    """The contact after a spam complaint: suppressed at once, whatever it was."""
    event = _event("complaint", contact["id"], send=send, status=status, **extra)
    contact = {**contact}
    if (contact.get("suppressed") or {}).get("reason") != COMPLAINT:
        contact["suppressed"] = suppression.decide([event], event["ts"])
    return contact, event


def record_bounce(
    storage: Storage, contact_id: str, kind: str, send: str, status: str
) -> dict | None:
    """Keep one bounce (kind "hard" or "soft") on send; return the suppression."""
    with storage.transaction() as tx:
        contact = tx.get(contact_id)
        if contact is None or contact.get("erased"):
            return None
        contact, event = _bounce(contact, kind, send, status)
        tx.save(contact, event)
        return contact.get("suppressed")


def record_delivery(storage: Storage, contact_id: str, send: str) -> None:
    """A delivery resets the soft bounces waiting on the contact (if any)."""
    with storage.transaction() as tx:
        contact = tx.get(contact_id)
        if contact is None or not contact.get("soft_bounces"):
            return
        contact = {**contact, "soft_bounces": []}
        tx.save(contact, _event("delivered", contact_id, send=send))


def _address(raw: str) -> str:
    try:
        return people.normalise_email(raw)
    except people.Refused:
        return ""


APPLIED, REPLAYED, UNKNOWN = "applied", "replayed", "unknown"


def apply(
    storage: Storage, secret: str, report: Report, by_address: bool = True
) -> str:
    """Apply one outside report; return APPLIED, REPLAYED or UNKNOWN (no one).

    A genuine X-Polku-Ref names the person and the send even when the report
    hides the address; without one, the address the report names is used,
    but only when the report's sender is authenticated (a provider's signed
    webhook). Anyone can mail the bounce mailbox: `by_address=False` there,
    so a forged "bounce" naming someone's address suppresses no one.
    """
    found = read_reference(secret, report.ref)
    send = report.send or (found[1] if found else f"{report.source}:unknown")
    with storage.transaction() as tx:
        contact = tx.get(found[0]) if found else None
        if contact is None and report.email and by_address:
            contact = tx.find(_address(report.email))
        if contact is None or contact.get("erased"):
            return UNKNOWN
        seen = contact.get("reports") or []
        if report.id in seen:
            return REPLAYED
        extra = {"source": report.source, "report": report.id}
        if report.kind == COMPLAINT:
            contact, event = _complaint(contact, send, report.status, **extra)
        else:
            contact, event = _bounce(contact, report.kind, send, report.status, **extra)
        contact["reports"] = [*seen, report.id][-KEEP_REPORT_IDS:]
        tx.save(contact, event)
        return APPLIED
