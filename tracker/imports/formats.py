"""The subscriber exports Polku reads, recognised by their header.

Each format names the columns that identify it, as the tool writes its export:

- Mailchimp: one file per status (subscribed, unsubscribed, cleaned): "Email
  Address", "First Name", ..., OPTIN_TIME, CONFIRM_TIME, LAST_CHANGED; the
  unsubscribed file adds UNSUB_TIME, the cleaned one CLEAN_TIME.
- Kit (ConvertKit): email, first_name, created_at, status (active, cancelled,
  bounced, complained, inactive).
- Ghost: id, email, name, note, subscribed_to_emails, complimentary_plan,
  stripe_customer_id, created_at, deleted_at, labels, tiers.
- listmonk: uuid, email, name, attributes, status (enabled, disabled,
  blocklisted), created_at, updated_at.
- Substack: email, active_subscription, expiry, plan, email_disabled, created_at.

A row becomes an `imported.Entry`, or the reason it is skipped (an English
message id: the command translates it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .. import i18n
from ..i18n import N_
from ..journey import people
from ..journey.imported import CLEANED, COMPLAINED, SUBSCRIBED, UNSUBSCRIBED, Entry
from .csvfile import CsvError, read_table

NOT_AN_ADDRESS = N_("not an email address")
BAD_TIME = N_("a time in the row is not readable")
Cells = Callable[[str], str]


@dataclass(frozen=True)
class Format:
    tool: str
    columns: tuple[str, ...]  # the header cells (any case) that identify it
    email: str  # the address column
    read: Callable[[Cells, set[str]], dict | str]  # Entry fields, or a reason


_TIME = re.compile(
    r"^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d(?::\d\d)?)(\.\d+)?\s*"
    r"(Z|[+-]\d\d:?\d\d)?(?:\s+([A-Za-z]{2,5}))?$"
)


def parse_time(raw: str | None) -> str | None:
    """A time as these tools write it, as ISO 8601 in UTC; None when empty.

    "2018-02-12 10:54:27" (Mailchimp, UTC), "2026-01-01T00:00:00.000Z"
    (Ghost, Substack), "2024-01-15 10:30:00.123456 +0000 UTC" (listmonk, Go's
    format), a plain date. ValueError for anything else.
    """
    text = (raw or "").strip()
    if not text:
        return None
    found = _TIME.match(text)
    if found:
        base, fraction, zone, name = found.groups()
        if name and not zone and name.upper() not in ("UTC", "GMT"):
            raise ValueError(text)  # a zone by its name alone: ambiguous
        zone = "+00:00" if zone in (None, "Z") else zone
        if ":" not in zone:
            zone = zone[:3] + ":" + zone[3:]
        text = base.replace(" ", "T") + (fraction or "")[:7] + zone
    when = datetime.fromisoformat(text)
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat()


def first_word(name: str) -> str | None:
    """The first name of a full name, to greet with."""
    words = (name or "").split()
    return words[0] if words else None


def _mailchimp(cell: Cells, header: set[str]) -> dict | str:
    status = cell("status").lower()  # an "all contacts" export names it
    if not status:
        status = (
            CLEANED
            if "clean_time" in header
            else UNSUBSCRIBED
            if "unsub_time" in header
            else SUBSCRIBED
        )
    if status == "pending":
        return N_("never confirmed in Mailchimp (pending)")
    if status not in (SUBSCRIBED, UNSUBSCRIBED, CLEANED):
        return N_("not subscribed in Mailchimp")
    changed = cell("clean_time") or cell("unsub_time")
    if status != SUBSCRIBED:
        changed = changed or cell("last_changed")
    return {
        "status": status,
        "name": cell("first name"),
        "consented_at": cell("optin_time"),
        "confirmed_at": cell("confirm_time"),
        "changed_at": changed,
    }


KIT_STATUSES = {
    "active": SUBSCRIBED,
    "cold": SUBSCRIBED,  # subscribed, only not opening lately
    "cancelled": UNSUBSCRIBED,
    "unsubscribed": UNSUBSCRIBED,
    "bounced": CLEANED,
    "complained": COMPLAINED,
}


def _kit(cell: Cells, header: set[str]) -> dict | str:
    status = KIT_STATUSES.get(cell("status").lower())
    if status is None:
        return N_("never confirmed in Kit (inactive)")
    return {
        "status": status,
        "name": cell("first_name"),
        "consented_at": cell("created_at"),
        "changed_at": cell("cancelled_at") or cell("updated_at"),
    }


def _ghost(cell: Cells, header: set[str]) -> dict | str:
    if cell("deleted_at"):
        return N_("deleted in Ghost")
    subscribed = cell("subscribed_to_emails").lower() == "true"
    return {
        "status": SUBSCRIBED if subscribed else UNSUBSCRIBED,
        "name": first_word(cell("name")),
        "consented_at": cell("created_at"),
    }


def _listmonk(cell: Cells, header: set[str]) -> dict | str:
    status = cell("status").lower()
    if status not in ("enabled", "blocklisted"):
        return N_("disabled in listmonk")
    return {
        "status": SUBSCRIBED if status == "enabled" else UNSUBSCRIBED,
        "name": first_word(cell("name")),
        "consented_at": cell("created_at"),
        "changed_at": cell("updated_at") if status == "blocklisted" else "",
    }


def _substack(cell: Cells, header: set[str]) -> dict | str:
    if cell("email").lower().endswith("@deletion-request.substack.com"):
        return N_("a deletion request in Substack")
    disabled = cell("email_disabled").lower() == "true"
    return {
        "status": UNSUBSCRIBED if disabled else SUBSCRIBED,
        "consented_at": cell("created_at"),
    }


MAILCHIMP = Format(
    "Mailchimp", ("Email Address", "OPTIN_TIME"), "email address", _mailchimp
)
KIT = Format("Kit", ("email", "first_name", "created_at", "status"), "email", _kit)
GHOST = Format(
    "Ghost", ("email", "subscribed_to_emails", "complimentary_plan"), "email", _ghost
)
LISTMONK = Format(
    "listmonk", ("uuid", "email", "attributes", "status"), "email", _listmonk
)
SUBSTACK = Format("Substack", ("email", "email_disabled"), "email", _substack)
FORMATS = (GHOST, LISTMONK, SUBSTACK, KIT, MAILCHIMP)  # the most specific first
NAMED = (MAILCHIMP, KIT, GHOST, LISTMONK, SUBSTACK)  # as the error names them


def recognise(header: list[str], lang: str | None = None) -> Format:
    """The format whose columns the header has; CsvError naming them all if none."""
    found = {h.lower() for h in header}
    for known in FORMATS:
        if {c.lower() for c in known.columns} <= found:
            return known
    expected = "; ".join(f"{f.tool}: {', '.join(f.columns)}" for f in NAMED)
    message = N_(
        "The file is not a subscriber export Polku knows: it expected the columns "
        "of %(expected)s; its columns are %(found)s."
    )
    raise CsvError(
        i18n.gettext(lang, message, expected=expected, found=", ".join(header))
    )


def read_row(known: Format, row: dict, header: set[str]) -> Entry | str:
    """One row as an Entry, or the reason it cannot be imported."""
    lowered = {(k or "").lower(): (v or "").strip() for k, v in row.items() if k}

    def cell(name: str) -> str:
        return lowered.get(name, "")

    read = known.read(cell, header)
    if isinstance(read, str):
        return read
    try:
        email = people.normalise_email(cell(known.email))
    except people.Refused:
        return NOT_AN_ADDRESS
    times = {}
    for name in ("consented_at", "confirmed_at", "changed_at"):
        try:
            times[name] = parse_time(read.get(name))
        except ValueError:
            return BAD_TIME
    return Entry(email=email, status=read["status"], name=read.get("name"), **times)


def read_export(path: str, lang: str | None = None):
    """The file's format and each row's number with its Entry or skip reason."""
    header, rows = read_table(path, lang)
    known = recognise(header, lang)
    lowered = {h.lower() for h in header}
    return known, [(n, read_row(known, row, lowered)) for n, row in rows]
