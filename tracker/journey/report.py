"""The owner's view of the journey: funnel, sources and posts, from aggregates.

Pure: takes the storage's summary, the contacts and the manifest, returns
plain data for `polku report`, its email and the dashboard alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from . import earnings, money, stages
from .visits import DIRECT

TOUCHES = ("first", "last")
_STAGE_OF = {"leads": "lead", "customers": "customer", "advocates": "advocate"}


def _in_period(ts: str | None, since: str | None, until: str | None) -> bool:
    if not ts:
        return False
    return (since is None or ts[:10] >= since[:10]) and (
        until is None or ts[:10] <= until[:10]
    )


def matches(contact: dict, filters: dict[str, str], touch: str = "first") -> bool:
    """True if the contact's credited visit fits the dashboard's filters."""
    if not filters:
        return True
    touched = contact.get(f"{touch}_touch") or {}
    values = {
        "source": touched.get("source") or DIRECT,
        "campaign": touched.get("campaign") or "",
        "landing": touched.get("landing"),
        "page": contact.get("lead_page"),
        "device": contact.get("device"),
    }
    return all(values.get(d) == v for d, v in filters.items())


def contact_counts(
    contacts: Iterable[dict], since: str | None, until: str | None, touch: str
) -> dict[str, Any]:
    """Count leads, customers and advocates of the period, and credit their sources."""
    counts = Counter()
    furthest = Counter()  # each contact once, at the furthest stage of the period
    credited: dict[str, dict[str, Counter]] = {
        "source": {},
        "campaign": {},
        "landing": {},
    }
    by_page: Counter = Counter()
    new_customers = []
    steps = (
        ("leads", "lead_at"),
        ("customers", "customer_at"),
        ("advocates", "advocate_at"),
    )
    for contact in contacts:
        reached = [n for n, f in steps if _in_period(contact.get(f), since, until)]
        if not reached:  # most contacts, on most days: nothing more to work out
            continue
        furthest[_STAGE_OF[reached[-1]]] += 1
        touched = contact.get(f"{touch}_touch") or {}
        keys = {
            "source": touched.get("source") or DIRECT,
            "campaign": touched.get("campaign"),
            "landing": touched.get("landing"),
        }
        for name in reached:
            counts[name] += 1
            for dimension, key in keys.items():
                if key:
                    credited[dimension].setdefault(key, Counter())[name] += 1
        if "leads" in reached and contact.get("lead_page"):
            by_page[contact["lead_page"]] += 1
        if "customers" in reached and stages.contact_stage(contact, []) in (
            "customer",
            "advocate",
        ):
            new_customers.append(
                {
                    "id": contact["id"],
                    "email": contact["email"],
                    "first_name": contact.get("first_name"),
                    "since": contact["customer_at"],
                }
            )
    return {
        "counts": counts,
        "reached": stages.stage_counts(furthest.elements()),
        "credited": credited,
        "by_page": by_page,
        "new_customers": sorted(new_customers, key=lambda c: c["since"]),
    }


def people_part(
    contacts: Iterable[dict],
    since: str | None,
    until: str | None,
    touch: str,
    referred: Iterable[dict] | None = None,
) -> dict[str, Any]:
    """The report's numbers about people; they change only when someone decides.

    contacts: whole contacts or their facts (`facts.py`), at least everyone with
    something in the period; referred: everyone referred and their referrers,
    for the referrals (of all time), when contacts are not everyone.
    """
    contacts = list(contacts)
    people = contact_counts(contacts, since, until, touch)
    people["feedback"] = feedback(contacts, since, until)
    people["referrals"] = referrals(contacts if referred is None else list(referred))
    return people


def build(
    summary: dict[str, Any],
    contacts: Iterable[dict] | None,
    manifest: dict[str, Any],
    since: str | None = None,
    until: str | None = None,
    touch: str = "first",
    people: dict[str, Any] | None = None,
    money_part: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the report: totals, the funnel, sources, campaigns and posts.

    Pass `people` (from people_part) instead of contacts to reuse it; with
    `money_part` (money.part), revenue and the campaigns' spend, cost per lead
    and per customer and ROAS too, and the revenue, average order and revenue
    per visitor of the period and of each source, landing page and post.
    """
    if people is None:
        people = people_part(contacts or [], since, until, touch)
    counts = people["counts"]
    # People moving through the stages: the visitors and engaged visitors the
    # tracker saw, and the contacts by the furthest stage they reached in the
    # period (a customer of the period is a lead of it too, whenever they
    # signed up); stages.funnel makes each step hold the ones after it.
    reached = people.get("reached") or {}
    funnel_counts = {
        "visitor": summary["visitors"],
        "engaged": summary["engaged_visitors"],
        **{stage: reached.get(stage, 0) for stage in stages.STAGES[2:]},
    }
    credited = people["credited"]
    sources = with_conversions(summary["sources"], credited["source"], "source")
    campaigns = with_conversions(summary["campaigns"], credited["campaign"], "campaign")
    status = status_paths(manifest)
    landings = with_conversions(
        [row for row in summary["landings"] if row["path"] not in status],
        credited["landing"],
        "path",
    )
    pages = [page for page in summary["pages"] if page["path"] not in status]
    data = {
        "since": since,
        "until": until,
        "touch": touch,
        "pageviews": summary["pageviews"],
        "bots": summary["bots"],
        "visitors": summary["visitors"],
        "engaged": summary["engaged_visitors"],
        "leads": counts["leads"],
        "customers": counts["customers"],
        "advocates": counts["advocates"],
        "funnel": [asdict(step) for step in stages.funnel(funnel_counts)],
        "sources": sources,
        "campaigns": campaigns,
        "landings": landings,
        "posts": posts(pages, manifest, people["by_page"]),
        "devices": summary["devices"],
        "events": summary["events"],
        "days": summary["days"],
        "new_customers": people["new_customers"],
        "feedback": people["feedback"],
        "referrals": people["referrals"],
    }
    if money_part is not None:
        data.update(money.report_fields(campaigns, money_part, since, until))
        data.update(
            earnings.report_fields(
                data, money_part["revenue"], credited["landing"], data["currency"]
            )
        )
    return data


