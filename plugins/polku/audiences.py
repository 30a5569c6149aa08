"""The audience files: one CSV per list and format, and the manifest of lists.

Who is in which list is decided in the pure core (`tracker.journey.audiences`,
`.profiles`, `.members`) and how each identifier is normalised and hashed in
`tracker.journey.identifiers`; this module writes what the owner uploads.

The formats follow each platform's own documentation (checked 2026):

Meta, Custom Audiences customer list
  * Meta Business Help Centre, "How to format a customer list when creating a
    custom audience", https://www.facebook.com/business/help/2082575038703844
    (lowercase headers email, phone, fn, ln, ct, st, zip, country; phone with
    country code; avoid lists of fewer than 100 people).

Google, Customer Match customer list
  * Google Ads Help, "Format your customer data file" (answer 7659867) and
    "Formatting guidelines for uploading hashed data" (answer 7476159):
    headers exactly Email, Phone, First Name, Last Name, Country, Zip; an
    address match needs all four of First Name, Last Name, Country and Zip.
  * Google Ads Help, "About the customer matching process" (answer 7474263):
    Email, Phone, First Name and Last Name are hashed; Country and Zip are not.
  * Minimum list size: 100 active matched members for Search and Display
    (1,000 for YouTube), Google Ads Help "About Customer Match".

LinkedIn, Matched Audiences contact list
  * LinkedIn Help, "Requirements for contact targeting lists in Campaign
    Manager", https://www.linkedin.com/help/lms/answer/a1489764: keep the
    template's headers; at least 300 rows, 300 matched members to serve;
    email addresses plain or SHA-256 hashed.
  * Headers of LinkedIn's CSV template (LinkedIn_Ads_Contact_Match_Template):
    email, firstname, lastname, jobtitle, employeecompany, country, googleaid.
    LinkedIn only matches names in plain text, so we fill the email column
    alone (SHA-256 of the trimmed, lowercased address) and leave the rest
    empty: no raw name or address ever leaves for an ad platform.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tracker import clock
from tracker.journey.audiences import NAME, Audience
from tracker.journey.identifiers import (
    AD_PLATFORMS,
    PLATFORMS,
    AudienceError,
    check_platform,
    normalise_country,
    normalise_name,
    normalise_phone,
    normalise_place,
    normalise_zip,
    platform_email,
    sha256_hex,
)
from tracker.journey.members import has_ads_consent
from tracker.storage.files import atomic_write

# One file format per platform; "csv" is the owner's CRM list.
FORMATS = PLATFORMS
AD_FORMATS = AD_PLATFORMS
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
# "csv" files are <name>.csv; those of earlier versions, <name>.csv.csv, still go.
_FILE = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.(csv|meta|google|linkedin))?\.csv$")


@dataclass(frozen=True)
class Platform:
    key: str
    title: str
    columns: tuple[str, ...]
    minimum: int
    spec: str
    note: str = ""


PLATFORMS = {
    "csv": Platform(
        "csv",
        "CRM",
        (
            "email",
            "first_name",
            "stage",
            "score",
            "interests",
            "newsletter_consent",
            "ads_consent",
        ),
        0,
        "",
    ),
    "meta": Platform(
        "meta",
        "Meta",
        ("email", "phone", "fn", "ln", "ct", "st", "zip", "country"),
        100,
        "https://www.facebook.com/business/help/2082575038703844",
    ),
    "google": Platform(
        "google",
        "Google",
        ("Email", "Phone", "First Name", "Last Name", "Country", "Zip"),
        100,
        "https://support.google.com/google-ads/answer/7659867",
        note="1,000 for YouTube",
    ),
    "linkedin": Platform(
        "linkedin",
        "LinkedIn",
        (
            "email",
            "firstname",
            "lastname",
            "jobtitle",
            "employeecompany",
            "country",
            "googleaid",
        ),
        300,
        "https://www.linkedin.com/help/lms/answer/a1489764",
    ),
}


def _h(value: str | None) -> str:
    return sha256_hex(value) if value else ""


def _safe(value: Any) -> str:
    """Return a plain cell; text a spreadsheet would run as a formula is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _consent_cell(contact: Mapping, kind: str) -> str:
    """Return when the consent was given, "yes" if undated, "" if none or withdrawn."""
    proof = (contact.get("consent") or {}).get(kind)
    if not isinstance(proof, Mapping) or proof.get("withdrawn_at"):
        return ""
    for key in ("confirmed_at", "ts", "at", "given_at"):
        if proof.get(key):
            return str(proof[key])
    return "yes"


