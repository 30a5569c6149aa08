"""Literal records for the journey model's tests: timestamps before NOW,
pageviews, a contact and its decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def ts(days: float = 0, minutes: float = 0) -> str:
    """Return an ISO timestamp `days` and `minutes` before NOW."""
    return (NOW - timedelta(days=days, minutes=minutes)).isoformat()


def pv(when: str, path: str = "/posts/a/", referrer=None, utm=None, type="pageview"):
    return {
        "id": "e",
        "ts": when,
        "type": type,
        "visitor": "v1",
        "contact": None,
        "path": path,
        "title": "A",
        "referrer": referrer,
        "utm": utm or {},
        "ref": None,
        "device": "desktop",
    }


def contact(**overrides) -> dict:
    record = {
        "id": "c1",
        "email": "a@example.com",
        "first_name": "Aino",
        "created": ts(10),
        "status": "none",
        "consent": {"newsletter": None, "ads": None},
        "visitors": ["v1"],
        "lead_at": None,
        "customer_at": None,
        "advocate_at": None,
        "referred_by": None,
        "feedback": None,
    }
    return record | overrides


def event(type: str, when: str | None = None, **fields) -> dict:
    return {"id": "t", "ts": when or ts(), "type": type, "contact": "c1"} | fields
