"""A person's identifiers as each ad platform matches them, and their hashes.

Pure: strings in, strings out. The rules follow each platform's documentation
(checked 2026):

Meta, Custom Audiences customer list (Marketing API, "Customer File Custom
Audiences", and "Customer Information Parameters"): email trimmed and
lowercased; phone digits only, with country code, no leading zeros; names
lowercase letters only, special characters in UTF-8; city lowercase letters
only; state lowercase, no punctuation; zip lowercase without spaces or dash,
first 5 digits in the US; country lowercase ISO 3166-1 alpha-2; every value
SHA-256, hex. Meta documents no Gmail dot or "+tag" rule, so Meta emails keep
them.

Google, Customer Match (Data Manager API, "Format user data"): email
lowercased, whitespace removed, and for gmail.com / googlemail.com the dots
before "@" and any "+tag" removed (other domains keep both); phone in E.164
with the "+" before hashing; names lowercase and trimmed; region code and
postal code not hashed; SHA-256 hex.

LinkedIn, Matched Audiences: email addresses plain or SHA-256 hashed; names
are matched in plain text only, so we never send them.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from typing import Any

import phonenumbers

PLATFORMS = ("csv", "meta", "google", "linkedin")
AD_PLATFORMS = ("meta", "google", "linkedin")
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


class SettingsError(ValueError):
    """A site setting has a value Polku cannot use; the message names it."""


class AudienceError(SettingsError):
    """An audience definition, format or input that cannot be used."""


def sha256_hex(value: str) -> str:
    """Return the SHA-256 of the UTF-8 bytes of value, as 64 lowercase hex digits."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def check_platform(platform: str) -> str:
    """Return platform, or raise AudienceError naming the ones there are."""
    if platform not in PLATFORMS:
        raise AudienceError(
            f"unknown format {platform!r}; expected one of {', '.join(PLATFORMS)}"
        )
    return platform


def platform_email(email: Any, platform: str = "csv") -> str | None:
    """Return the address as the platform hashes it, or None if it is not one.

    Unlike `tracker.journey.people.normalise_email`, which refuses a bad address
    at a form, this never raises on bad input: a list simply leaves it out.
    Every platform: trimmed and lowercased. Google only: all whitespace removed,
    and for gmail.com and googlemail.com the dots of the local part and any
    "+tag" removed.
    """
    check_platform(platform)
    if not isinstance(email, str):
        return None
    value = email.strip().lower()
    if platform == "google":
        value = "".join(value.split())
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in value):
        return None
    if platform == "google" and domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        if not local:
            return None
    return f"{local}@{domain}"


def normalise_phone(phone: Any, default_country: str | None = None) -> str | None:
    """Return the number in E.164 as digits without "+" (e.g. "358401234567").

    "+" or "00" starts an international number; otherwise ``default_country``
    (ISO-2, the contact's country) places a national number, as the
    `phonenumbers` library reads that country's numbers (trunk prefixes,
    international call prefixes such as North America's "011"). Without a
    country, a number that does not start with 0 is taken to include its code.
    None when the result is not a possible number. Meta hashes these digits;
    Google hashes them with a leading "+".
    """
    if not isinstance(phone, str | int) or isinstance(phone, bool):
        return None
    raw = str(phone).strip()
    digits = "".join(c for c in raw if "0" <= c <= "9")
    if not digits:
        return None
    country = (normalise_country(default_country) or "").upper()
    if raw.startswith("+"):
        text, region = raw, None
    elif digits.startswith("00"):
        text, region = "+" + digits[2:], None
    elif country in phonenumbers.SUPPORTED_REGIONS:
        text, region = raw, country
    elif country or digits.startswith("0"):
        return None  # a national number from a country we cannot place
    else:
        text, region = "+" + digits, None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def normalise_name(name: Any, platform: str = "csv") -> str | None:
    """Return a first or last name as the platform hashes it, or None.

    Meta: lowercase letters only (no spaces, punctuation or digits), accented
    letters kept and hashed as UTF-8, in Unicode NFC. Google: lowercase with
    leading and trailing whitespace trimmed (inner runs become one space).
    CSV and LinkedIn (which matches names in plain text only): trimmed.
    """
    check_platform(platform)
    if not isinstance(name, str):
        return None
    value = " ".join(unicodedata.normalize("NFC", name).split())
    if platform == "meta":
        value = "".join(c for c in value.lower() if c.isalpha())
    elif platform == "google":
        value = value.lower()
    return value or None


def normalise_country(country: Any) -> str | None:
    """Return an ISO 3166-1 alpha-2 code in lowercase ("FI" -> "fi"), or None."""
    if not isinstance(country, str):
        return None
    value = country.strip().lower()
    value = {"uk": "gb"}.get(value, value)
    return value if len(value) == 2 and value.isascii() and value.isalpha() else None


def normalise_zip(
    zip_code: Any, platform: str = "csv", country: Any = None
) -> str | None:
    """Return a postal code as the platform takes it, or None.

    Meta (hashed): lowercase, no spaces or dashes, the first 5 digits in the
    US. Google (not hashed): trimmed, inner whitespace collapsed, as written
    ("94303-5300", "WC2H 8LG").
    """
    check_platform(platform)
    if isinstance(zip_code, int) and not isinstance(zip_code, bool):
        zip_code = str(zip_code)
    if not isinstance(zip_code, str):
        return None
    value = " ".join(zip_code.split())
    if platform == "meta":
        value = value.lower().replace(" ", "")
        if normalise_country(country) == "us":
            value = value.split("-", 1)[0][:5]
        value = value.replace("-", "")
    return value or None


def normalise_place(value: Any) -> str | None:
    """Return a city or state for Meta: lowercase letters only (UTF-8), or None."""
    if not isinstance(value, str):
        return None
    cleaned = unicodedata.normalize("NFC", value).lower()
    return "".join(c for c in cleaned if c.isalpha()) or None


def identifier_hashes(contact: Mapping) -> set[str]:
    """Return every email hash an ad file may hold for the contact.

    Erasure scrubs audience files by these: Google's Gmail rule makes its hash
    differ from the plain SHA-256 of the stored address.
    """
    found = set()
    for platform in AD_PLATFORMS:
        email = platform_email(contact.get("email"), platform)
        if email:
            found.add(sha256_hex(email))
    return found
