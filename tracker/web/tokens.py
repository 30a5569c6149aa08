"""Signed, expiring, purpose-bound tokens for every link we email.

A token signed for one purpose (confirm) never validates for another
(unsubscribe), and each carries the contact's current `nonce` where a link
must work only once: using the link changes the nonce, so a replay fails.

Tokens are itsdangerous URLSafeTimedSerializer tokens and are read by it.
make() writes the same format without building a serializer per token: a
digest signs about nine links per reader. Its zlib stream uses a small window
and memory level (zlib's defaults allocate ~300 KB per call, which dominated
signing), and a payload shorter than SHORT is not compressed: any zlib stream
decompresses alike and itsdangerous reads a payload either way, so tokens
made here and links emailed before read the same.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import time
import zlib
from functools import lru_cache
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
SHORT = 64  # a JSON payload this short is not worth trying to compress


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"polku-{purpose}"
    )


@lru_cache(maxsize=32)
def _mac(secret: str | bytes, purpose: str) -> Any:
    """The HMAC-SHA1 keyed as itsdangerous derives it (django-concat), to copy."""
    salt = f"polku-{purpose}".encode()
    secret_bytes = secret.encode() if isinstance(secret, str) else secret
    key = hashlib.sha1(salt + b"signer" + secret_bytes).digest()
    return hmac.new(key, digestmod=hashlib.sha1)


_JSON = json.JSONEncoder(separators=(",", ":"))  # itsdangerous's compact JSON
_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def _b64(data: bytes) -> bytes:
    """itsdangerous's base64: URL-safe, unpadded."""
    return binascii.b2a_base64(data, newline=False).translate(_URL_SAFE).rstrip(b"=")


def make(purpose: str, payload: dict[str, Any]) -> str:
    """Return a token for payload, valid only for purpose."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    data = _JSON.encode(payload).encode()
    body = b""
    if len(data) >= SHORT:
        squeeze = zlib.compressobj(6, zlib.DEFLATED, 9, 1)
        packed = squeeze.compress(data) + squeeze.flush()
        if len(packed) < len(data) - 1:  # as itsdangerous: only if it shrinks
            body = b"." + _b64(packed)
    body = body or _b64(data)
    now = int(time.time())  # as itsdangerous's TimestampSigner
    value = body + b"." + _b64(now.to_bytes(8, "big").lstrip(b"\x00"))
    mac = _mac(current_app.config["SECRET_KEY"], purpose).copy()
    mac.update(value)
    return (value + b"." + _b64(mac.digest())).decode("ascii")


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
