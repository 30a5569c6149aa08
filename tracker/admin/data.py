"""What the dashboard's pages show, read from the storage's aggregates and indexes.

No page scans the events, except one contact's own timeline. The journey's
rules (stages, scores, the report) come from the pure core; this module only
fetches, filters and keeps what is costly until it changes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app

from .. import clock
from ..db import get_storage
from ..imports import spend
from ..journey import money, stages
from ..journey import report as journey_report
from ..journey.counters import DIMENSIONS
from ..storage.base import matches
from ..web.site import manifest

PERIODS = ("today", "7d", "30d", "month", "custom")
SEGMENTS = (
    "champions",
    "loyal",
    "new",
    "promising",
    "at risk",
    "hibernating",
    "needs attention",
)


def period_range(args) -> tuple[str, date, date]:
    """Return (period name, first day, last day) from the query string."""
    today = clock.now().date()
    period = args.get("period", "30d")
    if period == "custom":
        try:
            start = date.fromisoformat(args.get("from", ""))
            end = date.fromisoformat(args.get("to", ""))
        except ValueError:
            period = "30d"
        else:
            if start <= end and (end - start).days <= 3660:
                return period, start, end
            period = "30d"
    if period == "today":
        return period, today, today
    if period == "7d":
        return period, today - timedelta(days=6), today
    if period == "month":
        return period, today.replace(day=1), today
    return "30d", today - timedelta(days=29), today


def current_filters(args) -> dict[str, str]:
    return {d: args[d][:300] for d in DIMENSIONS if args.get(d)}


def overview_data(args) -> dict[str, Any]:
    """Everything the overview shows for the query string's period and filters."""
    period, start, end = period_range(args)
    filters = current_filters(args)
    touch = (
        args.get("touch") if args.get("touch") in journey_report.TOUCHES else "first"
    )
    storage = get_storage()
    summary = storage.summary(start.isoformat(), end.isoformat(), filters)
    span = (end - start).days + 1
    prev_start, prev_end = start - timedelta(days=span), start - timedelta(days=1)
    previous = storage.summary(prev_start.isoformat(), prev_end.isoformat(), filters)
    people = people_numbers(storage, start, end, filters, touch)
    money_part = {
        "currency": current_app.config["CURRENCY"],
        "revenue": people["revenue"],
        "spend": spend.load(storage),
    }
    data = journey_report.build(
        summary,
        None,
        manifest(),
        start.isoformat(),
        end.isoformat(),
        touch=touch,
        people=people["report"],
        money_part=money_part,
    )
    data.update(
        period=period,
        start=start.isoformat(),
        end=end.isoformat(),
        filters=filters,
        previous={
            "pageviews": previous["pageviews"],
            "visitors": previous["visitors"],
            "days": previous["days"],
        },
        guides=people["guides"],
        today=people["today"],
    )
    return data


_people_cache: dict[tuple, dict] = {}


def people_numbers(storage, start: date, end: date, filters: dict, touch: str) -> dict:
    """The overview's numbers about people, kept until a contact changes.

    Read from the people's facts (`journey.facts`), and only of those with
    something in the period: a few hundred bytes each, not every timeline.
    """
    version = storage.people_version()
    today = clock.now().date()
    key = (
        id(storage),
        version,
        start,
        end,
        tuple(sorted(filters.items())),
        touch,
        today,
    )
    if version is not None and key in _people_cache:
        return _people_cache[key]
    since, until = start.isoformat(), end.isoformat()

    def matching(found):
        return [f for f in found if journey_report.matches(f, filters, touch)]

    people = matching(storage.people_facts(since, until))
    referred = matching(storage.people_facts(referred=True))
    todays = people
    if not start <= today <= end:
        todays = matching(storage.people_facts(today.isoformat(), today.isoformat()))
    numbers = {
        "report": journey_report.people_part(people, since, until, touch, referred),
        "guides": guide_downloads(people, start, end),
        "today": todays_people(todays),
        "revenue": money.revenue(people, since, until, touch),
    }
    if version is not None:
        if len(_people_cache) > 64:
            _people_cache.clear()
        _people_cache[key] = numbers
    return numbers


def guide_downloads(people: list[dict], start: date, end: date) -> list:
    """Downloads per guide in the period, from the people's facts."""
    first, last = start.isoformat(), end.isoformat()
    counts: Counter = Counter(
        guide or "?"
        for person in people
        for ts, guide in person.get("downloads") or ()
        if first <= ts[:10] <= last
    )
    guides = manifest().get("guides") or {}
    rows = [
        {
            "guide": slug,
            "title": (guides.get(slug) or {}).get("title", slug),
            "downloads": n,
        }
        for slug, n in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r["downloads"], r["guide"]))


