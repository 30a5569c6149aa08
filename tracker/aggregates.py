"""Counters folded from the observation stream, by UTC day.

The reports and the dashboard read these, never the raw events: folding costs
once per event, and a query costs per day and per distinct value, however many
events are stored. Pure: no Flask, no storage.

Visitors are counted per day. Cookieless ids change every day, so a sum of
daily visitors is exactly the number of distinct ids over a period; in consent
mode, someone who visits on two days counts on each. A day keeps its sets of
visitor ids while late events may still arrive for it (today and yesterday),
then keeps only the counts, which keeps the aggregates small.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

DIRECT = "direct"
OPEN_DAYS = 2


def source_of(event: dict) -> str:
    """Where a visit came from: its UTM source, else the referring host, else direct."""
    utm = event.get("utm") or {}
    return utm.get("source") or event.get("referrer") or DIRECT


class Day:
    """One day's counters. Visitor columns hold sets while open, counts once closed."""

    TABLES = ("sources", "campaigns", "pages", "devices")

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        data = data or {}
        self.closed: bool = data.get("closed", False)
        self.pageviews: int = data.get("pageviews", 0)
        self.bots: int = data.get("bots", 0)
        self.named: Counter = Counter(data.get("named", {}))
        self.titles: dict[str, str] = data.get("titles", {})
        load = (lambda v: v) if self.closed else (lambda v: set(v))
        # visitor id -> distinct paths read (two are enough for "several pages")
        self.visitors: Any = (
            data.get("visitors", 0)
            if self.closed
            else {k: set(v) for k, v in data.get("visitors", {}).items()}
        )
        self.engaged: int = data.get("engaged", 0)
        # table -> key -> [count, visitors(, entries)]
        self.tables: dict[str, dict[str, list]] = {
            t: {k: [r[0], load(r[1]), *r[2:]] for k, r in data.get(t, {}).items()}
            for t in self.TABLES
        }

    def add_pageview(self, event: dict, visitor: str) -> None:
        path = event.get("path") or "/"
        self.pageviews += 1
        if self.closed:  # a late event: counted, but its visitor cannot be deduplicated
            self.visitors += 1
        else:
            seen = self.visitors.setdefault(visitor, set())
            if len(seen) < 2:
                seen.add(path)
        if event.get("title"):
            self.titles[path] = event["title"][:300]
        entry = event.get("entry", True)
        self._bump("pages", path, visitor, entries=1 if entry else 0)
        self._bump("devices", event.get("device") or "other", visitor)
        if entry:
            self._bump("sources", source_of(event), visitor)
            campaign = (event.get("utm") or {}).get("campaign")
            if campaign:
                self._bump("campaigns", campaign, visitor)

    def _bump(
        self, table: str, key: str, visitor: str, entries: int | None = None
    ) -> None:
        row = self.tables[table].setdefault(
            key, [0, 0 if self.closed else set()] + ([0] if entries is not None else [])
        )
        row[0] += 1
        if self.closed:
            row[1] += 1
        else:
            row[1].add(visitor)
        if entries:
            row[2] += entries

    def close(self) -> None:
        """Keep counts instead of visitor sets: no more late events expected."""
        if self.closed:
            return
        self.engaged = sum(1 for paths in self.visitors.values() if len(paths) >= 2)
        self.visitors = len(self.visitors)
        for table in self.tables.values():
            for row in table.values():
                row[1] = len(row[1])
        self.closed = True

    def visitor_count(self) -> int:
        return self.visitors if self.closed else len(self.visitors)

    def engaged_count(self) -> int:
        if self.closed:
            return self.engaged
        return sum(1 for paths in self.visitors.values() if len(paths) >= 2)

    def to_json(self) -> dict[str, Any]:
        dump = (lambda v: v) if self.closed else sorted
        data = {
            "closed": self.closed,
            "pageviews": self.pageviews,
            "bots": self.bots,
            "named": dict(self.named),
            "titles": self.titles,
            "engaged": self.engaged,
            "visitors": (
                self.visitors
                if self.closed
                else {k: sorted(v) for k, v in self.visitors.items()}
            ),
        }
        for name, table in self.tables.items():
            data[name] = {k: [r[0], dump(r[1]), *r[2:]] for k, r in table.items()}
        return data


class Stats:
    """Everything the funnel, sources and posts panels need, per day."""

    def __init__(self, days: dict[str, Day] | None = None) -> None:
        self.days: dict[str, Day] = days or {}
        self.newest = max(self.days, default="")

    def add(self, event: dict[str, Any]) -> None:
        key = event["ts"][:10]
        day = self.days.get(key)
        if day is None:
            day = self.days[key] = Day()
            if key > self.newest:
                self.newest = key
                self._close_old_days()
        kind = event.get("type")
        if kind == "bot":
            day.bots += 1
        elif kind == "event":
            day.named[event.get("name") or "?"] += 1
        elif kind == "pageview" and event.get("visitor"):
            day.add_pageview(event, event["visitor"])

    def _close_old_days(self) -> None:
        open_days = sorted(d for d, day in self.days.items() if not day.closed)
        for key in open_days[:-OPEN_DAYS]:
            self.days[key].close()

    def summary(
        self, since: str | None = None, until: str | None = None
    ) -> dict[str, Any]:
        """Return the totals of the days in [since, until] (ISO dates, inclusive)."""
        days = [
            (d, s)
            for d, s in sorted(self.days.items())
            if (since is None or d >= since[:10]) and (until is None or d <= until[:10])
        ]
        merged: dict[str, dict[str, list]] = {t: {} for t in Day.TABLES}
        titles: dict[str, str] = {}
        named: Counter = Counter()
        for _, day in days:
            for name, table in day.tables.items():
                for key, row in table.items():
                    total = merged[name].setdefault(key, [0] * len(row))
                    total[0] += row[0]
                    total[1] += row[1] if day.closed else len(row[1])
                    if len(row) > 2:
                        total[2] += row[2]
            titles.update(day.titles)
            named.update(day.named)
        return {
            "pageviews": sum(d.pageviews for _, d in days),
            "bots": sum(d.bots for _, d in days),
            "visitors": sum(d.visitor_count() for _, d in days),
            "engaged_visitors": sum(d.engaged_count() for _, d in days),
            "days": [
                {"day": k, "pageviews": d.pageviews, "visitors": d.visitor_count()}
                for k, d in days
            ],
            "sources": _rows(merged["sources"], "source"),
            "campaigns": _rows(merged["campaigns"], "campaign"),
            "pages": sorted(
                (
                    {
                        "path": p,
                        "title": titles.get(p),
                        "views": v,
                        "visitors": n,
                        "entries": e,
                    }
                    for p, (v, n, e) in merged["pages"].items()
                ),
                key=lambda r: (-r["views"], r["path"]),
            ),
            "devices": {d: r[1] for d, r in sorted(merged["devices"].items())},
            "events": dict(named.most_common()),
        }

    def to_json(self) -> dict[str, dict]:
        return {key: day.to_json() for key, day in self.days.items()}

    @classmethod
    def from_json(cls, data: dict[str, dict]) -> Stats:
        return cls({key: Day(value) for key, value in data.items()})


def _rows(table: dict[str, list], key: str) -> list[dict]:
    rows = [{key: k, "visits": r[0], "visitors": r[1]} for k, r in table.items()]
    return sorted(rows, key=lambda r: (-r["visitors"], -r["visits"], r[key]))
