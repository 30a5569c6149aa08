"""The dashboard's downloads: panels and contacts as CSV, one contact as JSON.

CSV streams a thousand rows at a time, and no stored string reaches a
spreadsheet as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response, abort, request, stream_with_context

from ..db import get_storage
from ..journey.members import has_ads_consent
from . import data, journey_map
from .blueprint import bp
from .views import load_contact

MONEY = ["revenue", "average_order", "revenue_per_visitor"]
TABLES = {
    "sources": (
        "sources",
        ["source", "visits", "visitors", "leads", "customers", "conversion_rate"]
        + MONEY,
    ),
    "campaigns": (
        "campaigns",
        [
            "campaign",
            "visits",
            "visitors",
            "leads",
            "customers",
            "conversion_rate",
            "spend",
            "cost_per_lead",
            "cost_per_customer",
            "revenue",
            "roas",
        ],
    ),
    "pages": (
        "posts",
        [
            "path",
            "title",
            "kind",
            "views",
            "visitors",
            "entries",
            "signups",
            "conversion_rate",
            "customers",
            *MONEY,
        ],
    ),
    "landings": (
        "landings",
        ["path", "visits", "visitors", "leads", "customers", "conversion_rate"] + MONEY,
    ),
    "guides": ("guides", ["guide", "title", "downloads"]),
    "referrals": (
        "referrals",
        ["email", "first_name", "referred", "converted", "advocate"],
    ),
    "feedback": ("feedback_rows", ["email", "score", "comment"]),
    "funnel": (
        "funnel",
        ["stage", "count", "rate_from_previous", "rate_from_top", "drop_off"],
    ),
}
CONTACT_FIELDS = [
    "email",
    "first_name",
    "stage",
    "score",
    "segment",
    "newsletter",
    "ads_consent",
    "last_seen",
]


@bp.get("/<table>.csv")
def table_csv(table: str):
    if table == "contacts":
        band = journey_map.band_members(request.args)
        rows, _ = data.contact_rows(request.args, band=band)
        return csv_response("contacts", CONTACT_FIELDS, map(contact_line, rows))
    if table not in TABLES:
        abort(404)
    key, fields = TABLES[table]
    numbers = data.overview_data(request.args)
    numbers["feedback_rows"] = numbers["feedback"]["detractors_to_follow_up"]
    return csv_response(table, fields, numbers[key])


@bp.get("/contacts/<contact_id>/export.json")
def export_contact(contact_id: str):
    contact = load_contact(contact_id)
    body = json.dumps(
        {"contact": contact, "timeline": get_storage().timeline(contact_id)},
        indent=2,
        ensure_ascii=False,
    )
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="contact-{contact_id}.json"'
        },
    )


def csv_response(name: str, fields: list[str], rows: Iterable[dict]) -> Response:
    """Stream a table as CSV, a thousand rows at a time: 100k contacts start at once."""

    def chunks() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(fields)
        for n, row in enumerate(rows, 1):
            writer.writerow([neutralise(row.get(k)) for k in fields])
            if n % 1000 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="polku-{name}.csv"'},
    )


def neutralise(value: Any) -> Any:
    """Keep a spreadsheet from running a stored string as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def contact_line(row: dict) -> dict:
    contact = row["contact"]
    return {
        "email": contact["email"],
        "first_name": contact.get("first_name"),
        "stage": row["stage"],
        "score": row["score"],
        "segment": row["segment"],
        "newsletter": contact["status"],
        "ads_consent": has_ads_consent(contact),
        "last_seen": row["last_seen"],
    }
