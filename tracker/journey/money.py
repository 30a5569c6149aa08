"""Money on the journey: revenue, ad spend, and what a lead and a customer cost.

Pure: plain records in (the contacts with their purchases, the stored spend
document), Decimal sums out. Amounts in different currencies are kept apart,
never summed: the figures use the site's currency, the rest is shown beside
them. A figure with no denominator (no leads, no spend) is None.

Spend is joined to the UTM campaigns the report counts: by the platform's
campaign id (`utm_campaign={{campaign.id}}` on Meta, `{campaignid}` on
Google), then by the campaign's name (trimmed, case-insensitive), then by the
owner's mapping (UTM campaign -> platform campaign id). Revenue is credited as
the customers are: to the contact's first or last touch.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .visits import DIRECT

COLUMNS = (
    "day",
    "campaign_id",
    "campaign",
    "spend",
    "currency",
    "impressions",
    "clicks",
)
CENT = Decimal("0.01")
KEEP_IMPORTS = 50
PURCHASES = ("purchase", "booking")
Sums = dict[str, Decimal]  # currency -> amount


# -- the stored spend document ----------------------------------------------------


def empty() -> dict[str, Any]:
    """No spend, no imports, no mapping: {"rows": {platform: [row...]}, ...}."""
    return {
        "version": 1,
        "columns": list(COLUMNS),
        "rows": {},
        "imports": [],
        "map": {},
    }


def replace(
    old: dict | None,
    platform: str,
    first: str,
    last: str,
    rows: list[dict],
    note: dict,
) -> dict:
    """The document with the platform's rows of [first, last] replaced by rows.

    Whatever an earlier import said about those days goes, so importing a
    period again (or one that overlaps it) never counts a day twice.
    """
    doc = {**empty(), **(old or {})}
    kept = [r for r in doc["rows"].get(platform, []) if not first <= r[0] <= last]
    new = [[r[c] if c != "spend" else str(r[c]) for c in COLUMNS] for r in rows]
    merged = sorted(kept + new, key=lambda r: (r[0], r[1], r[2], r[4]))
    entry = {"platform": platform, "first": first, "last": last, "rows": len(new)}
    imports = [*doc["imports"], {**entry, **note}][-KEEP_IMPORTS:]
    return {**doc, "rows": {**doc["rows"], platform: merged}, "imports": imports}


def mapped(old: dict | None, utm_campaign: str, campaign_id: str | None) -> dict:
    """The document with the owner's mapping of one UTM campaign set or removed."""
    doc = {**empty(), **(old or {})}
    mapping = {k: v for k, v in doc["map"].items() if k != utm_campaign}
    if campaign_id:
        mapping[utm_campaign] = campaign_id
    return {**doc, "map": dict(sorted(mapping.items()))}


def spend_rows(doc: dict | None, since: str | None, until: str | None) -> list[dict]:
    """The stored rows of days in [since, until] (None: open), spend as Decimal."""
    found = []
    for platform, rows in sorted(((doc or {}).get("rows") or {}).items()):
        for row in rows:
            if (since and row[0] < since[:10]) or (until and row[0] > until[:10]):
                continue
            record = dict(zip(COLUMNS, row, strict=True))
            record["spend"] = Decimal(record["spend"])
            found.append({"platform": platform, **record})
    return found


def totals(rows: Iterable[dict], field: str = "spend") -> Sums:
    """The rows' amounts summed per currency."""
    sums: Sums = {}
    for row in rows:
        sums[row["currency"]] = sums.get(row["currency"], Decimal(0)) + row[field]
    return sums


# -- revenue --------------------------------------------------------------------


def _in_period(ts: str | None, since: str | None, until: str | None) -> bool:
    if not ts:
        return False
    return (since is None or ts[:10] >= since[:10]) and (
        until is None or ts[:10] <= until[:10]
    )


def value_of(event: dict) -> Decimal | None:
    """A purchase's value as Decimal (its JSON number's shortest text)."""
    value = event.get("value")
    if value is None or isinstance(value, bool):
        return None
    return Decimal(str(value))


def revenue(
    people: Iterable[dict],
    since: str | None,
    until: str | None,
    touch: str,
) -> dict[str, Any]:
    """Purchases and bookings of the period: their sum per currency, and per
    source, campaign and landing page of the contact's first or last touch
    (`by`; `by_campaign` is `by["campaign"]`); the orders counted the same
    ways (`orders_in` per currency, `orders_by`), for average order values.

    people: the contacts' facts (`facts.step`), whose `purchases` are their
    purchase and booking decisions. An order id seen twice on one person (the
    API and a CSV import of the same order) counts once, as in the RFM value.
    """
    total: Sums = {}
    by: dict[str, dict[str, Sums]] = {"source": {}, "campaign": {}, "landing": {}}
    orders_in: dict[str, int] = {}
    orders_by: dict[str, dict[str, dict[str, int]]] = {d: {} for d in by}
    orders = 0
    for contact in people:
        seen: set[str] = set()
        touched = contact.get(f"{touch}_touch") or {}
        keys = {
            "source": touched.get("source") or DIRECT,
            "campaign": touched.get("campaign"),
            "landing": touched.get("landing"),
        }
        for event in contact.get("purchases") or ():
            if event.get("type") not in PURCHASES:
                continue
            value = value_of(event)
            if value is None or not _in_period(event.get("ts"), since, until):
                continue
            order = event.get("order_id")
            if order and order in seen:
                continue
            seen.add(order)
            currency = event.get("currency") or "EUR"
            orders += 1
            orders_in[currency] = orders_in.get(currency, 0) + 1
            total[currency] = total.get(currency, Decimal(0)) + value
            for dimension, key in keys.items():
                if key:
                    sums = by[dimension].setdefault(key, {})
                    sums[currency] = sums.get(currency, Decimal(0)) + value
                    counts = orders_by[dimension].setdefault(key, {})
                    counts[currency] = counts.get(currency, 0) + 1
    return {
        "total": total,
        "by": by,
        "by_campaign": by["campaign"],
        "orders": orders,
        "orders_in": orders_in,
        "orders_by": orders_by,
    }