def csv_row(member: Mapping) -> list[str] | None:
    """Return the owner's CRM row: plain values, formula-like text quoted."""
    return [
        _safe(member.get("email")),
        _safe(member.get("first_name") or ""),
        _safe(member.get("stage", "")),
        _safe(member.get("score", "")),
        _safe(";".join(member.get("interests") or ())),
        _consent_cell(member, "newsletter"),
        _consent_cell(member, "ads"),
    ]


def meta_row(member: Mapping) -> list[str] | None:
    """Return a Meta customer-list row, every cell SHA-256; None if unmatchable."""
    email = platform_email(member.get("email"), "meta")
    phone = normalise_phone(member.get("phone"), member.get("country"))
    if not email and not phone:
        return None
    country = normalise_country(member.get("country"))
    return [
        _h(email),
        _h(phone),
        _h(normalise_name(member.get("first_name"), "meta")),
        _h(normalise_name(member.get("last_name"), "meta")),
        _h(normalise_place(member.get("city"))),
        _h(normalise_place(member.get("state"))),
        _h(normalise_zip(member.get("zip"), "meta", country)),
        _h(country),
    ]


def google_row(member: Mapping) -> list[str] | None:
    """Return a Customer Match row; None if unmatchable.

    Email, Phone and names are SHA-256. Country and Zip are written (plain, as
    Google requires) only with both names, when an address match is possible:
    alone they match nothing and would only share data.
    """
    email = platform_email(member.get("email"), "google")
    phone = normalise_phone(member.get("phone"), member.get("country"))
    if not email and not phone:
        return None
    first = normalise_name(member.get("first_name"), "google")
    last = normalise_name(member.get("last_name"), "google")
    country = normalise_country(member.get("country"))
    zip_code = normalise_zip(member.get("zip"), "google", country)
    address = bool(first and last and country and zip_code)
    return [
        _h(email),
        _h("+" + phone if phone else None),
        _h(first) if address else "",
        _h(last) if address else "",
        country if address else "",
        _safe(zip_code) if address else "",
    ]


def linkedin_row(member: Mapping) -> list[str] | None:
    """Return a contact-list row with the hashed email only; None if unmatchable."""
    email = platform_email(member.get("email"), "linkedin")
    if not email:
        return None
    return [_h(email), "", "", "", "", "", ""]


ROWS = {
    "csv": csv_row,
    "meta": meta_row,
    "google": google_row,
    "linkedin": linkedin_row,
}


_NO_CONSENT = object()  # in a cache: not in an ad format's file, for want of consent


class _Line:
    """A file for csv.writer that keeps the one line just written."""

    __slots__ = ("text",)

    def write(self, text: str) -> None:
        self.text = text


def render(
    fmt: str, people: Iterable[Mapping], cache: dict | None = None
) -> tuple[bytes, dict[str, int]]:
    """Return one format's CSV bytes and counts (rows, without_ads_consent, ...).

    Ad formats hold only people with a live ads consent; a person with no
    address or phone the platform can use is skipped and counted. ``cache``
    (contact id -> the person's CSV line, None if unmatchable, or a mark for
    no ads consent; one per format) spares checking, normalising, hashing and
    quoting a person once per list.
    """
    platform = PLATFORMS[check_platform(fmt)]
    build = ROWS[fmt]
    line = _Line()
    writer = csv.writer(line, lineterminator="\n")
    writer.writerow(platform.columns)
    lines = [line.text]
    counts = {"members": 0, "rows": 0, "without_ads_consent": 0, "unmatchable": 0}
    ads = fmt in AD_FORMATS
    cache = {} if cache is None else cache
    for member in people:
        counts["members"] += 1
        key = member.get("id")
        text = cache.get(key, False) if key is not None else False
        if text is False:
            text = None
            if ads and not has_ads_consent(member):
                text = _NO_CONSENT
            else:
                row = build(member)
                if row is not None:
                    writer.writerow(row)
                    text = line.text
            if key is not None:
                cache[key] = text
        if text is _NO_CONSENT:
            counts["without_ads_consent"] += 1
            continue
        if text is None:
            counts["unmatchable"] += 1
            continue
        lines.append(text)
        counts["rows"] += 1
    return "".join(lines).encode("utf-8"), counts


