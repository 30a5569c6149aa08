"""A person's decisions: subscribe, confirm, download, unsubscribe, convert.

Pure functions take a contact dict and return a new one; `storage.transaction()`
in the views makes each decision durable before it is acknowledged.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from email_validator import EmailNotValidError, validate_email

MAX_VISITORS = 50


class Refused(ValueError):
    """The person's request cannot be carried out; the message says why."""


def normalise_email(raw: Any) -> str:
    """Return the address in the form we store and look up, or raise Refused."""
    if not isinstance(raw, str) or not raw.strip():
        raise Refused("Email address is required.")
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise Refused("That email address does not look right.") from None
    return checked.normalized.lower()


def clean_name(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    name = " ".join("".join(ch for ch in raw if ch.isprintable()).split())
    return name[:100] or None


def new_contact(email: str, now: str, contact_id: str) -> dict[str, Any]:
    return {
        "id": contact_id,
        "email": email,
        "first_name": None,
        "created": now,
        "updated": now,
        "status": "none",
        "consent": {"newsletter": None, "ads": None},
        "visitors": [],
        "ref_code": None,
        "referred_by": None,
        "lead_at": None,
        "customer_at": None,
        "advocate_at": None,
        "orders": [],
        "pending": None,
        "nonce": secrets.token_hex(8),
    }


def stitch(contact: dict, visitor: str | None) -> None:
    """Join a visitor id's visits to the contact's journey."""
    if visitor and visitor not in contact["visitors"]:
        contact["visitors"] = (contact["visitors"] + [visitor])[-MAX_VISITORS:]


def request_subscription(
    contact: dict, *, first_name: str | None, ads: bool, proof: dict, now: str
) -> tuple[dict, bool]:
    """Record a signup request; return (contact, whether to send a confirmation).

    A request never changes a confirmed subscriber's state: it only waits for
    the owner of the address to confirm. A confirmed subscriber who asks for
    nothing new gets no email, and the answer is the same either way.
    """
    c = copy.deepcopy(contact)
    if c["status"] == "confirmed" and (not ads or c["consent"].get("ads")):
        return c, False
    if c["status"] == "none" and not c["lead_at"]:
        c["status"] = "pending"
    c["pending"] = {"ts": now, "ads": ads, "first_name": first_name, "proof": proof}
    c["updated"] = now
    return c, True


def confirm(contact: dict, *, now: str, ip_hash: str) -> dict:
    """Apply the waiting signup: the person proved they own the address."""
    pending = contact.get("pending")
    if not pending:
        raise Refused("This subscription is already confirmed.")
    c = copy.deepcopy(contact)
    proof = {**pending["proof"], "confirmed_at": now, "confirm_ip_hash": ip_hash}
    c["consent"]["newsletter"] = {**proof, "wording": proof["wording"]["newsletter"]}
    if pending["ads"]:
        c["consent"]["ads"] = {**proof, "wording": proof["wording"]["ads"]}
    c["status"] = "confirmed"
    c["first_name"] = c["first_name"] or pending["first_name"]
    c["lead_at"] = c["lead_at"] or now
    c["ref_code"] = c["ref_code"] or secrets.token_urlsafe(9)
    c["pending"] = None
    c["nonce"] = secrets.token_hex(8)  # the link is used up
    c["updated"] = now
    return c


def unsubscribe(contact: dict, *, now: str) -> dict:
    """Withdraw the newsletter (and with it every list) at once."""
    c = copy.deepcopy(contact)
    if c["status"] == "confirmed" or c["pending"]:
        for kind in ("newsletter", "ads"):
            if c["consent"].get(kind):
                c["consent"][kind] = {**c["consent"][kind], "withdrawn_at": now}
    c["status"] = "unsubscribed"
    c["pending"] = None
    c["updated"] = now
    return c


def make_lead(contact: dict, *, now: str, first_name: str | None) -> dict:
    """A person who left their address for a guide or a quote is a lead."""
    c = copy.deepcopy(contact)
    c["lead_at"] = c["lead_at"] or now
    c["first_name"] = c["first_name"] or first_name
    c["updated"] = now
    return c


def record_order(contact: dict, *, kind: str, order_id: str | None, now: str) -> dict:
    c = copy.deepcopy(contact)
    if kind in ("purchase", "booking"):
        c["customer_at"] = min(t for t in (c["customer_at"], now) if t)
    c["lead_at"] = min(t for t in (c["lead_at"], now) if t)
    if order_id:
        c["orders"] = c["orders"] + [order_id]
    c["updated"] = now
    return c


PROMOTER = 9


def record_feedback(
    contact: dict, *, ask: str, score: int, comment: str | None, now: str
) -> dict:
    """Keep the latest answer, once per question asked; a promoter is an advocate."""
    c = copy.deepcopy(contact)
    c["feedback"] = {"score": score, "comment": comment, "ts": now}
    c["answered"] = [*c.get("answered", []), ask][-20:]
    if score >= PROMOTER:
        c["advocate_at"] = c.get("advocate_at") or now
    c["updated"] = now
    return c


def is_stale_pending(contact: dict, cutoff: str) -> bool:
    """True for a signup never confirmed, older than cutoff, with nothing else."""
    return (
        contact["status"] == "pending"
        and not contact["lead_at"]
        and not contact["orders"]
        and contact["created"] < cutoff
    )
