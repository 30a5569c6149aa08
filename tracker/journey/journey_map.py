"""The journey map: the period's visitors from their first source, through the
first content they read, to the stage they reached; and the time to convert.

Pure. The first two columns come from the daily counters (`first_visits`:
each visitor of a day counted once, where their first visit of the day
began), so the bands add up to the period's visitors. The third follows the
people whose credited first visit (the first touch) began in the period, to
the furthest stage they have reached by now; the rest of each cell's
visitors are "not yet a lead". A cell where more people converted than its
visitors were counted (two people on one browser) shows the people: the map
never hides a contact.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

from . import stages
from .visits import DIRECT, parse_ts

COLUMNS = ("source", "content", "stage")
OTHER = "\x1fother"  # the key of a node grouping the smaller ones
STAGE_NODES = ("advocate", "customer", "lead", "visitor")  # visitor: not yet a lead
CONVERTED = frozenset(STAGE_NODES[:3])
TOP_SOURCES, TOP_CONTENTS = 6, 8


def _in_period(ts: str | None, since: str, until: str) -> bool:
    return bool(ts) and since[:10] <= ts[:10] <= until[:10]


def cohort(contacts: Iterable[dict], since: str, until: str) -> list[dict]:
    """The people whose first visit (the first touch) began in the period: where
    it came from and landed, and the furthest stage they reached by now.

    The stage is read from the contact's own record (each decision that moves
    a person on sets its time there), so no timeline is read for it.
    """
    found = []
    for contact in contacts:
        first = contact.get("first_touch") or {}
        if not first.get("landing") or not _in_period(first.get("ts"), since, until):
            continue  # the tracker never saw their first visit, or not in the period
        stage = stages.contact_stage(contact, [])
        found.append(
            {
                "id": contact["id"],
                "source": first.get("source") or DIRECT,
                "content": first["landing"],
                "stage": stage if stage in CONVERTED else "visitor",
            }
        )
    return found


def _top(counts: Counter, keep: int) -> set:
    named = [k for k, _ in counts.most_common() if k is not None]
    return set(named[:keep]) if len(named) > keep + 1 else set(named)


def build(
    first_visits: list[dict],
    people: list[dict],
    top_sources: int = TOP_SOURCES,
    top_contents: int = TOP_CONTENTS,
) -> dict[str, Any]:
    """The map's nodes per column and its bands, each with its count, share and
    the contacts it holds.

    first_visits: rows {"source", "landing", "visitors"} (a None source: days
    counted before first visits were); people: `cohort`'s rows. The biggest
    sources and contents are named, the rest grouped under OTHER.
    """
    cells: Counter = Counter()
    for row in first_visits:
        cells[(row["source"], row["landing"])] += row["visitors"]
    converted: dict[tuple, list[dict]] = {}
    for person in people:
        key = (person["source"], person["content"])
        converted.setdefault(key, []).append(person)
    by_source, by_content = Counter(), Counter()
    for key in set(cells) | set(converted):
        size = max(
            cells[key], sum(p["stage"] in CONVERTED for p in converted.get(key, []))
        )
        by_source[key[0]] += size
        by_content[key[1]] += size
    named_sources = _top(by_source, top_sources)
    named_contents = _top(by_content, top_contents)

    def node(column: str, key: Any, named: set) -> tuple[str, Any]:
        return (column, key if key is None or key in named else OTHER)

    bands: dict[tuple, dict] = {}

    def add(start: tuple, end: tuple, count: int, ids: list[str]) -> None:
        if count <= 0:
            return
        band = bands.setdefault((start, end), {"count": 0, "people": []})
        band["count"] += count
        band["people"].extend(ids)

    for key in set(cells) | set(converted):
        source = node("source", key[0], named_sources)
        content = node("content", key[1], named_contents)
        here = converted.get(key, [])
        reached = [p for p in here if p["stage"] in CONVERTED]
        size = max(cells[key], len(reached))
        add(source, content, size, [p["id"] for p in here])
        for stage in STAGE_NODES[:3]:
            ids = [p["id"] for p in reached if p["stage"] == stage]
            add(content, ("stage", stage), len(ids), ids)
        waiting = [p["id"] for p in here if p["stage"] not in CONVERTED]
        add(content, ("stage", "visitor"), size - len(reached), waiting)
    total = sum(b["count"] for (start, _), b in bands.items() if start[0] == "source")
    return {
        "total": total,
        "columns": _columns(bands),
        "bands": [
            {
                "from": start,
                "to": end,
                "count": band["count"],
                "share": band["count"] / total if total else None,
                "people": sorted(band["people"]),
            }
            for (start, end), band in sorted(
                bands.items(), key=lambda item: _band_order(item, bands)
            )
        ],
    }


def _columns(bands: dict[tuple, dict]) -> dict[str, list[dict]]:
    """Each column's nodes, biggest first (grouped and unrecorded ones last;
    the stages in their own order), with the visitors passing through."""
    counts: dict[tuple, int] = Counter()
    for (start, end), band in bands.items():
        if start[0] == "source":
            counts[start] += band["count"]
        counts[end] += band["count"]
    columns: dict[str, list[dict]] = {c: [] for c in COLUMNS}
    for (column, key), count in counts.items():
        columns[column].append({"column": column, "key": key, "count": count})
    for nodes in columns.values():
        nodes.sort(key=lambda n: _node_order(n["column"], n["key"], n["count"]))
    return columns


def _node_order(column: str, key: Any, count: int) -> tuple:
    if column == "stage":
        return (STAGE_NODES.index(key), 0, "")
    return (key is None or key == OTHER, key is None, -count, str(key))


def _band_order(item, bands) -> tuple:
    (start, end), band = item
    return (COLUMNS.index(start[0]), _node_order(*start, 0), _node_order(*end, 0))


def band_people(journey: dict[str, Any], start: tuple, end: tuple) -> list[str] | None:
    """The contacts a band holds (None: no such band)."""
    for band in journey["bands"]:
        if band["from"] == start and band["to"] == end:
            return band["people"]
    return None


# -- time to convert ------------------------------------------------------------


def spread(seconds: list[float]) -> dict[str, float] | None:
    """Median and quartiles (inclusive method) of durations; None for none."""
    if not seconds:
        return None
    if len(seconds) == 1:
        q1 = median = q3 = seconds[0]
    else:
        q1, median, q3 = statistics.quantiles(seconds, n=4, method="inclusive")
    return {"n": len(seconds), "q1": q1, "median": median, "q3": q3}


def _seconds(start: str, end: str) -> float:
    return max((parse_ts(end) - parse_ts(start)).total_seconds(), 0.0)


def time_to_convert(
    contacts: Iterable[dict], since: str, until: str
) -> list[dict[str, Any]]:
    """Per first source, and for all sources first (source None): from the first
    visit to becoming a lead, for the leads of the period, and from lead to
    customer, for the customers of the period."""
    to_lead: dict[Any, list[float]] = {None: []}
    to_customer: dict[Any, list[float]] = {None: []}
    for contact in contacts:
        first = contact.get("first_touch") or {}
        source = first.get("source") or DIRECT
        lead, customer = contact.get("lead_at"), contact.get("customer_at")
        if _in_period(lead, since, until) and first.get("ts"):
            for key in (None, source):
                to_lead.setdefault(key, []).append(_seconds(first["ts"], lead))
        if _in_period(customer, since, until) and lead:
            for key in (None, source):
                to_customer.setdefault(key, []).append(_seconds(lead, customer))
    keys = sorted(
        set(to_lead) | set(to_customer),
        key=lambda k: (k is not None, -len(to_lead.get(k, [])), str(k)),
    )
    return [
        {
            "source": key,
            "to_lead": spread(to_lead.get(key, [])),
            "to_customer": spread(to_customer.get(key, [])),
        }
        for key in keys
    ]
