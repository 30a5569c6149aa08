"""Customers from a shop or CRM CSV: email, name, date, value."""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime

from .journey import people
from .storage import Storage
from .web.requests import new_id

REQUIRED = ("email", "date")
KINDS = ("purchase", "booking", "quote")
BATCH = 500


class CsvError(ValueError):
    """The file cannot be imported; the message names the row and the column."""


def parse_row(number: int, row: dict[str, str]) -> dict:
    """Check one row; return the order it describes."""
    where = f"row {number}"
    try:
        email = people.normalise_email(row.get("email"))
    except people.Refused as e:
        raise CsvError(f"{where}: {e}") from None
    try:
        when = datetime.fromisoformat(row["date"].strip())
    except ValueError:
        raise CsvError(f"{where}: date {row['date']!r} is not YYYY-MM-DD") from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    raw_value = (row.get("value") or "").strip().replace(",", ".")
    try:
        value = float(raw_value) if raw_value else None
    except ValueError:
        raise CsvError(f"{where}: value {raw_value!r} is not a number") from None
    if value is not None and (not math.isfinite(value) or value < 0):
        raise CsvError(f"{where}: value must be a non-negative number")
    kind = (row.get("kind") or "purchase").strip().lower()
    if kind not in KINDS:
        raise CsvError(f"{where}: kind must be one of {', '.join(KINDS)}")
    order_id = (row.get("order_id") or "").strip()
    if not order_id:  # the same line imported twice is the same order
        key = f"{email}|{when.isoformat()}|{value}|{kind}"
        order_id = "import:" + hashlib.sha256(key.encode()).hexdigest()[:20]
    return {
        "email": email,
        "first_name": people.clean_name(row.get("name") or row.get("first_name")),
        "ts": when.isoformat(),
        "value": value,
        "currency": (row.get("currency") or "EUR").strip().upper()[:3],
        "kind": kind,
        "order_id": order_id[:128],
    }


def read_csv(path: str) -> list[dict]:
    """Read and check every row first, so a bad file imports nothing."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise CsvError(f"the file has no {', '.join(missing)} column")
        reader.fieldnames = header
        return [parse_row(n, row) for n, row in enumerate(reader, start=2)]


def import_rows(
    storage: Storage, rows: list[dict], progress: Callable[[int], None] = lambda n: None
) -> tuple[int, int]:
    """Record each order once; return (added, already there)."""
    added = skipped = 0
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        with storage.transaction() as tx:
            for order in batch:
                if tx.find_by("order", order["order_id"]):
                    skipped += 1
                    continue
                contact = tx.find(order["email"]) or people.new_contact(
                    order["email"], order["ts"], new_id()
                )
                contact = people.record_order(
                    contact,
                    kind=order["kind"],
                    order_id=order["order_id"],
                    now=order["ts"],
                )
                contact["first_name"] = contact["first_name"] or order["first_name"]
                event = {
                    "id": new_id(),
                    "ts": order["ts"],
                    "type": order["kind"],
                    "contact": contact["id"],
                    "value": order["value"],
                    "currency": order["currency"],
                    "order_id": order["order_id"],
                    "via": "import",
                }
                tx.save(contact, event)
                added += 1
        progress(len(batch))
    return added, skipped
