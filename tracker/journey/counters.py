"""Counters folded from the observation stream, by UTC day.

The reports and the dashboard read these, never the raw events: folding costs
once per event, and a query costs per distinct combination of values in its
days, however many events are stored. Pure: no Flask, no storage.

Each day keeps a small cube: (source, campaign, landing page, page, device)
-> [pageviews, visitor numbers, entries]. Every pageview is credited to its
visit's source, campaign and landing page (visits and sources as
`visits.starts_visit` and `visits.source_of` define them; a day is folded on
its own, so a visit across midnight counts on each day), so a filter on any of
them narrows every panel at once. Visitor ids are replaced by small per-day
numbers, and a day forgets the ids themselves once late events are no longer expected
(today and yesterday stay open): the aggregates keep nothing that could be
matched back to a visitor. Cookieless ids change daily, so summing daily
visitors counts distinct visitors exactly; in consent mode someone who comes
on two days counts on each.
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Iterable
from typing import Any

from .visits import Source, source_of, starts_visit

OPEN_DAYS = 2
DIMENSIONS = ("source", "campaign", "landing", "page", "device")
SEP = "\x1f"


def _seconds(ts: str) -> int:
    """Seconds since midnight of an ISO timestamp (enough to split visits)."""
    return int(ts[11:13]) * 3600 + int(ts[14:16]) * 60 + int(ts[17:19])


class Day:
    """One day's cube, its engaged visitors, bots and named events."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        data = data or {}
        self.closed: bool = data.get("closed", False)
        self.bots: int = data.get("bots", 0)
        self.named: Counter = Counter(data.get("named", {}))
        self.titles: dict[str, str] = data.get("titles", {})
        self.count: int = data.get("count", 0)  # visitor numbers handed out
        self.engaged: set[int] = set(data.get("engaged", []))
        # (source, landing page) of each visitor's first visit of the day: the
        # journey map's first source and first content, one count per visitor.
        self.firsts: Counter = Counter(
            {_key(k): v for k, v in data.get("firsts", {}).items()}
        )
        self._cube: dict[tuple, list] | None = None
        self._stored: dict[str, list] | None = data.get("cube", {})
        # Open days only: visitor id -> number, paths read, current visit.
        self.numbers: dict[str, int] = data.get("numbers", {})
        self.paths: dict[int, set[str]] = {
            int(n): set(p) for n, p in data.get("paths", {}).items()
        }
        self.visits: dict[int, tuple[int, Source, str]] = {}  # at, source, landing
        self._rollups: dict[tuple, tuple] = {}  # filters -> rollup, while unchanged
        if self.closed and "rollup" in data:  # a new process's overview: no work
            views, visitors, engaged, groups = data["rollup"]
            self._rollups[()] = (
                views,
                visitors,
                engaged,
                [{sys.intern(v): tuple(r) for v, r in g.items()} for g in groups],
            )

    @property
    def cube(self) -> dict[tuple, list]:
        """Built from the stored cells on first use: a closed day with its rollup
        stored may never need them (a new process's unfiltered overview).

        A closed day's visitor numbers per cell are an array: a set costs 216 B
        empty and most cells hold one to three visitors (at 1M events a year of
        cubes took ~450 MB as sets of int objects with a string per key part).
        """
        if self._cube is None:
            kept = _numbers if self.closed else set
            stored, self._stored = self._stored or {}, None
            self._cube = {_key(k): [v[0], kept(v[1]), v[2]] for k, v in stored.items()}
        return self._cube

    def number(self, visitor: str) -> int:
        if self.closed or visitor not in self.numbers:
            self.count += 1
            if self.closed:
                return self.count - 1
            self.numbers[visitor] = self.count - 1
        return self.numbers[visitor]

    def add_pageview(self, event: dict) -> None:
        self._rollups.clear()
        first = self.closed or event["visitor"] not in self.numbers
        n = self.number(event["visitor"])
        path = event.get("path") or "/"
        at = _seconds(event["ts"])
        visit = self.visits.get(n)
        idle = None if visit is None else at - visit[0]
        entry = starts_visit(event, idle, visit[1] if visit else None)
        if entry:
            visit = (at, source_of(event), path)
        self.visits[n] = (at, *visit[1:])
        seen = self.paths.setdefault(n, set())
        if len(seen) < 2:
            seen.add(path)
            if len(seen) == 2:
                self.engaged.add(n)
        if event.get("title"):
            self.titles[path] = event["title"][:300]
        origin = visit[1]
        if first:
            self.firsts[(origin.source, path)] += 1
        key = (
            origin.source,
            origin.campaign or "",
            visit[2],
            path,
            event.get("device") or "other",
        )
        cell = self.cube.get(key)
        if cell is None:
            cell = self.cube[key] = [0, _numbers() if self.closed else set(), 0]
        cell[0] += 1
        if self.closed:  # a late pageview: its number is new to the day
            cell[1].append(n)
        else:
            cell[1].add(n)
        cell[2] += 1 if entry else 0

    def rollup(self, filters: dict[str, str]) -> tuple[int, int, int, list[dict]]:
        """The day under filters: pageviews, visitors, engaged visitors, and per
        dimension {value: (pageviews, visitors, entries)}.

        Kept until the day changes (a few filter sets at a time), so that a
        year's overview adds up 365 small tables instead of every cube cell.
        """
        key = tuple(sorted(filters.items()))
        if key in self._rollups:
            return self._rollups[key]
        views, visitors = 0, set()
        values: list[dict[str, list]] = [{} for _ in DIMENSIONS]
        for cell_key, (count, numbers, entries) in self.cube.items():
            if filters and not _matches(cell_key, filters):
                continue
            views += count
            visitors.update(numbers)
            for i, value in enumerate(cell_key):
                row = values[i].get(value)
                if row is None:
                    values[i][value] = [count, set(numbers), entries]
                else:
                    row[0] += count
                    row[1].update(numbers)
                    row[2] += entries
        groups = [{v: (r[0], len(r[1]), r[2]) for v, r in t.items()} for t in values]
        result = (views, len(visitors), len(visitors & self.engaged), groups)
        if len(self._rollups) >= 8:
            self._rollups.clear()
        self._rollups[key] = result
        return result

    def close(self) -> None:
        """Forget visitor ids and visit state: late events are no longer expected."""
        self.closed = True
        self.numbers, self.paths, self.visits = {}, {}, {}
        for cell in self.cube.values():
            cell[1] = _numbers(sorted(cell[1]))

    def to_json(self) -> dict[str, Any]:
        found = {"rollup": self.rollup({})} if self.closed else {}
        return {
            **found,
            "closed": self.closed,
            "bots": self.bots,
            "named": dict(self.named),
            "titles": self.titles,
            "count": self.count,
            "engaged": sorted(self.engaged),
            "firsts": {SEP.join(k): v for k, v in self.firsts.items()},
            "cube": self._stored
            if self._cube is None
            else {
                SEP.join(k): [v[0], sorted(v[1]), v[2]] for k, v in self._cube.items()
            },
            "numbers": self.numbers,
            "paths": {n: sorted(p) for n, p in self.paths.items() if len(p) < 2},
        }


