"""A person's decisions: subscribe, confirm, download, unsubscribe, convert.

Pure functions take a contact dict and return a new one; `storage.transaction()`
in the views makes each decision durable before it is acknowledged.
"""

from __future__ import annotations

import copy
import re
import secrets
from typing import Any

from email_validator import EmailNotValidError, validate_email

MAX_VISITORS = 50
MAX_REQUESTS = 5


class Refused(ValueError):
    """The person's request cannot be carried out; the message says why."""


def normalise_email(raw: Any) -> str:
    """Return the address in the form we store and look up, or raise Refused."""
    if not isinstance(raw, str) or not raw.strip():
        raise Refused("Email address is required.")
    if "=?" in raw:  # an RFC 2047 encoded-word: a header trick, not an address
        raise Refused("That email address does not look right.")
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise Refused("That email address does not look right.") from None
    return checked.normalized.lower()


NAME_MAX = 40
NAME_WORDS = 4
# Letters of any script, joined by spaces, hyphens, apostrophes or an initial's
# period: "Aino", "Anne-Marie O'Neil", "J. Virtanen". Nothing else is a name.
NAME = re.compile(r"^[^\W\d_]+(?:(?:[ '’-]|\. )[^\W\d_]+)*\.?$")


def clean_name(raw: Any) -> str | None:
    """Return a first name fit to greet someone with in an email, or None.

    The one filter every name passes before it is stored or shown in an email:
    a form is not a way to put text of a stranger's choosing (a link, an
    address, a sentence) into mail sent from the site's own address.
    """
    if not isinstance(raw, str):
        return None
    name = " ".join("".join(ch for ch in raw if ch.isprintable()).split())
    if not name or len(name) > NAME_MAX or len(name.split()) > NAME_WORDS:
        return None
    return name if NAME.match(name) else None


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
        "requests": {},
        "nonce": secrets.token_hex(8),
    }


def stitch(contact: dict, visitor: str | None) -> None:
    """Join a visitor id's visits to the contact's journey."""
    if visitor and visitor not in contact["visitors"]:
        contact["visitors"] = (contact["visitors"] + [visitor])[-MAX_VISITORS:]


def new_request(
    *,
    newsletter: bool,
    ads: bool,
    first_name: str | None,
    proof: dict,
    now: str,
    guide: str | None = None,
    ref: str | None = None,
    utm: dict | None = None,
) -> dict[str, Any]:
    """What one form post asked for, kept apart until its own link is used.

    Nothing in it is believed before then: the address may not be the
    poster's. The link names this request alone, so a later post (anyone's)
    never changes what an earlier link confirms.
    """
    return {
        "id": secrets.token_hex(8),
        "ts": now,
        "newsletter": newsletter,
        "ads": ads,
        "first_name": first_name,
        "guide": guide,
        "ref": ref if isinstance(ref, str) and ref else None,
        "utm": utm,
        "proof": proof,
    }


def asks_for_news(contact: dict, *, ads: bool) -> bool:
    """True when a signup asks for something this person has not confirmed.

    A confirmed subscriber who asks for nothing new gets no email, and the
    answer is the same either way: a form never tells who is subscribed.
    """
    if contact["status"] != "confirmed":
        return True
    current = contact["consent"].get("ads") or {}
    return ads and (not current or current.get("withdrawn_at") is not None)


def add_request(contact: dict, request: dict, *, now: str) -> dict:
    """Keep a request on the contact (the newest MAX_REQUESTS) until it is used."""
    c = copy.deepcopy(contact)
    kept = sorted((c.get("requests") or {}).values(), key=lambda r: r["ts"])
    kept = [*kept, request][-MAX_REQUESTS:]
    c["requests"] = {r["id"]: r for r in kept}
    if c["status"] == "none" and request["newsletter"] and not c["lead_at"]:
        c["status"] = "pending"
    c["updated"] = now
    return c


def request_of(contact: dict, request_id: Any) -> dict | None:
    return (contact.get("requests") or {}).get(str(request_id))


def prove(contact: dict, request: dict, *, now: str) -> dict:
    """The owner of the address used a link: believe what their request said.

    The person becomes a lead and keeps the name they gave; who referred them
    is credited by the caller. The request's newsletter part waits for its
    own confirmation.
    """
    c = copy.deepcopy(contact)
    c["lead_at"] = c["lead_at"] or now
    c["first_name"] = request.get("first_name") or c["first_name"]
    c["updated"] = now
    return c


def fetched(contact: dict, request: dict, *, now: str) -> dict:
    """A guide's link was used: its request is done, unless its newsletter part
    still waits for its own confirmation link (then it is marked fetched)."""
    c = copy.deepcopy(contact)
    if request["newsletter"]:
        c["requests"] = {**c["requests"], request["id"]: {**request, "fetched": now}}
    else:
        c["requests"] = {k: v for k, v in c["requests"].items() if k != request["id"]}
    return c


def confirm(
    contact: dict, request_id: str, *, now: str, ip_hash: str, ads: dict | None
) -> dict:
    """Apply one signup request: the person proved they own the address.

    `ads` is the separate ad-audience consent given on the confirm page itself
    (its proof), or None: a form post never gives it on anyone's behalf.
    """
    request = request_of(contact, request_id)
    if not request or not request["newsletter"]:
        raise Refused("This link has already been used or is no longer valid.")
    c = prove(contact, request, now=now)
    proof = {**request["proof"], "confirmed_at": now, "confirm_ip_hash": ip_hash}
    if c["status"] != "confirmed" or not c["consent"].get("newsletter"):
        c["consent"]["newsletter"] = {
            **proof,
            "wording": proof["wording"]["newsletter"],
        }
    if ads:
        c["consent"]["ads"] = {**ads, "confirmed_at": now, "confirm_ip_hash": ip_hash}
    c["status"] = "confirmed"
    c["ref_code"] = c["ref_code"] or secrets.token_urlsafe(9)
    c["requests"] = {k: v for k, v in c["requests"].items() if k != request_id}
    c["pending"] = None
    c["nonce"] = secrets.token_hex(8)
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
    c["requests"] = {}
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
    """True for an address never proven, older than cutoff, with nothing else.

    A signup never confirmed, a guide asked for and never fetched: the
    address may be a stranger's, so it is forgotten. A quote request the
    owner has not answered yet keeps it (journey.quotes).
    """
    requests = (contact.get("requests") or {}).values()
    quotes = (contact.get("quotes") or {}).values()
    return (
        contact["status"] in ("pending", "none")
        and not contact["lead_at"]
        and not contact["orders"]
        and contact["created"] < cutoff
        and all(r["ts"] < cutoff for r in requests)
        and all(q.get("answered_at") and q["answered_at"] < cutoff for q in quotes)
    )
