"""One person's line in each list format: the owner's CRM row and each ad
platform's, normalised and hashed as `audiences` documents (the platforms'
own specifications are cited there).

A run writes each person once per format, whatever the lists they are in
(see `audiences.write_audiences`), and works out the values many people share
(names, places, countries, postal codes) and what two formats share (a phone
number) once, in a `Memo`: at a million contacts the normalising and hashing
was most of writing the files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tracker.journey.identifiers import (
    normalise_country,
    normalise_name,
    normalise_phone,
    normalise_place,
    normalise_zip,
    platform_email,
    sha256_hex,
)


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


def _once(table: dict, key: Any, make: Callable, *args: Any) -> Any:
    """make(*args), worked out once per key (every time if the key is unhashable,
    as a list stored where a name belongs would be)."""
    try:
        return table[key]
    except KeyError:
        found = table[key] = make(*args)
        return found
    except TypeError:
        return make(*args)


class Memo:
    """One run's normalised and hashed values, each worked out once."""

    __slots__ = ("names", "places", "countries", "zips", "phones", "hashes")

    def __init__(self) -> None:
        self.names: dict = {}
        self.places: dict = {}
        self.countries: dict = {}
        self.zips: dict = {}
        self.phones: dict = {}
        self.hashes: dict = {}

    def name(self, value: Any, platform: str) -> str | None:
        return _once(self.names, (value, platform), normalise_name, value, platform)

    def place(self, value: Any) -> str | None:
        return _once(self.places, value, normalise_place, value)

    def country(self, value: Any) -> str | None:
        return _once(self.countries, value, normalise_country, value)

    def zip(self, value: Any, platform: str, country: str | None) -> str | None:
        key = (value, platform, country)
        return _once(self.zips, key, normalise_zip, value, platform, country)

    def phone(self, value: Any, country: Any) -> str | None:
        """A person's number, asked for by Meta's file and again by Google's."""
        return _once(self.phones, (value, country), normalise_phone, value, country)

    def hashed(self, value: str | None) -> str:
        """_h of a value many people share (not an address or a number)."""
        return _once(self.hashes, value, _h, value)


def csv_row(member: Mapping, memo: Memo | None = None) -> list[str] | None:
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


def meta_row(member: Mapping, memo: Memo | None = None) -> list[str] | None:
    """Return a Meta customer-list row, every cell SHA-256; None if unmatchable."""
    memo = memo or Memo()
    email = platform_email(member.get("email"), "meta")
    phone = memo.phone(member.get("phone"), member.get("country"))
    if not email and not phone:
        return None
    country = memo.country(member.get("country"))
    hashed = memo.hashed
    return [
        _h(email),
        _h(phone),
        hashed(memo.name(member.get("first_name"), "meta")),
        hashed(memo.name(member.get("last_name"), "meta")),
        hashed(memo.place(member.get("city"))),
        hashed(memo.place(member.get("state"))),
        hashed(memo.zip(member.get("zip"), "meta", country)),
        hashed(country),
    ]


def google_row(member: Mapping, memo: Memo | None = None) -> list[str] | None:
    """Return a Customer Match row; None if unmatchable.

    Email, Phone and names are SHA-256. Country and Zip are written (plain, as
    Google requires) only with both names, when an address match is possible:
    alone they match nothing and would only share data.
    """
    memo = memo or Memo()
    email = platform_email(member.get("email"), "google")
    phone = memo.phone(member.get("phone"), member.get("country"))
    if not email and not phone:
        return None
    first = memo.name(member.get("first_name"), "google")
    last = memo.name(member.get("last_name"), "google")
    country = memo.country(member.get("country"))
    zip_code = memo.zip(member.get("zip"), "google", country)
    address = bool(first and last and country and zip_code)
    return [
        _h(email),
        _h("+" + phone if phone else None),
        memo.hashed(first) if address else "",
        memo.hashed(last) if address else "",
        country if address else "",
        _safe(zip_code) if address else "",
    ]


def linkedin_row(member: Mapping, memo: Memo | None = None) -> list[str] | None:
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
