"""What each row of the report earned: revenue, average order value, revenue per
visitor, for the sources, landing pages and posts as for the whole period.

Pure. Revenue is credited as customers are (`money.revenue`: to the contact's
first or last touch); the figures are in the site's currency, amounts in
others are shown beside them (`revenue_other`), never summed, and a figure
with no denominator (no orders, no visitors) is None.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from .money import Sums, per

BLANK = {"visits": 0, "visitors": 0, "leads": 0, "customers": 0}


def earned(
    sums: Sums, orders: dict[str, int], visitors: int | None, currency: str
) -> dict[str, Any]:
    """One row's money: revenue and orders in the site's currency, the rest beside."""
    value = sums.get(currency, Decimal(0))
    count = orders.get(currency, 0)
    return {
        "revenue": value,
        "revenue_other": {c: v for c, v in sorted(sums.items()) if c != currency},
        "orders": count,
        "average_order": per(value, count),
        "revenue_per_visitor": per(value, visitors),
    }


def with_revenue(
    rows: list[dict],
    key: str,
    dimension: str,
    revenue: dict[str, Any],
    currency: str,
    add_missing: bool = True,
) -> list[dict]:
    """The rows with their money; rows that earned with no visit in the period
    are added (unless add_missing is false) at the end, by revenue."""
    by = revenue["by"][dimension]
    counts = revenue["orders_by"][dimension]
    listed = {row[key] for row in rows}
    extra = sorted((k for k in by if k not in listed), key=str)
    if add_missing:
        extra.sort(key=lambda k: -by[k].get(currency, Decimal(0)))
        rows = rows + [{key: k, **BLANK, "conversion_rate": None} for k in extra]
    return [
        {
            **row,
            **earned(
                by.get(row[key], {}),
                counts.get(row[key], {}),
                row.get("visitors"),
                currency,
            ),
        }
        for row in rows
    ]


def report_fields(
    data: dict[str, Any],
    revenue: dict[str, Any],
    credited_landing: dict[str, Counter],
    currency: str,
) -> dict[str, Any]:
    """The report's sources, landing pages and posts with their money, and the
    period's average order value and revenue per visitor.

    A post is credited as a landing page is: with the customers and revenue
    of the people whose credited visit began on it.
    """
    total = revenue["total"].get(currency, Decimal(0))
    posts = [
        {**row, "customers": credited_landing.get(row["path"], Counter())["customers"]}
        for row in data["posts"]
    ]
    return {
        "average_order": per(total, revenue["orders_in"].get(currency, 0)),
        "revenue_per_visitor": per(total, data["visitors"]),
        "sources": with_revenue(data["sources"], "source", "source", revenue, currency),
        "landings": with_revenue(
            data["landings"], "path", "landing", revenue, currency
        ),
        "posts": with_revenue(posts, "path", "landing", revenue, currency, False),
    }
