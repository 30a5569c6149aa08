"""The journey model: stages, lead score, RFM, attribution, funnel and NPS.

Visits and their sources are `visits.py`'s; attribution credits them.

Pure functions over plain records, so that the dashboard, the commands and
the plugin agree on one definition of each stage, and tests need no app.
Everything is linear (or n log n) in the records given, to run over 100k contacts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from .visits import DIRECT, Touch, parse_ts

STAGES = ("visitor", "engaged", "lead", "customer", "advocate")
_LEAD_EVENTS = frozenset({"confirm", "download", "quote", "import"})
_CUSTOMER_EVENTS = frozenset({"purchase", "booking"})
STAGE_EVENTS = _LEAD_EVENTS | _CUSTOMER_EVENTS | {"referral"}  # a stage's decisions
# Event type -> LeadScoreWeights field; a pending "signup" earns nothing.
_SCORED = {"confirm": "signup"} | {
    t: t for t in ("pageview", "click", "download", "quote", "feedback")
}
# RFM bands: recency upper bounds (score 5 down to 2), then lower bounds for 2..5.
RECENCY_DAYS = (30, 90, 180, 365)
FREQUENCY = (2, 3, 4, 6)
MONETARY = (100, 300, 1000, 3000)


@dataclass(frozen=True)
class Thresholds:
    engaged_pageviews: int = 2
    engaged_return_days: int = 2
    promoter_score: int = 9
    detractor_score: int = 6


DEFAULT_THRESHOLDS = Thresholds()


def visitor_stage(
    pageviews: list[dict], thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> str:
    """Return "engaged" for an anonymous visitor who came back or read several pages.

    Pages are distinct paths on one UTC day, so reloading a page does not count twice.
    """
    pages_by_day: dict[str, set[str]] = {}
    for pv in pageviews:
        if pv.get("type", "pageview") != "pageview":
            continue
        day = parse_ts(pv["ts"]).astimezone(UTC).date().isoformat()
        pages_by_day.setdefault(day, set()).add(pv.get("path") or "")
    if len(pages_by_day) >= thresholds.engaged_return_days:
        return "engaged"
    if any(len(p) >= thresholds.engaged_pageviews for p in pages_by_day.values()):
        return "engaged"
    return "visitor"


def contact_stage(
    contact: dict, timeline: list[dict], thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> str:
    """Return the highest stage a contact reached, from the record and its timeline."""
    types = {ev.get("type") for ev in timeline}
    promoter = any(
        is_promoter(ev.get("score"), thresholds)
        for ev in timeline
        if ev.get("type") == "feedback"
    )
    return stage_of(contact, types & STAGE_EVENTS, promoter, thresholds)


def is_promoter(score, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    return score is not None and score >= thresholds.promoter_score


def stage_of(
    contact: dict,
    marks: Iterable[str],
    promoter: bool,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> str:
    """The stage from the record, the stage-moving decision types the timeline
    holds (marks) and whether a feedback decision scored as a promoter.

    A contact is at least "engaged" (they filled in a form). Unsubscribing
    withdraws permission, not history, so it never lowers the stage.
    """
    types = set(marks)
    if contact.get("feedback"):
        promoter = promoter or is_promoter(contact["feedback"].get("score"), thresholds)
    if contact.get("advocate_at") or promoter or "referral" in types:
        return "advocate"
    if contact.get("customer_at") or types & _CUSTOMER_EVENTS:
        return "customer"
    if contact.get("lead_at") or contact.get("status") == "confirmed":
        return "lead"
    return "lead" if types & _LEAD_EVENTS else "engaged"


def stage_counts(stages: Iterable[str]) -> dict[str, int]:
    """Count people who reached at least each stage, the numbers a funnel needs."""
    current = Counter(stages)
    counts: dict[str, int] = {}
    running = 0
    for stage in reversed(STAGES):
        running += current.get(stage, 0)
        counts[stage] = running
    return {stage: counts[stage] for stage in STAGES}


@dataclass(frozen=True)
class LeadScoreWeights:
    pageview: float = 1
    click: float = 3
    download: float = 10
    signup: float = 15
    quote: float = 20
    feedback: float = 5
    half_life_days: float = 30

    def __post_init__(self) -> None:
        if self.half_life_days <= 0:
            raise ValueError(f"half_life_days must be > 0, got {self.half_life_days!r}")

    def points(self, event_type: str | None) -> float:
        """Return the undecayed points; the confirm is the signup that counts."""
        name = _SCORED.get(event_type or "")
        return getattr(self, name) if name else 0.0


def lead_score(
    events: list[dict], now: datetime, weights: LeadScoreWeights | None = None
) -> int:
    """Sum decayed points over observations and timeline events: recent interest wins.

    Each event's points halve every `half_life_days`; events dated after `now`
    count as fresh rather than growing. Bots and unknown types score 0.
    """
    weights = weights or LeadScoreWeights()
    now = parse_ts(now)
    total = 0.0
    for ev in events:
        points = weights.points(ev.get("type"))
        if points:
            age = max((now - parse_ts(ev["ts"])).total_seconds() / 86400, 0.0)
            total += points * 0.5 ** (age / weights.half_life_days)
    return max(round(total), 0)


@dataclass(frozen=True)
class RFM:
    recency_days: int
    frequency: int
    monetary: float
    r: int
    f: int
    m: int
    segment: str


def rfm_segment(r: int, f: int) -> str:
    """Name the segment for R and F scores; the first matching row wins (see `rfm`)."""
    if r >= 4 and f >= 4:
        return "champions"
    if f >= 4:
        return "loyal"
    if r >= 4 and f == 1:
        return "new"
    if r >= 4:
        return "promising"
    if r <= 2 and f >= 3:
        return "at risk"
    if r <= 2:
        return "hibernating"
    return "needs attention"


def rfm(purchases: list[dict], now: datetime) -> RFM | None:
    """Score a customer's recency, frequency and monetary value on fixed 1-5 bands.

    Only purchase/booking events with a value count; an order_id seen twice
    (API call and CSV import of the same order) counts once. Fixed bands keep
    scores comparable between reports, unlike quintiles of the current base.

    score           5      4          3        2        1
    recency days    0-30   31-90      91-180   181-365  366+
    purchases       6+     4-5        3        2        1
    monetary (EUR)  3000+  1000-2999  300-999  100-299  0-99

    Segments (the classic RFM table, first matching row wins):
    champions R>=4 and F>=4 | loyal F>=4 | new R>=4 and F=1 | promising R>=4 |
    at risk R<=2 and F>=3 | hibernating R<=2 | needs attention otherwise.
    """
    seen: set[str] = set()
    last: datetime | None = None
    frequency, monetary = 0, 0.0
    for ev in purchases:
        if ev.get("type") not in _CUSTOMER_EVENTS or ev.get("value") is None:
            continue
        order = ev.get("order_id")
        if order and order in seen:
            continue
        seen.add(order)
        ts = parse_ts(ev["ts"])
        last = max(last, ts) if last else ts
        frequency += 1
        monetary += float(ev["value"])
    if last is None:
        return None
    recency = max((parse_ts(now) - last).days, 0)
    r = 5 - sum(recency > bound for bound in RECENCY_DAYS)
    f = 1 + sum(frequency >= bound for bound in FREQUENCY)
    m = 1 + sum(monetary >= bound for bound in MONETARY)
    return RFM(recency, frequency, round(monetary, 2), r, f, m, rfm_segment(r, f))


def attribute(
    visits: list[Touch], conversion_ts: str | datetime
) -> dict[str, Touch | None]:
    """Credit a conversion to its first visit and its last non-direct visit.

    Visits starting at or before the conversion count. The last touch falls
    back to a direct visit only when every visit was direct, so a bookmark
    return does not hide the campaign that brought the person.
    """
    cutoff = parse_ts(conversion_ts)
    timed = sorted((parse_ts(t.ts), i, t) for i, t in enumerate(visits))
    before = [t for ts, _, t in timed if ts <= cutoff]
    if not before:
        return {"first": None, "last": None}
    non_direct = [t for t in before if t.source != DIRECT]
    return {"first": before[0], "last": (non_direct or before)[-1]}


@dataclass(frozen=True)
class Step:
    stage: str
    count: int
    rate_from_previous: float | None
    rate_from_top: float | None
    drop_off: int


def funnel(counts: dict[str, int]) -> list[Step]:
    """Return the five stages in order with conversion and drop-off between them.

    The funnel counts people moving through the stages: of the people seen,
    how many reached engaged or beyond, lead or beyond, customer or beyond,
    advocate. Whoever reached a stage passed the ones before it, so each step
    counts at least the people of the step after it (a sale the shop recorded
    for someone the tracker never saw still makes a visitor); no step ever
    exceeds the step before. `counts` are people who reached at least each
    stage (see `stage_counts`); missing stages count 0. Rates are None where
    the denominator is 0.
    """
    reached: dict[str, int] = {}
    beyond = 0
    for stage in reversed(STAGES):
        beyond = max(counts.get(stage, 0), beyond)
        reached[stage] = beyond
    top = reached[STAGES[0]]
    steps: list[Step] = []
    previous: int | None = None
    for stage in STAGES:
        count = reached[stage]
        rate = count / previous if previous else None
        drop = max(previous - count, 0) if previous is not None else 0
        steps.append(Step(stage, count, rate, count / top if top else None, drop))
        previous = count
    return steps


def nps(scores: list[int], thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict:
    """Return promoters, passives, detractors and the Net Promoter Score (-100..100)."""
    valid = [s for s in scores if s is not None]
    promoters = sum(s >= thresholds.promoter_score for s in valid)
    detractors = sum(s <= thresholds.detractor_score for s in valid)
    total = len(valid)
    return {
        "promoters": promoters,
        "passives": total - promoters - detractors,
        "detractors": detractors,
        "total": total,
        "nps": round(100 * (promoters - detractors) / total) if total else None,
    }
