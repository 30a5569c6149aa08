"""Customers from a shop or CRM CSV: email, name, date, value.

The file is read as `csvfile` reads any (delimiters, encodings); amounts
such as `1 200,50`, `1.200,50` or `1,200.50`. A file that cannot be imported
raises `CsvError`, whose message is one sentence in the site's language.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime

from .. import i18n
from ..i18n import N_
from ..journey import people
from ..storage import Storage
from ..web.requests import new_id
from .csvfile import CsvError, read_table

REQUIRED = ("email", "date")
KINDS = ("purchase", "booking", "quote")
BATCH = 500
_SPACES = re.compile(r"[\s\u00a0\u202f']+")
_CURRENCY = re.compile(r"^[€$£]|[€$£]$|^[A-Z]{3}|[A-Z]{3}$")
_DIGITS = re.compile(r"\d+")


def parse_value(raw: str | None, lang: str | None = None) -> float | None:
    """An amount as shops and spreadsheets write it, or None when the cell is empty.

    One comma or one dot is the decimal separator; with both, the last one is;
    spaces and a separator repeated are thousands ("1 200,50", "1.234.567").
    """
    cell = _SPACES.sub("", raw or "").upper()
    if not cell:
        return None
    text = _CURRENCY.sub("", cell)
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
    elif text.count(",") == 1 or text.count(".") == 1:
        decimal = "," if "," in text else "."
    else:
        decimal = ""
    whole, _, fraction = text.rpartition(decimal) if decimal else (text, "", "")
    groups = re.split(r"[.,]", whole)
    grouped = len(groups) == 1 or (
        0 < len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    )
    if (
        not text
        or not grouped
        or not all(_DIGITS.fullmatch(g) for g in groups)
        or (fraction and not _DIGITS.fullmatch(fraction))
    ):
        message = N_("the value %(value)s is not an amount such as 1 200,50")
        raise CsvError(i18n.gettext(lang, message, value=repr(raw)))
    value = float("".join(groups) + "." + (fraction or "0"))
    if not math.isfinite(value):
        raise CsvError(
            i18n.gettext(lang, N_("the value %(value)s is too large"), value=raw)
        )
    return value


def parse_date(raw: str | None, lang: str | None = None) -> datetime:
    text = (raw or "").strip()
    if not text:
        raise CsvError(i18n.gettext(lang, N_("the date is missing")))
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            when = datetime.strptime(text.split(" ")[0], "%d.%m.%Y")
        except ValueError:
            message = N_("the date %(date)s is not YYYY-MM-DD (or D.M.YYYY)")
            raise CsvError(i18n.gettext(lang, message, date=repr(text))) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_row(number: int, row: dict[str, str | None], lang: str | None = None) -> dict:
    """Check one row; return the order it describes."""
    try:
        return _parse_row(row, lang)
    except (CsvError, people.Refused) as e:
        reason = i18n.gettext(lang, str(e)) if isinstance(e, people.Refused) else e
        message = i18n.gettext(
            lang, N_("In row %(row)d: %(reason)s."), row=number, reason=reason
        )
        raise CsvError(message.replace("..", ".")) from None


def _parse_row(row: dict[str, str | None], lang: str | None) -> dict:
    email = people.normalise_email(row.get("email"))
    when = parse_date(row.get("date"), lang)
    value = parse_value(row.get("value"), lang)
    kind = (row.get("kind") or "purchase").strip().lower()
    if kind not in KINDS:
        message = N_("the kind %(kind)s is not one of %(kinds)s")
        raise CsvError(
            i18n.gettext(lang, message, kind=repr(kind), kinds=", ".join(KINDS))
        )
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


def read_csv(path: str, lang: str | None = None) -> list[dict]:
    """Read and check every row first, so a bad file imports nothing."""
    found, rows = read_table(path, lang)
    header = [h.lower() for h in found]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        message = i18n.ngettext(
            lang,
            "The file has no %(columns)s column; its columns are %(found)s.",
            "The file has no %(columns)s columns; its columns are %(found)s.",
            len(missing),
        )
        columns = ", ".join(f"“{c}”" for c in missing)
        raise CsvError(message % {"columns": columns, "found": ", ".join(found)})
    return [
        parse_row(n, {(k or "").lower(): v for k, v in row.items()}, lang)
        for n, row in rows
    ]


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
