"""Suppression: when an address may no longer be mailed, and why.

Pure: a person's delivery events in, one decision out. The events are the
ones kept on their timeline: ``bounce`` (``kind`` "hard" or "soft", the
``send`` it answered and the server's ``status``), ``complaint`` and
``delivered``. A hard bounce or a complaint suppresses at once; soft bounces
suppress after SOFT_LIMIT of them on as many distinct sends within
SOFT_DAYS, and a delivery since resets the count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

SOFT_LIMIT = 3
SOFT_DAYS = 30
HARD, SOFT, POLICY = "hard", "soft", "policy"

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


def classify(code: int, text: str = "") -> str:
    """What an SMTP refusal says about the address: hard, soft, or policy.

    A 5.7.x (policy: spam, DMARC, a blocked sender) is the sender's problem,
    not the address's; any other 5xx is hard; a 4xx is soft.
    """
    enhanced = _ENHANCED.search(text or "")
    if code >= 500 and enhanced and enhanced.group(2) == "7":
        return POLICY
    return HARD if code >= 500 else SOFT


def is_suppressed(contact: Mapping) -> bool:
    """True when no mail may go to this person's address."""
    return bool(contact.get("suppressed"))


def _time(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def decide(events: Iterable[Mapping], now: str) -> dict | None:
    """Return the suppression these events make ({reason, at, evidence}) or None."""
    ordered = sorted(
        (
            dict(e)
            for e in events
            if e.get("type") in {"bounce", "complaint", "delivered"}
        ),
        key=lambda e: _time(e["ts"]),
    )
    for ev in ordered:
        if ev["type"] == "complaint":
            return {"reason": "complaint", "at": ev["ts"], "evidence": [ev]}
        if ev["type"] == "bounce" and ev.get("kind") == HARD:
            return {"reason": "hard_bounce", "at": ev["ts"], "evidence": [ev]}
    since = _time(now) - timedelta(days=SOFT_DAYS)
    counted: list[dict] = []
    for ev in ordered:
        if ev["type"] == "delivered":
            counted = []
        elif ev.get("kind") == SOFT and _time(ev["ts"]) >= since:
            counted.append(ev)
    if len({e.get("send") for e in counted}) >= SOFT_LIMIT:
        return {"reason": "soft_bounces", "at": counted[-1]["ts"], "evidence": counted}
    return None


def reprove_from(
    suppressed: Mapping, *, complaint_days: int, bounce_days: int
) -> str | None:
    """When the address may ask for a fresh confirmation (None: never).

    A form signup by a suppressed address is not believed at once: it is
    refused (silently) until the suppression is older than the setting for its
    reason, then a confirmation may be sent, and confirming lifts it. A
    negative setting keeps the address suppressed for good.
    """
    days = complaint_days if suppressed.get("reason") == "complaint" else bounce_days
    if days < 0 or not suppressed.get("at"):
        return None
    return (_time(suppressed["at"]) + timedelta(days=days)).isoformat()


def may_reprove(
    suppressed: Mapping, now: str, *, complaint_days: int, bounce_days: int
) -> bool:
    """True when a signup may get a fresh confirmation (see reprove_from)."""
    since = reprove_from(
        suppressed, complaint_days=complaint_days, bounce_days=bounce_days
    )
    return since is not None and _time(since) <= _time(now)


def lift(contact: Mapping) -> dict:
    """The contact once they proved the address works and want mail again."""
    return {**contact, "suppressed": None, "soft_bounces": []}
