"""What the dashboard counts of a person, folded one decision at a time.

The overview, the journey map, the reports and the stage filter read a few
fields of each contact and two kinds of its decisions (purchases, downloads).
Reading every contact with every decision for that cost seconds and gigabytes
at 100k contacts; the storage keeps each contact's facts beside it instead,
updated by `step` as each decision is saved, so counting people reads a few
hundred bytes per person. A person's facts are a slim contact (the fields
below, read with the same `.get` as a whole contact) plus (lists left out
while empty):

- `purchases`: their purchase and booking decisions with a value, in the order
  made (ts, type, value, currency, order_id), for revenue and RFM;
- `downloads`: their downloads ([ts, guide]);
- `reports`: the bounces and complaints about mail to them (the decisions);
- `sequences`: the outline of their record of each sequence they entered;
- `marks`: the decision types that move a stage, and `promoter` when a
  feedback decision scored as one, so the stage needs no timeline;
- `stage`: the furthest stage (`stages.contact_stage` of the whole timeline);
- `seen`: the last decision's time, else when the contact was created;
- `span`: the first and last day anything counted happened to them (left out
  if nothing did), so a backend can skip people with nothing in a period.

Pure: the same `step` runs in every backend and in `of` for a whole timeline.
"""

from __future__ import annotations

from collections.abc import Iterable

from . import stages
from .sequence_report import outline

# The facts' shape: moved by any change to what `step` keeps, so that facts
# kept by an earlier version (a snapshot, a column) are worked out again.
SHAPE = 1

FIELDS = (
    "id",
    "email",
    "first_name",
    "status",
    "lead_at",
    "customer_at",
    "advocate_at",
    "first_touch",
    "last_touch",
    "lead_page",
    "device",
    "feedback",
    "referred_by",
    "referral_credited",
    "quotes",
)
# Of a touch, what the reports credit: the first's time starts the journey map.
TOUCHES = {
    "first_touch": ("source", "campaign", "landing", "ts"),
    "last_touch": ("source", "campaign", "landing"),
}
PURCHASES = ("purchase", "booking")
REPORTS = ("bounce", "complaint")
HAVING = (
    "purchases",
    "downloads",
    "reports",
    "quotes",
    "sequences",
)  # what people_facts picks by
KEPT = ("ts", "type", "value", "currency", "order_id")
MARKS = stages.STAGE_EVENTS


def step(facts: dict | None, contact: dict | None, event: dict | None) -> dict:
    """The facts after a saved record: the contact's new state, a decision, or both."""
    new = dict(facts) if facts else {}
    if contact is not None:
        for field in FIELDS:
            value = contact.get(field)
            if field in TOUCHES and value:
                value = {k: value[k] for k in TOUCHES[field] if value.get(k)}
            if value is None or value == [] or value == {}:
                new.pop(field, None)  # read with .get: absent is as empty
            else:
                new[field] = value
        found = contact.get("sequences")
        if found:
            new["sequences"] = {n: outline(r) for n, r in found.items()}
        else:
            new.pop("sequences", None)
        new.setdefault("seen", contact.get("created"))
    if event is not None:
        kind = event.get("type")
        if kind in PURCHASES and event.get("value") is not None:
            kept = {k: event[k] for k in KEPT if event.get(k) is not None}
            new["purchases"] = [*new.get("purchases", ()), kept]
        elif kind == "download":
            found = [event["ts"], event.get("guide")]
            new["downloads"] = [*new.get("downloads", ()), found]
        elif kind in REPORTS:
            new["reports"] = [*new.get("reports", ()), event]
        if kind in MARKS and kind not in new.get("marks", ()):
            new["marks"] = sorted({*new.get("marks", ()), kind})
        if kind == "feedback" and stages.is_promoter(event.get("score")):
            new["promoter"] = True
        if event.get("ts"):
            new["seen"] = event["ts"]
    new["stage"] = stages.stage_of(
        new, new.get("marks", ()), new.get("promoter", False)
    )
    found = span(new)
    if found is None:
        new.pop("span", None)
    else:
        new["span"] = found
    return new


def of(contact: dict, decisions: Iterable[dict]) -> dict:
    """A contact's facts from its whole timeline (decisions in the order made)."""
    facts = None
    for event in decisions:
        facts = step(facts, None, event)
    return step(facts, contact, None)


def span(facts: dict) -> list[str] | None:
    """[first day, last day] of what a period's numbers may count, or None."""
    days = [
        facts.get(field)
        for field in ("lead_at", "customer_at", "advocate_at")
        if facts.get(field)
    ]
    for nested in ("feedback", "first_touch"):
        ts = (facts.get(nested) or {}).get("ts")
        if ts:
            days.append(ts)
    days += [p["ts"] for p in facts.get("purchases") or () if p.get("ts")]
    days += [d[0] for d in facts.get("downloads") or ()]
    if not days:
        return None
    days = [d[:10] for d in days]
    return [min(days), max(days)]


def active(facts: dict, since: str | None, until: str | None) -> bool:
    """True if something the period's numbers count may have happened in it."""
    found = facts.get("span")
    if not found:
        return False
    return (until is None or found[0] <= until[:10]) and (
        since is None or found[1] >= since[:10]
    )
