"""Who a request comes from, without keeping anything that identifies a person.

Cookieless visitor ids follow Plausible: sha256(daily salt, site, IP, user
agent). The salt is random, kept for today and yesterday (so a visit across
midnight is not cut in two), and then deleted: once it is gone, nobody, us
included, can link a visitor's days or recover an IP from an id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from ..clock import today
from ..errors import TrackerError
from ..storage import Storage

SALTS_KEY = "salts"
VISITOR_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class InvalidVisitor(TrackerError):
    """A claimed visitor id that is not even a string (a JSON number, list or
    object): refused, in any mode, before anything is stored."""


_salt_cache: dict[tuple[int, str], str] = {}


def daily_salt(storage: Storage, day: str) -> str:
    """Return the day's salt, creating it and deleting salts older than yesterday.

    Each process keeps the day's salt in memory: the hot path reads no file.
    """
    cached = _salt_cache.get((id(storage), day))
    if cached:
        return cached
    salts = storage.get_meta(SALTS_KEY) or {}
    if day in salts:
        _salt_cache.clear()
        _salt_cache[(id(storage), day)] = salts[day]
        return salts[day]
    keep = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()

    def rotate(old):
        fresh = {d: s for d, s in (old or {}).items() if d >= keep}
        fresh.setdefault(day, secrets.token_hex(32))
        return fresh

    salt = storage.update_meta(SALTS_KEY, rotate)[day]
    _salt_cache.clear()
    _salt_cache[(id(storage), day)] = salt
    return salt


def visitor_hash(salt: str, site: str, ip: str, user_agent: str) -> str:
    """Return the anonymous visitor id of one day (32 hex digits)."""
    data = "\x1f".join((salt, site, ip, user_agent)).encode()
    return hashlib.sha256(data).hexdigest()[:32]


def ip_hash(secret_key: str, ip: str) -> str:
    """Return a keyed hash of an IP for consent proof; the IP itself is never stored."""
    return hmac.new(secret_key.encode(), ip.encode(), hashlib.sha256).hexdigest()


def no_tracking(headers) -> bool:
    """True when the browser asks not to be tracked (DNT or Global Privacy Control)."""
    return headers.get("DNT") == "1" or headers.get("Sec-GPC") == "1"


def visitor_id(
    storage: Storage,
    *,
    mode: str,
    site: str,
    ip: str,
    user_agent: str,
    headers,
    claimed: str | None,
) -> str:
    """Return the visitor id to record for a request.

    In consent mode a browser that has consented sends its first-party id; it
    is used unless the browser also says DNT / GPC. Otherwise the daily hash.
    A browser that asks not to be tracked is counted under a hash of its own
    kind, which no other request's id can equal: its visits are never joined
    to a person, whatever is stitched later.
    """
    if claimed is not None and not isinstance(claimed, str):
        raise InvalidVisitor("Field 'visitor' must be a string.")
    if (
        mode == "consent"
        and claimed
        and VISITOR_ID.match(claimed)
        and not no_tracking(headers)
    ):
        return claimed
    if no_tracking(headers):
        site = "dnt\x1f" + site
    return visitor_hash(daily_salt(storage, today()), site, ip, user_agent)
