"""Server-to-server API: purchases, bookings and quotes from a shop or a CRM."""

from __future__ import annotations

import hmac
import math
import re

from flask import Blueprint, current_app, request

from .. import contacts
from ..db import get_storage
from ..errors import TrackerError
from ..journey import people
from .requests import check_origin, json_body, new_id, now_iso

bp = Blueprint("api", __name__)

KINDS = ("purchase", "booking", "quote")
CURRENCY = re.compile(r"^[A-Z]{3}$")
# A trillion: more than any real order, and far from what no store can hold
# (JSON's 1e400 reads as infinity, 2**64 is past orjson's 64 bits, and 10**400
# made math.isfinite raise).
MAX_VALUE = 10**12


def authenticate() -> None:
    key = current_app.config.get("API_KEY") or ""
    if not key:
        raise TrackerError(
            "The conversion API is off: set POLKU_API_KEY to turn it on.", 404
        )
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {key}".encode()):
        raise TrackerError("A valid API key is required.", 401)


def parse_conversion(body) -> dict:
    """Check a conversion's fields; return them cleaned."""
    if not isinstance(body, dict):
        raise TrackerError("Send the conversion as a JSON object.")
    kind = body.get("kind", "purchase")
    if kind not in KINDS:
        raise TrackerError(f"Field 'kind' must be one of {', '.join(KINDS)}.")
    value = body.get("value")
    if value is not None and not (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and (isinstance(value, int) or math.isfinite(value))
        and 0 <= value <= MAX_VALUE
    ):
        raise TrackerError(f"Field 'value' must be a number from 0 to {MAX_VALUE}.")
    currency = body.get("currency") or ("EUR" if value is not None else None)
    if currency is not None and not (
        isinstance(currency, str) and CURRENCY.match(currency)
    ):
        raise TrackerError("Field 'currency' must be a three-letter code such as EUR.")
    order_id = body.get("order_id")
    if order_id is not None and not (
        isinstance(order_id, str) and 0 < len(order_id) <= 128
    ):
        raise TrackerError(
            "Field 'order_id' must be a string of at most 128 characters."
        )
    if not body.get("email") and not body.get("contact"):
        raise TrackerError("Give the customer's 'email' or 'contact' id.")
    return {"kind": kind, "value": value, "currency": currency, "order_id": order_id}


@bp.post("/api/conversion")
def conversion():
    check_origin(signed=True)
    authenticate()
    body = json_body()
    fields = parse_conversion(body)
    email = None
    if body.get("email"):
        try:
            email = people.normalise_email(body["email"])
        except people.Refused as e:
            raise TrackerError(str(e)) from None
    with get_storage().transaction() as tx:
        if fields["order_id"] and (known := tx.find_by("order", fields["order_id"])):
            return {"ok": True, "contact": known["id"], "duplicate": True}, 200
        contact = tx.find(email) if email else tx.get(str(body.get("contact")))
        if contact is None:
            if email is None:
                raise TrackerError("No contact has that id.", 404)
            contact = people.new_contact(email, now_iso(), new_id())
        now = now_iso()
        contact = people.record_order(
            contact, kind=fields["kind"], order_id=fields["order_id"], now=now
        )
        touch = contacts.credit(contact, now)
        kind = fields.pop("kind")
        contacts.reward_referrer(tx, contact, kind)
        event = contacts.timeline_event(kind, contact, attribution=touch, **fields)
        tx.save(contact, event)
    return {"ok": True, "contact": contact["id"], "duplicate": False}, 201