def todays_people(contacts: list[dict]) -> dict[str, list[dict]]:
    today = clock.now().date().isoformat()
    found = {}
    for kind, field in (("leads", "lead_at"), ("customers", "customer_at")):
        of_today = [c for c in contacts if (c.get(field) or "")[:10] == today]
        found[kind] = sorted(of_today, key=lambda c: c[field])[:10]
    return found


def describe(contact: dict, decisions: list[dict], now: datetime) -> dict:
    """One row of the contact list: stage, lead score, RFM segment, last seen."""
    value = stages.rfm(
        [e for e in decisions if e["type"] in ("purchase", "booking")], now
    )
    return {
        "contact": contact,
        "stage": stages.contact_stage(contact, decisions),
        "segment": value.segment if value else "",
        "score": stages.lead_score(decisions, now),
        "last_seen": decisions[-1]["ts"] if decisions else contact["created"],
    }


def described(people, now: datetime) -> list[dict]:
    """A row (stage, score, segment, last seen) for every contact, each worked
    out again only when its contact changed.

    A row is kept under its contact's last update, number of decisions and
    the day (the score decays by day; every change of a contact updates it or
    adds a decision), so after one signup only that person is worked out
    again; the row always shows the contact as stored now. The memo belongs
    to the app and holds the contacts of the last pass alone, so an erased
    person leaves it at the next look.
    """
    memo = current_app.extensions.get("polku.contact_rows", {})
    fresh: dict[str, tuple[tuple, dict]] = {}
    today = now.date()
    for contact, decisions in people:
        key = (contact.get("updated"), len(decisions), today)
        hit = memo.get(contact["id"])
        if hit is None or hit[0] != key:
            hit = (key, describe(contact, decisions, now))
        hit[1]["contact"] = contact
        fresh[contact["id"]] = hit
    current_app.extensions["polku.contact_rows"] = fresh
    return [row for _, row in fresh.values()]


def contact_rows(
    args, page: int | None = None, size: int = 50, band: dict | None = None
) -> tuple[list, int]:
    """Return the matching contacts, most recently seen first, and how many match;
    `band`: a band of the journey map's (its ids, start and end)."""
    query = (args.get("q") or "").strip().lower()[:200]
    stage = args.get("stage") or ""
    segment = args.get("segment") or ""
    storage, now = get_storage(), clock.now()
    if band is not None or segment:
        return chosen_rows(storage, now, query, stage, segment, band, page, size)
    if page is not None:
        # Paged by the storage's index: only this page's people are read.
        offset = (page - 1) * size
        people, total = storage.contacts_page(offset, size, query, stage)
        return [describe(c, decided, now) for c, decided in people], total
    rows = [
        row
        for row in described(storage.iter_people(), now)
        if (
            not query
            or query in row["contact"]["email"]
            or query in (row["contact"].get("first_name") or "").lower()
        )
        and (not stage or row["stage"] == stage)
    ]
    rows.sort(key=lambda row: row["last_seen"], reverse=True)
    return rows, len(rows)


def chosen_rows(storage, now, query, stage, segment, band, page, size):
    """A segment's or a band's contacts: chosen by their facts (a segment's are
    customers; a band's, people of its period), then only the page's read."""
    since, until = (band["start"], band["end"]) if band else (None, None)
    customers = ("customer", "advocate") if segment else ()
    chosen = [
        found
        for found in storage.people_facts(since, until, stages=customers)
        if (band is None or found["id"] in band["ids"])
        and (not query or matches(found, query))
        and (not stage or found["stage"] == stage)
        and (not segment or segment_of(found, now) == segment)
    ]
    chosen.sort(key=lambda found: found["seen"], reverse=True)
    total = len(chosen)
    if page is not None:
        chosen = chosen[(page - 1) * size : page * size]
    rows = []
    for found in chosen:
        contact = storage.get_contact(found["id"])
        if contact is not None:
            rows.append(describe(contact, storage.decisions(found["id"]), now))
    return rows, total


def segment_of(found: dict, now: datetime) -> str:
    value = stages.rfm(found.get("purchases") or [], now)
    return value.segment if value else ""


def one_contact(contact: dict, events: list[dict]) -> dict[str, Any]:
    """A contact's page: the contact, its timeline, stage, lead score and value."""
    now = clock.now()
    purchases = [e for e in events if e["type"] in ("purchase", "booking")]
    return {
        "contact": contact,
        "timeline": events,
        "stage": stages.contact_stage(contact, events),
        "score": stages.lead_score(events, now),
        "rfm": stages.rfm(purchases, now),
    }
