"""Literal records for the audience tests: a site's manifest, contacts,
observations and decisions, and the run from them to the lists. No app."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tracker.journey.members import members
from tracker.journey.profiles import profiles

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HEX64 = re.compile(r"^[0-9a-f]{64}$")

MANIFEST = {
    "posts": [
        {
            "kind": "article",
            "url": "posts/kahvi-1/",
            "title": "Coffee one",
            "category": "Kahvi",
            "tags": ["Aamu", "Pavut"],
        },
        {
            "kind": "article",
            "url": "posts/kahvi-2/",
            "title": "Coffee two",
            "category": "Kahvi",
            "tags": ["Pavut"],
        },
        {
            "kind": "article",
            "url": "posts/tee-1/",
            "title": "Tea one",
            "category": "Tee & Yrtit",
            "tags": ["Aamu"],
        },
        {
            "kind": "landing",
            "url": "pages/opas/",
            "title": "Guide",
            "category": None,
            "tags": [],
        },
    ],
    "guides": {"kahvi-opas": {"slug": "kahvi-opas", "title": "Coffee guide"}},
}


def ts(days: float = 0) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def contact(cid: str, **over) -> dict:
    """A confirmed subscriber with both consents, created 10 days ago."""
    base = {
        "id": cid,
        "email": f"{cid}@example.com",
        "first_name": cid.capitalize(),
        "created": ts(10),
        "status": "confirmed",
        "consent": {
            "newsletter": {"confirmed_at": ts(10), "form": "signup"},
            "ads": {"confirmed_at": ts(10), "form": "signup"},
        },
        "visitors": [f"v-{cid}"],
        "lead_at": ts(10),
        "customer_at": None,
        "advocate_at": None,
        "feedback": None,
    }
    base.update(over)
    return base


def view(who: str, path: str, days: float = 1, by: str = "visitor") -> dict:
    ob = {"ts": ts(days), "type": "pageview", "visitor": None, "contact": None}
    ob[by] = who
    ob["path"] = path
    return ob


def event(cid: str, kind: str, days: float = 1, **extra) -> dict:
    return {
        "id": f"{cid}-{kind}",
        "ts": ts(days),
        "type": kind,
        "contact": cid,
        **extra,
    }


def run(audiences, contacts, observations=(), timelines=None):
    found = profiles(observations, contacts, MANIFEST)
    return members(audiences, contacts, found, timelines or {}, NOW)


def ids(rows) -> list[str]:
    return [row["id"] for row in rows]