def _previous_files(out_dir: str) -> list[str]:
    try:
        with open(os.path.join(out_dir, MANIFEST_NAME), encoding="utf-8") as f:
            previous = json.load(f)
        return [
            str(entry["file"])
            for entry in previous.get("files", [])
            if _FILE.match(str(entry.get("file", "")))
        ]
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return []


def file_name(audience: str, fmt: str) -> str:
    """``customers.csv`` for the CRM, ``customers.meta.csv`` for a platform."""
    return f"{audience}.csv" if fmt == "csv" else f"{audience}.{fmt}.csv"


def write_audiences(
    out_dir: str,
    audiences_members: Mapping[str, list[Mapping]],
    formats: Iterable[str],
    source: Mapping,
    *,
    audiences: Iterable[Audience] | Mapping[str, Audience] | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Write ``<name>.csv`` (the CRM's) and ``<name>.<platform>.csv`` per
    audience and format, plus manifest.json.

    Each file is replaced atomically. The manifest records when, from which
    ``source`` (a description the caller passes) and with which rules each
    file was made, its rows and the platform's minimum. A list below that
    minimum is still written, with a warning in the manifest; the list returned
    names each such file (file, platform, rows, minimum, note) for the caller
    to sum up in one table. Files a previous run listed and this run
    did not write are removed, so that no list outlives the data it was made
    from. Rules come from ``audiences`` or, by default, from `members`' result.
    """
    formats = list(dict.fromkeys(formats))
    if not formats:
        raise AudienceError(f"no format given; expected some of {', '.join(FORMATS)}")
    for fmt in formats:
        check_platform(fmt)
    if audiences is None:
        audiences = getattr(audiences_members, "audiences", {})
    by_name = (
        dict(audiences)
        if isinstance(audiences, Mapping)
        else {a.name: a for a in audiences}
    )
    for name in audiences_members:
        if not isinstance(name, str) or not NAME.match(name):
            raise AudienceError(f"audience name {name!r} cannot name a file")
    now = now or clock.now()
    os.makedirs(out_dir, exist_ok=True)
    previous = _previous_files(out_dir)
    small: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    caches: dict[str, dict] = {fmt: {} for fmt in formats}
    for name, people in audiences_members.items():
        people = list(people)
        audience = by_name.get(name)
        for fmt in formats:
            platform = PLATFORMS[fmt]
            data, counts = render(fmt, people, caches[fmt])
            filename = file_name(name, fmt)
            atomic_write(os.path.join(out_dir, filename), data)
            entry: dict[str, Any] = {
                "file": filename,
                "audience": name,
                "format": fmt,
                **counts,
                "rules": audience.rules() if audience else None,
                "description": audience.description if audience else "",
            }
            if fmt in AD_FORMATS:
                entry["minimum"] = platform.minimum
                entry["spec"] = platform.spec
                if counts["rows"] < platform.minimum:
                    note = f" ({platform.note})" if platform.note else ""
                    warning = (
                        f"{filename}: {counts['rows']} people, below "
                        f"{platform.title}'s minimum of {platform.minimum}{note} "
                        "for a matchable list; written anyway"
                    )
                    entry["warning"] = warning
                    small.append(
                        {
                            "file": filename,
                            "platform": platform.title,
                            "rows": counts["rows"],
                            "minimum": platform.minimum,
                            "note": platform.note,
                        }
                    )
            entries.append(entry)
    manifest = {
        "version": MANIFEST_VERSION,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "source": dict(source),
        "formats": formats,
        "files": entries,
    }
    atomic_write(
        os.path.join(out_dir, MANIFEST_NAME),
        json.dumps(manifest, indent=1, ensure_ascii=False, default=str).encode(),
    )
    written = {entry["file"] for entry in entries}
    for filename in previous:
        if filename not in written:
            try:
                os.unlink(os.path.join(out_dir, filename))
            except FileNotFoundError:
                pass
    return small
