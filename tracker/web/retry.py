"""A refused form's second chance, without JavaScript.

A plain HTML form post that is refused (a bad address, the box not ticked, an
unknown guide) gets a 303 to `GET /form/<token>`: the same form, rendered by the
tracker, with the reason next to the field and what the reader typed filled in.
The token carries the typed fields and the reason, signed for this purpose only
and valid for an hour; nothing is stored. The honeypot is never carried.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from . import site as sitemeta

MAX_AGE = 3600
EXPIRED = "expired"
KINDS = {
    "forms.subscribe": "signup",
    "forms.download": "download",
    "quotes.request_quote": "quote",
}
# What the form sends back as it was typed, each cut to a length the form allows.
KEPT = {
    "email": 254,
    "first_name": 100,
    "consent_newsletter": 8,
    "consent_ads": 8,
    "guide": 80,
    "form": 64,
    "source": 300,
    "ref": 64,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "utm_content": 200,
    "utm_term": 200,
    "visitor": 64,
    "consent_version": 64,
    "name": 100,
    "phone": 40,
    "message": 2000,  # a longer one comes back cut: the link must stay short
    "consent_quote": 8,
}
# Where a reason can sit: the signup's and guide's fields, the quote form's.
FIELDS = {
    "email",
    "consent_newsletter",
    "guide",
    "name",
    "phone",
    "message",
    "consent_quote",
}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="polku-form")


def typed() -> dict[str, str]:
    """The posted fields worth giving back; none when the body cannot be read."""
    if request.is_json:
        return {}
    try:
        posted = request.form
    except Exception:  # too large, or not a form at all: an empty form comes back
        return {}
    return {k: str(posted[k])[:n] for k, n in KEPT.items() if posted.get(k)}


def link(message: str, field: str | None) -> str:
    """Where a refused form post is sent: the form again, as a signed link."""
    payload = {
        "k": KINDS.get(request.endpoint or "", "signup"),
        "m": message[:300],
        "f": field if field in FIELDS else None,
        "d": typed(),
    }
    return sitemeta.link("forms.form_again", token=_serializer().dumps(payload))


def read(token: str) -> dict[str, Any] | str | None:
    """The form a token carries; EXPIRED after an hour; None when forged."""
    try:
        payload = _serializer().loads(token, max_age=MAX_AGE)
    except SignatureExpired:
        return EXPIRED
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("k") not in KINDS.values():
        return None
    data = payload.get("d") if isinstance(payload.get("d"), dict) else {}
    return {
        "kind": payload["k"],
        "reason": str(payload.get("m") or ""),
        "field": payload.get("f") if payload.get("f") in FIELDS else None,
        "data": {k: str(data[k])[:n] for k, n in KEPT.items() if data.get(k)},
    }
