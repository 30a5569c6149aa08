"""Credit a conversion to the visits that led to it (first and last touch).

Computed once, when the conversion happens, from the person's stitched visits
within a lookback window (as ad platforms use), and kept on the contact and
on the timeline event: reports then never rescan the events. The caller
fetches the visits (`since(now)` says from when); nothing here reads storage.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from . import stages
from .visits import parse_ts, touches

LOOKBACK = timedelta(days=30)


def since(now: str) -> str:
    """The moment from which a conversion at now looks back for its visits."""
    return (parse_ts(now) - LOOKBACK).isoformat()


def credit(
    visits: list[dict], now: str, form_utm: dict | None = None
) -> dict[str, Any]:
    """Return {"first": touch, "last": touch} for a conversion at now.

    visits: the person's pageviews since `since(now)`, from all their browsers.
    """
    found = stages.attribute(touches(visits), now)
    first = asdict(found["first"]) if found["first"] else None
    last = asdict(found["last"]) if found["last"] else None
    return with_form(first, last, now, form_utm)


def with_form(
    first: dict | None, last: dict | None, now: str, form_utm: dict | None
) -> dict[str, Any]:
    """{"first", "last"}: the form's own UTM campaign is the last touch when the
    visits give none but direct ones (a link in a newsletter, an ad's form)."""
    if (
        form_utm
        and form_utm.get("source")
        and (last is None or last["source"] == "direct")
    ):
        last = {
            "ts": now,
            "source": form_utm["source"],
            "medium": form_utm.get("medium"),
            "campaign": form_utm.get("campaign"),
            "landing": None,
            "referrer": None,
        }
    return {"first": first or last, "last": last or first}


def apply(contact: dict, touch: dict[str, Any]) -> None:
    """Keep the first conversion's first touch, and the latest last touch."""
    if touch["first"] and not contact.get("first_touch"):
        contact["first_touch"] = touch["first"]
    if touch["last"]:
        contact["last_touch"] = touch["last"]
