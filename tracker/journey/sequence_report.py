"""What each sequence did: people entered, emails sent, clicks, unsubscribes,
exits by conversion, and who became a lead or a customer soon after entering.

Pure: the sequences, the contacts (their ``sequences`` records) and the
clicks counted per sequence in, one row per sequence out. "Within 30 days"
counts people whose lead or customer moment came after they entered and no
later than WINDOW after; the share is of the people who entered at least
WINDOW ago or have already converted, so a sequence started last week is
not shown as failing for lack of time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from .enrolment import SENT, time_of

WINDOW = timedelta(days=30)
CONVERSION_EXITS = {"conversion", "stage:customer", "stage:advocate"}


def _became(contact: Mapping, field: str, entered: datetime) -> bool:
    moment = time_of(contact.get(field))
    return moment is not None and entered <= moment <= entered + WINDOW


def outline(record: Mapping) -> dict:
    """What the report reads of a person's record of one sequence: its state,
    when and why it ended or began, how often they entered, emails sent. The
    people's facts keep this outline instead of the record (an outline is its
    own outline)."""
    if "entries" in record:
        return dict(record)
    found = {k: record[k] for k in ("state", "entered", "reason") if record.get(k)}
    found["entries"] = 1 + len(record.get("past") or [])
    found["sent"] = sum(
        step.get("state") == SENT for step in (record.get("steps") or {}).values()
    )
    return found


def report(
    sequences: Iterable[Mapping],
    contacts: Iterable[Mapping],
    clicks: Mapping[str, int],
    now: datetime,
) -> list[dict]:
    rows = {
        s["name"]: {
            "name": s["name"],
            "title": s.get("title") or s["name"],
            "trigger": s["trigger"],
            "steps": len(s.get("steps") or []),
            "entered": 0,
            "active": 0,
            "finished": 0,
            "sent": 0,
            "clicks": int(clicks.get(s["name"], 0)),
            "unsubscribed": 0,
            "exited_by_conversion": 0,
            "leads": 0,
            "customers": 0,
            "settled": 0,
        }
        for s in sequences
    }
    for contact in contacts:
        for name, record in (contact.get("sequences") or {}).items():
            row = rows.get(name)
            if row is None:
                continue
            record = outline(record)
            row["entered"] += record["entries"]
            row["active"] += record.get("state") == "active"
            row["finished"] += record.get("state") == "finished"
            row["sent"] += record["sent"]
            row["unsubscribed"] += record.get("state") == "left"
            row["exited_by_conversion"] += record.get("reason") in CONVERSION_EXITS
            entered = time_of(record.get("entered"))
            if entered is None:
                continue
            lead = _became(contact, "lead_at", entered)
            customer = _became(contact, "customer_at", entered)
            row["leads"] += lead
            row["customers"] += customer
            row["settled"] += lead or customer or entered + WINDOW <= now
    for row in rows.values():
        settled = row.pop("settled")
        row["lead_share"] = row["leads"] / settled if settled else None
        row["customer_share"] = row["customers"] / settled if settled else None
    return list(rows.values())


def clicks_by_sequence(events: Iterable[Mapping]) -> Counter:
    """Email clicks per sequence, from click observations (campaign `seq:<name>:…`)."""
    counted: Counter = Counter()
    for event in events:
        if event.get("type") != "click":
            continue
        campaign = str((event.get("props") or {}).get("email") or "")
        if campaign.startswith("seq:"):
            counted[campaign.split(":")[1]] += 1
    return counted
