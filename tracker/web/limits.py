"""Rate limits and mail quotas that every worker and every server share.

Flask-Limiter counts form posts per IP address; its counters live in the
tracker's own storage (a `polku://` storage for the `limits` library), so
four workers or two servers count one limit, not one each. Mail quotas count
per recipient address in the same place: however many addresses a stranger
posts from, one inbox gets at most so many confirmation or guide emails.
Keys are hashed with the secret key, so no IP address or email is stored.

Token routes (confirm, download link, unsubscribe, feedback) carry no limit:
a valid signed token is the authentication, and mail providers post
one-click unsubscribes for many readers from a handful of addresses.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import Storage as LimitsStorage

from .. import clock
from ..db import get_storage
from ..storage import StorageError

DOC = "counters"


def hashed(key: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:32]


def live(doc: dict | None, now: float) -> dict[str, list]:
    """The counters whose window has not ended: [count, window end]."""
    return {k: v for k, v in (doc or {}).items() if v[1] > now}


class SharedCounters(LimitsStorage):
    """Fixed-window counters in the tracker's storage, for the `limits` library."""

    STORAGE_SCHEME = ["polku"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return StorageError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now, name = clock.now().timestamp(), hashed(key)

        def change(doc):
            counters = live(doc, now)
            count, ends = counters.get(name, (0, now + expiry))
            counters[name] = [count + amount, ends]
            return counters

        return get_storage().update_meta(DOC, change)[name][0]

    def get(self, key: str) -> int:
        found = live(get_storage().get_meta(DOC), clock.now().timestamp())
        return found.get(hashed(key), (0, 0))[0]

    def get_expiry(self, key: str) -> float:
        now = clock.now().timestamp()
        return live(get_storage().get_meta(DOC), now).get(hashed(key), (0, now))[1]

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        get_storage().update_meta(DOC, lambda _: None)
        return None

    def clear(self, key: str) -> None:
        name = hashed(key)
        get_storage().update_meta(
            DOC, lambda doc: {k: v for k, v in (doc or {}).items() if k != name}
        )


limiter = Limiter(key_func=get_remote_address)  # storage: RATELIMIT_STORAGE_URI


def form_limit() -> str:
    return current_app.config["RATELIMIT_FORMS"]


forms = limiter.shared_limit(form_limit, scope="forms")


def take_mail_quota(setting: str, *identifiers: str) -> bool:
    """Count one email to a recipient; False (and nothing counted) if over quota.

    Every window of the setting (`1/10 minutes;3/day`) is checked and counted
    in one atomic update, so a refused attempt uses up nothing.
    """
    spec = str(current_app.config[setting] or "").strip()
    if not spec:  # an empty setting turns the quota off
        return True
    items: list[RateLimitItem] = parse_many(spec)
    now = clock.now().timestamp()
    names = [(hashed(i.key_for(*identifiers)), i) for i in items]
    allowed = False

    def change(doc):
        nonlocal allowed
        counters = live(doc, now)
        current = {n: counters.get(n, [0, now + i.get_expiry()]) for n, i in names}
        allowed = all(current[n][0] < i.amount for n, i in names)
        if allowed:
            counters.update({n: [c + 1, ends] for n, (c, ends) in current.items()})
        return counters

    get_storage().update_meta(DOC, change)
    return allowed
