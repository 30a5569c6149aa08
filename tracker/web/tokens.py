"""Signed, expiring, purpose-bound tokens for every link we email.

A token signed for one purpose (confirm) never validates for another
(unsubscribe), and each carries the contact's current `nonce` where a link
must work only once: using the link changes the nonce, so a replay fails.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import BadToken

DAY = 86400
PURPOSES = {
    "confirm": "CONFIRM_DAYS",
    "download": "DOWNLOAD_DAYS",
    "unsubscribe": None,  # valid as long as the person is on the list
    "feedback": None,
    "click": None,
    # The reader's own page: bound to the contact's id, not its nonce, so the
    # link in an old email keeps working after a confirmation; erasing the
    # person ends it.
    "preferences": None,
}
UNSUBSCRIBE_MAX_AGE = 400 * DAY  # an old digest's unsubscribe link still works


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"polku-{purpose}"
    )


def make(purpose: str, payload: dict[str, Any]) -> str:
    """Return a token for payload, valid only for purpose."""
    return _serializer(purpose).dumps(payload)


def max_age(purpose: str) -> int:
    setting = PURPOSES[purpose]
    return int(current_app.config[setting]) * DAY if setting else UNSUBSCRIBE_MAX_AGE


def read(purpose: str, token: str) -> dict[str, Any]:
    """Return the payload of a valid token, or raise BadToken with a readable reason."""
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age(purpose))
    except SignatureExpired:
        raise BadToken(
            "This link has expired. Please ask for a new one.", 410
        ) from None
    except BadSignature:
        raise BadToken(
            "This link is not valid. Please check that it was copied whole."
        ) from None
    if not isinstance(payload, dict):
        raise BadToken("This link is not valid.")
    return payload
