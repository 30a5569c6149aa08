"""Quote and booking requests: what a visitor asks for, kept until the owner answers.

Pure functions over a contact dict. A request is what one form post said,
and nothing in it is believed: the address may not be the poster's. So it is
kept apart from the person's decisions, on the contact of the address as
the request of an unproven address (`people.new_request`'s shape, under
"quotes" rather than "requests", so that a later signup, confirmation or
unsubscribe never drops it), and it makes no one a lead: a form post can be
made in anyone's name. The owner contacts the person and marks the request
answered; an open request keeps its unproven contact from being pruned.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import phonenumbers

from . import people

MESSAGE_MAX = 2000  # within a form field's limit (pages.FIELD_MAX)
KEEP_ANSWERED = 10  # answered requests kept per contact, the newest
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_message(raw: Any) -> str:
    """The request's text: printable, at most a blank line between paragraphs."""
    if not isinstance(raw, str):
        raise people.Refused("Please tell us what you would like.")
    text = CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n"))
    text = re.sub(
        r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.split("\n"))
    )
    text = text.strip()
    if not text:
        raise people.Refused("Please tell us what you would like.")
    if len(text) > MESSAGE_MAX:
        raise people.Refused(f"Please keep the message under {MESSAGE_MAX} characters.")
    return text


def clean_phone(raw: Any, region: str | None) -> str | None:
    """The phone number in international form (E.164), or None when not given.

    region: where a number without a country code is read (the site's
    country); without one, a number must start with its country code.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str) or len(raw) > 40:
        raise people.Refused("That phone number does not look right.")
    try:
        number = phonenumbers.parse(raw, region or None)
    except phonenumbers.NumberParseException:
        raise people.Refused("That phone number does not look right.") from None
    if not phonenumbers.is_valid_number(number):
        raise people.Refused("That phone number does not look right.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def new_quote(
    *,
    name: str,
    phone: str | None,
    message: str,
    proof: dict,
    now: str,
    utm: dict | None = None,
) -> dict[str, Any]:
    """What one quote or booking form post asked for, believed by no one."""
    base = people.new_request(
        newsletter=False,
        ads=False,
        first_name=name.split()[0],
        proof=proof,
        now=now,
        utm=utm,
    )
    return {
        **base,
        "kind": "quote",
        "name": name,
        "phone": phone,
        "message": message,
        "answered_at": None,
    }


def add_quote(contact: dict, quote: dict, *, now: str) -> dict:
    """Keep the request on the contact: every open one, and the newest answered."""
    c = copy.deepcopy(contact)
    kept = sorted((c.get("quotes") or {}).values(), key=lambda q: q["ts"])
    answered = [q for q in kept if q.get("answered_at")][-KEEP_ANSWERED:]
    still = [q for q in kept if not q.get("answered_at")]
    c["quotes"] = {q["id"]: q for q in sorted([*answered, *still, quote], key=_ts)}
    c["updated"] = now
    return c


def _ts(quote: dict) -> str:
    return quote["ts"]


def answer(contact: dict, quote_id: str, *, now: str) -> dict:
    """The owner has answered the request: it is no longer open."""
    quote = (contact.get("quotes") or {}).get(str(quote_id))
    if quote is None:
        raise people.Refused("No such request (perhaps erased).")
    c = copy.deepcopy(contact)
    if not quote.get("answered_at"):
        c["quotes"][quote["id"]] = {**quote, "answered_at": now}
        c["updated"] = now
    return c


def has_open(contact: dict) -> bool:
    return any(not q.get("answered_at") for q in (contact.get("quotes") or {}).values())


def open_requests(contacts) -> list[dict[str, Any]]:
    """Every open request with its contact's id and address, oldest first."""
    rows = [
        {"contact": contact["id"], "email": contact["email"], **quote}
        for contact in contacts
        for quote in (contact.get("quotes") or {}).values()
        if not quote.get("answered_at")
    ]
    return sorted(rows, key=_ts)


def answered_requests(contacts, limit: int = 20) -> list[dict[str, Any]]:
    """The requests answered last, newest first."""
    rows = [
        {"contact": contact["id"], "email": contact["email"], **quote}
        for contact in contacts
        for quote in (contact.get("quotes") or {}).values()
        if quote.get("answered_at")
    ]
    return sorted(rows, key=lambda q: q["answered_at"], reverse=True)[:limit]