# -- spend joined to campaigns ----------------------------------------------------


def _key(name: str) -> str:
    return " ".join(str(name).split()).casefold()


def join(
    campaigns: list[str], rows: list[dict], mapping: dict[str, str]
) -> tuple[dict[str, Sums], list[dict]]:
    """Credit each platform campaign's spend to one UTM campaign.

    campaigns: the UTM campaigns of the period, most visited first (a name
    that matches two of them goes to the first). Returns the spend per UTM
    campaign and per currency, and the platform campaigns that matched none.
    A mapped UTM campaign gets its spend even with no visit in the period.
    """
    by_id: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for utm in campaigns:
        by_id.setdefault(str(utm).strip(), utm)
        by_name.setdefault(_key(utm), utm)
    by_map = {str(v).strip(): utm for utm, v in sorted(mapping.items())}
    groups: dict[tuple, dict] = {}
    for row in rows:
        key = (row["platform"], row["campaign_id"] or _key(row["campaign"]))
        group = groups.setdefault(
            key, {"platform": row["platform"], "campaign_id": row["campaign_id"]}
        )
        group["campaign"] = row["campaign"]  # the latest day's name
        sums = group.setdefault("spend", {})
        sums[row["currency"]] = sums.get(row["currency"], Decimal(0)) + row["spend"]
    matched: dict[str, Sums] = {}
    unmatched = []
    for group in groups.values():
        ident = str(group["campaign_id"]).strip()
        utm = (
            (by_id.get(ident) if ident else None)
            or by_name.get(_key(group["campaign"]))
            or (by_map.get(ident) if ident else None)
            or by_map.get(str(group["campaign"]).strip())
        )
        if utm is None:
            unmatched.append(group)
            continue
        sums = matched.setdefault(utm, {})
        for currency, amount in group["spend"].items():
            sums[currency] = sums.get(currency, Decimal(0)) + amount
    unmatched.sort(key=lambda g: (g["platform"], g["campaign"], g["campaign_id"]))
    return matched, unmatched


def per(amount: Decimal | None, count: int | Decimal | None) -> Decimal | None:
    """amount / count to the cent (half up), None without a denominator."""
    if amount is None or not count:
        return None
    return (Decimal(amount) / Decimal(count)).quantize(CENT, ROUND_HALF_UP)


def _other(sums: Sums, currency: str) -> Sums:
    return {c: v for c, v in sorted(sums.items()) if c != currency}


def campaign_rows(
    campaigns: list[dict],
    earned: dict[str, Sums],
    rows: list[dict],
    mapping: dict[str, str],
    currency: str,
) -> tuple[list[dict], list[dict]]:
    """Each campaign with its revenue, spend, cost per lead and per customer and
    return on ad spend (ROAS: revenue / spend) in the site's currency.

    campaigns: the report's rows (campaign, visitors, leads, customers...);
    earned: revenue per UTM campaign. Campaigns with revenue or mapped spend
    but no visits in the period are added. Returns (rows, unmatched spend).
    """
    names = [row["campaign"] for row in campaigns]
    spent, unmatched = join(names, rows, mapping)
    blank = {"visits": 0, "visitors": 0, "leads": 0, "customers": 0}
    missing = sorted((set(earned) | set(spent)) - set(names), key=str)
    listed = campaigns + [
        {"campaign": name, **blank, "conversion_rate": None} for name in missing
    ]
    result = []
    for row in listed:
        income = earned.get(row["campaign"], {})
        cost = spent.get(row["campaign"], {})
        amount = cost.get(currency)
        value = income.get(currency, Decimal(0))
        result.append(
            {
                **row,
                "revenue": value,
                "revenue_other": _other(income, currency),
                "spend": amount,
                "spend_other": _other(cost, currency),
                "cost_per_lead": per(amount, row["leads"]),
                "cost_per_customer": per(amount, row["customers"]),
                "roas": per(value, amount) if amount else None,
            }
        )
    for group in unmatched:
        group["spend_other"] = _other(group["spend"], currency)
        group["spend"] = group["spend"].get(currency)
    return result, unmatched


def report_fields(
    campaigns: list[dict], part: dict[str, Any], since: str | None, until: str | None
) -> dict[str, Any]:
    """What the report adds about money (see `part`), its campaigns enriched."""
    currency = part["currency"]
    earned = part["revenue"]
    rows = spend_rows(part.get("spend"), since, until)
    mapping = (part.get("spend") or {}).get("map") or {}
    listed, unmatched = campaign_rows(
        campaigns, earned["by_campaign"], rows, mapping, currency
    )
    spend = totals(rows)
    return {
        "currency": currency,
        "revenue": earned["total"].get(currency, Decimal(0)),
        "revenue_other": _other(earned["total"], currency),
        "orders": earned["orders"],
        "spend": spend.get(currency, Decimal(0)),
        "spend_other": _other(spend, currency),
        "campaigns": listed,
        "spend_unmatched": unmatched,
        "spend_imported": bool(rows),
    }


def part(
    people: Iterable[dict],
    since: str | None,
    until: str | None,
    touch: str,
    currency: str,
    spend: dict | None,
) -> dict[str, Any]:
    """The money a report needs: revenue of the period and the spend document."""
    return {
        "currency": currency,
        "revenue": revenue(people, since, until, touch),
        "spend": spend,
    }
