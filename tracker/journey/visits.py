"""What a visit is and where it came from: the one rule for each.

A *visit* is a run of one visitor's pageviews. A pageview starts a new visit
when there is none yet, when more than 30 minutes passed since the visitor's
previous pageview, or when it arrives from a campaign or another site (UTM
parameters or an external referrer) other than the current visit's; a click
from one page of the site to another, a reload, or a page opened directly
continue the visit.

A visit's *source* is its first pageview's UTM source, else the referring
site, else "direct"; its medium is the UTM medium, "referral" for a referring
site without UTM, else none; its campaign is the UTM campaign.

The daily counters, the attribution of conversions and the dashboard's
timeline of one person all group pageviews with `starts_visit` and name
their sources with `source_of`. Pure: no Flask, no storage, no files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

VISIT_GAP = timedelta(minutes=30)
GAP_SECONDS = VISIT_GAP.total_seconds()
DIRECT = "direct"


def parse_ts(value: str | datetime) -> datetime:
    """Return an aware datetime; naive values are UTC, as everything we store."""
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Source:
    """Where a visit came from; two pageviews with equal sources share a visit."""

    source: str
    medium: str | None
    campaign: str | None


def source_of(pageview: Mapping) -> Source:
    """Name the source, medium and campaign a pageview arrives with."""
    utm = pageview.get("utm") or {}
    referrer = pageview.get("referrer") or None
    medium = utm.get("medium")
    if medium is None and referrer and not utm.get("source"):
        medium = "referral"
    return Source(utm.get("source") or referrer or DIRECT, medium, utm.get("campaign"))


def arrives_from_elsewhere(pageview: Mapping) -> bool:
    """True when a pageview comes from a campaign link or another site."""
    return bool(pageview.get("utm") or pageview.get("referrer"))


def starts_visit(
    pageview: Mapping, idle_seconds: float | None, current: Source | None
) -> bool:
    """True when the pageview begins a new visit (see the module's rule).

    idle_seconds: time since the visitor's previous pageview (None: no visit
    yet); current: the source of the visit under way.
    """
    if current is None or idle_seconds is None or idle_seconds > GAP_SECONDS:
        return True
    return arrives_from_elsewhere(pageview) and source_of(pageview) != current


@dataclass(frozen=True, slots=True)
class Touch:
    """A visit as attribution credits it: when, where from, where it landed."""

    ts: str
    source: str
    medium: str | None
    campaign: str | None
    landing: str
    referrer: str | None


def touches(observations: Iterable[dict]) -> list[Touch]:
    """Turn one visitor's observations into their visits, in time order."""
    pageviews = sorted(
        ((parse_ts(o["ts"]), o) for o in observations if o.get("type") == "pageview"),
        key=lambda pair: pair[0],
    )
    visits: list[Touch] = []
    last_seen: datetime | None = None
    current: Source | None = None
    for ts, pv in pageviews:
        idle = None if last_seen is None else (ts - last_seen).total_seconds()
        if starts_visit(pv, idle, current):
            current = source_of(pv)
            visits.append(
                Touch(
                    pv["ts"],
                    current.source,
                    current.medium,
                    current.campaign,
                    pv.get("path") or "",
                    pv.get("referrer") or None,
                )
            )
        last_seen = ts
    return visits


def timeline(events: Iterable[Mapping]) -> list[dict]:
    """Group a contact's timeline (oldest first) into visits and single events.

    A decision in the middle of a visit splits it for display; the rest of
    the visit is marked continued and keeps its source.
    """
    items: list[dict] = []
    visit: dict | None = None
    last_ts: datetime | None = None
    for event in events or ():
        if not isinstance(event, Mapping):
            continue
        if event.get("type") != "pageview":
            items.append(
                {
                    "kind": event.get("type") or "event",
                    "ts": event.get("ts"),
                    "event": event,
                }
            )
            continue
        ts = _when(event.get("ts"))
        idle = None if ts is None or last_ts is None else (ts - last_ts).total_seconds()
        current = visit["origin"] if visit else None
        new = starts_visit(event, idle, current)
        if new or items[-1] is not visit:
            origin = source_of(event) if new else current
            visit = {
                "kind": "visit",
                "ts": event.get("ts"),
                "continued": not new,
                "origin": origin,
                "source": origin.source,
                "medium": origin.medium,
                "campaign": origin.campaign,
                "referrer": event.get("referrer") if new else visit["referrer"],
                "device": event.get("device"),
                "landing": event.get("path"),
                "pages": [],
            }
            items.append(visit)
        visit["pages"].append(event)
        last_ts = ts or last_ts
    return items


def _when(value) -> datetime | None:
    try:
        return parse_ts(value)
    except (TypeError, ValueError):
        return None
