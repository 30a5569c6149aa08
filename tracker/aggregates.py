"""Counters folded from the observation stream, by UTC day.

The reports and the dashboard read these, never the raw events: folding costs
once per event, and a query costs per day and per distinct value, however many
events are stored. Pure: no Flask, no storage.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

DIRECT = "direct"


def source_of(event: dict) -> str:
    """Where a visit came from: its UTM source, else the referring host, else direct."""
    utm = event.get("utm") or {}
    return utm.get("source") or event.get("referrer") or DIRECT


@dataclass
class Day:
    pageviews: int = 0
    bots: int = 0
    named: Counter = field(default_factory=Counter)
    # visitor id -> distinct paths read that day (at most two are kept: enough
    # to know "read several pages")
    visitors: dict[str, set[str]] = field(default_factory=dict)
    sources: dict[str, list] = field(default_factory=dict)  # source -> [visits, ids]
    campaigns: dict[str, list] = field(default_factory=dict)
    pages: dict[str, list] = field(
        default_factory=dict
    )  # path -> [views, ids, entries]
    devices: dict[str, set[str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)


def _bump(table: dict[str, list], key: str, visitor: str) -> None:
    row = table.setdefault(key, [0, set()])
    row[0] += 1
    row[1].add(visitor)


class Stats:
    """Everything the funnel, sources and posts panels need, per day."""

    def __init__(self) -> None:
        self.days: dict[str, Day] = {}

    def add(self, event: dict[str, Any]) -> None:
        day = self.days.setdefault(event["ts"][:10], Day())
        kind = event.get("type")
        if kind == "bot":
            day.bots += 1
            return
        visitor = event.get("visitor")
        if kind == "event":
            day.named[event.get("name") or "?"] += 1
            return
        if kind != "pageview" or not visitor:
            return
        path = event.get("path") or "/"
        day.pageviews += 1
        seen = day.visitors.setdefault(visitor, set())
        if len(seen) < 2:
            seen.add(path)
        page = day.pages.setdefault(path, [0, set(), 0])
        page[0] += 1
        page[1].add(visitor)
        if event.get("title"):
            day.titles[path] = event["title"]
        day.devices.setdefault(event.get("device") or "other", set()).add(visitor)
        if event.get("entry", True):
            page[2] += 1
            _bump(day.sources, source_of(event), visitor)
            campaign = (event.get("utm") or {}).get("campaign")
            if campaign:
                _bump(day.campaigns, campaign, visitor)

    def summary(
        self, since: str | None = None, until: str | None = None
    ) -> dict[str, Any]:
        """Return the totals of the days in [since, until] (ISO dates, inclusive)."""
        days = [
            (d, s)
            for d, s in sorted(self.days.items())
            if (since is None or d >= since[:10]) and (until is None or d <= until[:10])
        ]
        visitors: dict[str, int] = {}  # id -> days seen
        several_pages: set[str] = set()
        sources: dict[str, list] = {}
        campaigns: dict[str, list] = {}
        pages: dict[str, list] = {}
        devices: dict[str, set[str]] = {}
        titles: dict[str, str] = {}
        named: Counter = Counter()
        for _, day in days:
            for vid, paths in day.visitors.items():
                visitors[vid] = visitors.get(vid, 0) + 1
                if len(paths) >= 2:
                    several_pages.add(vid)
            for table, merged in ((day.sources, sources), (day.campaigns, campaigns)):
                for key, (count, ids) in table.items():
                    row = merged.setdefault(key, [0, set()])
                    row[0] += count
                    row[1] |= ids
            for path, (views, ids, entries) in day.pages.items():
                row = pages.setdefault(path, [0, set(), 0])
                row[0] += views
                row[1] |= ids
                row[2] += entries
            for device, ids in day.devices.items():
                devices.setdefault(device, set()).update(ids)
            titles.update(day.titles)
            named.update(day.named)
        returning = {v for v, n in visitors.items() if n >= 2}
        return {
            "pageviews": sum(d.pageviews for _, d in days),
            "bots": sum(d.bots for _, d in days),
            "visitors": len(visitors),
            "engaged_visitors": len(several_pages | returning),
            "days": [
                {"day": d, "pageviews": s.pageviews, "visitors": len(s.visitors)}
                for d, s in days
            ],
            "sources": _rows(sources, "source", ("visits", "visitors")),
            "campaigns": _rows(campaigns, "campaign", ("visits", "visitors")),
            "pages": sorted(
                (
                    {
                        "path": p,
                        "title": titles.get(p),
                        "views": v,
                        "visitors": len(i),
                        "entries": e,
                    }
                    for p, (v, i, e) in pages.items()
                ),
                key=lambda r: (-r["views"], r["path"]),
            ),
            "devices": {d: len(ids) for d, ids in sorted(devices.items())},
            "events": dict(named.most_common()),
        }


def _rows(table: dict[str, list], key: str, names: tuple[str, str]) -> list[dict]:
    rows = [{key: k, names[0]: c, names[1]: len(ids)} for k, (c, ids) in table.items()]
    return sorted(rows, key=lambda r: (-r[names[1]], -r[names[0]], r[key]))
