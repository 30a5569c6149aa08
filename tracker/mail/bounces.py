"""Record what the mail server answered about a person's address, as a decision.

A refusal at send time becomes a ``bounce`` on the person's timeline and,
when the rules of `tracker.journey.suppression` say so, a ``suppressed``
record on the contact (reason, when, evidence): every kind of mail and every
audience then leaves the address out. Recent soft bounces wait on the
contact (``soft_bounces``) until a delivery resets them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from .. import clock
from ..journey import suppression
from ..storage import Storage


def _event(type_: str, contact_id: str, **fields) -> dict:
    return {
        "id": secrets.token_hex(12),
        "ts": clock.now().isoformat(),
        "type": type_,
        "contact": contact_id,
        **fields,
    }


def record_bounce(
    storage: Storage, contact_id: str, kind: str, send: str, status: str
) -> dict | None:
    """Keep one bounce (kind "hard" or "soft") on send; return the suppression."""
    with storage.transaction() as tx:
        contact = tx.get(contact_id)
        if contact is None or contact.get("erased"):
            return None
        event = _event("bounce", contact_id, kind=kind, send=send, status=status)
        now = event["ts"]
        since = (clock.now() - timedelta(days=suppression.SOFT_DAYS)).isoformat()
        recent = [e for e in contact.get("soft_bounces", []) if e["ts"] >= since]
        contact = {**contact}
        if kind == suppression.SOFT:
            recent.append(event)
        contact["soft_bounces"] = recent
        if not contact.get("suppressed"):
            decided = suppression.decide(recent if kind == "soft" else [event], now)
            if decided:
                contact["suppressed"] = decided
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