def _key(text: str) -> tuple[str, ...]:
    """A cell's key from its text, each part shared by every cell that has it."""
    return tuple(sys.intern(part) for part in text.split(SEP))


def _numbers(found: Iterable[int] = ()) -> array:
    return array("I", found)


def _matches(key: tuple, filters: dict[str, str]) -> bool:
    return all(key[DIMENSIONS.index(d)] == v for d, v in filters.items())


class Stats:
    """Everything the funnel, sources and posts panels need, per day."""

    def __init__(self, days: dict[str, Day] | None = None) -> None:
        self.days: dict[str, Day] = days or {}

    def add(self, event: dict[str, Any]) -> None:
        key = event["ts"][:10]
        day = self.days.get(key)
        if day is None:
            day = self.days[key] = Day()
        kind = event.get("type")
        if kind == "bot":
            day.bots += 1
        elif kind == "event":
            day.named[event.get("name") or "?"] += 1
        elif kind == "pageview" and event.get("visitor"):
            day.add_pageview(event)

    def close_before(self, day: str) -> None:
        """Close the days before `day` (an ISO date).

        Called after a whole fold, never during one: each server process
        writes its own journal file, so a fold reads one file's days before
        another's, and a day must keep its visitor ids until every file is read.
        """
        for key, stats in self.days.items():
            if key < day and not stats.closed:
                stats.close()

    def summary(
        self,
        since: str | None = None,
        until: str | None = None,
        filters: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Return the totals of the days in [since, until] (ISO dates, inclusive).

        filters narrows every number to pageviews whose visit matches, e.g.
        {"source": "facebook", "device": "mobile"}; the visitors by their first
        visit of the day (`first_visits`) are given without filters only.
        """
        filters = {d: v for d, v in (filters or {}).items() if d in DIMENSIONS and v}
        # [pageviews, visitors summed over days, entries]; visitor numbers are
        # per day, so each day's distinct count adds up without crossing days.
        groups: dict[str, dict[str, list]] = {d: {} for d in DIMENSIONS}
        totals = {"pageviews": 0, "visitors": 0, "engaged": 0, "bots": 0}
        days, titles, named = [], {}, Counter()
        firsts: Counter = Counter()
        unrecorded = 0  # visitors of days kept before first visits were counted
        for key, day in sorted(self.days.items()):
            if (since and key < since[:10]) or (until and key > until[:10]):
                continue
            views, visitors, engaged, values = day.rollup(filters)
            for dimension, table in zip(DIMENSIONS, values, strict=True):
                group = groups[dimension]
                for value, (count, seen, entries) in table.items():
                    row = group.get(value)
                    if row is None:
                        group[value] = [count, seen, entries]
                    else:
                        row[0] += count
                        row[1] += seen
                        row[2] += entries
            if not filters:
                firsts.update(day.firsts)
                unrecorded += visitors - sum(day.firsts.values())
            totals["pageviews"] += views
            totals["visitors"] += visitors
            totals["engaged"] += engaged
            totals["bots"] += day.bots
            days.append({"day": key, "pageviews": views, "visitors": visitors})
            titles.update(day.titles)
            named.update(day.named)
        return {
            "filters": filters,
            "pageviews": totals["pageviews"],
            "bots": totals["bots"],
            "visitors": totals["visitors"],
            "engaged_visitors": totals["engaged"],
            "days": days,
            "sources": _rows(groups["source"], "source"),
            "campaigns": _rows(
                {k: v for k, v in groups["campaign"].items() if k}, "campaign"
            ),
            "landings": _rows(groups["landing"], "path"),
            "pages": sorted(
                (
                    {
                        "path": p,
                        "title": titles.get(p),
                        "views": r[0],
                        "visitors": r[1],
                        "entries": r[2],
                    }
                    for p, r in groups["page"].items()
                ),
                key=lambda r: (-r["views"], r["path"]),
            ),
            "devices": {d: r[1] for d, r in sorted(groups["device"].items())},
            "events": dict(named.most_common()),
            "first_visits": first_visits(firsts, unrecorded),
        }

    def to_json(self) -> dict[str, dict]:
        return {key: day.to_json() for key, day in self.days.items()}

    @classmethod
    def from_json(cls, data: dict[str, dict]) -> Stats:
        return cls({key: Day(value) for key, value in data.items()})


def first_visits(firsts: Counter, unrecorded: int) -> list[dict]:
    """Visitors by where their first visit of the day began (source, landing
    page); those of days kept before this was counted in one row of None."""
    rows = [
        {"source": source, "landing": landing, "visitors": n}
        for (source, landing), n in firsts.most_common()
    ]
    if unrecorded > 0:
        rows.append({"source": None, "landing": None, "visitors": unrecorded})
    return rows


def _rows(table: dict[str, list], key: str) -> list[dict]:
    """Rows of a grouping: visits are the entries (the pageviews that began a visit)."""
    rows = [{key: k, "visits": r[2], "visitors": r[1]} for k, r in table.items()]
    return sorted(rows, key=lambda r: (-r["visitors"], -r["visits"], r[key]))
