"""Identifiers as the ad platforms match them: plain strings in, no app."""

from __future__ import annotations

import pytest

from tracker.journey import identifiers, people
from tracker.journey.identifiers import (
    AudienceError,
    SettingsError,
    identifier_hashes,
    normalise_country,
    normalise_name,
    normalise_phone,
    normalise_zip,
    platform_email,
    sha256_hex,
)

from .audience_records import HEX64


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        # Countries the old hand-made table of calling codes did not know.
        ("0912 345 678", "PH", "63912345678"),
        ("080-1234-5678", "JP", "818012345678"),
        ("0412 345 678", "AU", "61412345678"),
        # Trunk prefixes and international prefixes read per country.
        ("8 (912) 345-67-89", "RU", "79123456789"),
        ("00 46 70 123 45 67", "SE", "46701234567"),
        ("0046 70 123 45 67", None, "46701234567"),
        # Åland numbers use Finland's code.
        ("0457 123 4567", "AX", "3584571234567"),
        # A number no country has is no number.
        ("123", "FI", None),
        (True, "FI", None),
    ],
)
def test_phone_numbers_follow_each_countrys_plan(raw, country, expected):
    assert normalise_phone(raw, country) == expected


def test_platform_email_drops_what_a_form_would_refuse():
    # The people module refuses a bad address at the form; a list leaves it out.
    with pytest.raises(people.Refused):
        people.normalise_email("not an address")
    assert platform_email("not an address", "meta") is None
    assert platform_email(" Ana@Example.FI ", "meta") == "ana@example.fi"


def test_identifier_hashes_are_the_ad_platforms_forms():
    hashes = identifier_hashes({"email": "Ana.B+x@gmail.com"})
    assert hashes == {sha256_hex("ana.b+x@gmail.com"), sha256_hex("anab@gmail.com")}
    assert identifier_hashes({"email": None}) == set()


def test_an_unknown_platform_is_a_settings_error():
    with pytest.raises(AudienceError) as info:
        platform_email("a@b.fi", "tiktok")
    assert isinstance(info.value, SettingsError)
    assert isinstance(info.value, ValueError)


def test_sha256_known_vector():
    assert (
        sha256_hex("test@example.com")
        == "973dfe463ec85785f5f95af5ba3906eedb2d931c24e69824a89ea65dba4e813b"
    )


def test_sha256_hashes_utf8():
    assert sha256_hex("émilie") == sha256_hex("émilie".encode().decode("utf-8"))
    assert HEX64.match(sha256_hex("émilie"))


@pytest.mark.parametrize("platform", ["meta", "linkedin", "csv"])
def test_email_trimmed_and_lowercased_keeps_gmail_dots(platform):
    # Meta and LinkedIn document no Gmail rule: dots and tags stay.
    assert platform_email("  First.Last+ads@GMail.com ", platform) == (
        "first.last+ads@gmail.com"
    )


def test_email_gmail_rule_is_google_only():
    assert platform_email(" First.Last+ads@Gmail.com", "google") == (
        "firstlast@gmail.com"
    )
    assert platform_email("a.b.c@googlemail.com", "google") == "abc@googlemail.com"
    # Other domains keep their dots and tags.
    assert platform_email("User.Name+NYC@Example.com", "google") == (
        "user.name+nyc@example.com"
    )


@pytest.mark.parametrize("bad", [None, "", "   ", "no-at-sign", "@x.fi", "a@", 42])
def test_email_not_an_address(bad):
    assert platform_email(bad, "meta") is None


def test_unknown_platform_is_an_error():
    with pytest.raises(AudienceError, match="unknown format 'tiktok'"):
        platform_email("a@b.fi", "tiktok")


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+358 40 123 4567", None, "358401234567"),
        ("00358 40 123 4567", None, "358401234567"),
        ("040 123 4567", "FI", "358401234567"),
        ("040-1234567", "fi", "358401234567"),
        ("358401234567", "FI", "358401234567"),
        ("(212) 555-0100", "US", "12125550100"),
        ("1-212-555-0100", "US", "12125550100"),
        ("011 44 20 7031 3000", "US", "442070313000"),
        ("+1 (212) 555-0100", None, "12125550100"),
        ("12125550100", None, "12125550100"),
        ("06 1234 5678", "IT", "390612345678"),
        ("040 123 4567", None, None),  # national, country unknown
        ("040 123 4567", "ZZ", None),
        ("+0 123", None, None),
        ("12", None, None),
        ("", "FI", None),
        (None, "FI", None),
    ],
)
def test_phone_e164_digits(raw, country, expected):
    assert normalise_phone(raw, country) == expected


def test_names_per_platform():
    assert normalise_name(" Émilie-Anne O'Brien 2 ", "meta") == "émilieanneobrien"
    assert normalise_name("  Mary   Ann ", "google") == "mary ann"
    assert normalise_name("  Mary   Ann ", "csv") == "Mary Ann"
    assert normalise_name("", "meta") is None
    assert normalise_name("--", "meta") is None
    assert normalise_name(None, "google") is None


def test_country_iso2_lowercase():
    assert normalise_country(" FI ") == "fi"
    assert normalise_country("UK") == "gb"
    assert normalise_country("Finland") is None
    assert normalise_country("F1") is None
    assert normalise_country(None) is None


def test_zip_per_platform():
    assert normalise_zip("94303-5300", "meta", "US") == "94303"
    assert normalise_zip("WC2H 8LG", "meta", "GB") == "wc2h8lg"
    assert normalise_zip("00-950", "meta", "PL") == "00950"
    assert normalise_zip(" WC2H  8LG ", "google", "GB") == "WC2H 8LG"
    assert normalise_zip("94303-5300", "google", "US") == "94303-5300"
    assert normalise_zip(None, "meta") is None


def test_identifier_hashes_cover_the_google_gmail_form():
    hashes = identifiers.identifier_hashes({"email": "first.last@gmail.com"})
    assert hashes == {
        sha256_hex("first.last@gmail.com"),
        sha256_hex("firstlast@gmail.com"),
    }