def status_paths(manifest: dict[str, Any]) -> set[str]:
    """The paths of the site's status pages (thank-you, oops): read, but never
    posts or landing pages."""
    urls = (manifest.get("status_pages") or {}).values()
    return {"/" + urlsplit(str(url)).path.lstrip("/") for url in urls}


def posts(pages: list[dict], manifest: dict[str, Any], signups: Counter) -> list[dict]:
    """Every page read, with its manifest title and kind; pages outside it too."""
    known = {"/" + p["url"].lstrip("/"): p for p in manifest.get("posts", [])}
    rows = []
    for page in pages:
        meta = known.get(page["path"], {})
        rows.append(
            {
                "path": page["path"],
                "title": meta.get("title") or page.get("title") or page["path"],
                "kind": meta.get("kind", "page"),
                "views": page["views"],
                "visitors": page["visitors"],
                "entries": page["entries"],
                "signups": signups.get(page["path"], 0),
                "conversion_rate": (
                    signups.get(page["path"], 0) / page["visitors"]
                    if page["visitors"]
                    else None
                ),
            }
        )
    return rows


def feedback(contacts: list[dict], since: str | None, until: str | None) -> dict:
    """Net promoter score of the answers given in the period, and who to call back."""
    answers = [
        c
        for c in contacts
        if c.get("feedback") and _in_period(c["feedback"]["ts"], since, until)
    ]
    summary = stages.nps([c["feedback"]["score"] for c in answers])
    summary["detractors_to_follow_up"] = [
        {
            "id": c["id"],
            "email": c["email"],
            "score": c["feedback"]["score"],
            "comment": c["feedback"].get("comment"),
        }
        for c in answers
        if c["feedback"]["score"] <= stages.DEFAULT_THRESHOLDS.detractor_score
    ]
    return summary


def referrals(contacts: list[dict]) -> list[dict]:
    """Referrals per referrer: readers they brought, and how many converted."""
    by_id = {c["id"]: c for c in contacts}
    counts: dict[str, list[int]] = {}
    for contact in contacts:
        referrer = contact.get("referred_by")
        if referrer in by_id:
            row = counts.setdefault(referrer, [0, 0])
            row[0] += 1
            row[1] += 1 if contact.get("referral_credited") else 0
    rows = [
        {
            "id": cid,
            "email": by_id[cid]["email"],
            "first_name": by_id[cid].get("first_name"),
            "referred": n,
            "converted": m,
            "advocate": bool(by_id[cid].get("advocate_at")),
        }
        for cid, (n, m) in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r["converted"], -r["referred"], r["email"]))


def with_conversions(rows: list[dict], credited: dict[str, Counter], key: str) -> list:
    """Add the leads and customers credited to each row, and its conversion to lead.

    Rows that brought conversions but no visits in the period are listed too.
    """
    known = {row[key]: row for row in rows}
    merged = []
    for name in set(known) | set(credited):
        row = known.get(name, {key: name, "visits": 0, "visitors": 0})
        got = credited.get(name, Counter())
        merged.append(
            {
                **row,
                "leads": got["leads"],
                "customers": got["customers"],
                "conversion_rate": got["leads"] / row["visitors"]
                if row["visitors"]
                else None,
            }
        )
    return sorted(merged, key=lambda r: (-r["visitors"], -r["leads"], str(r[key])))
