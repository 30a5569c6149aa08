"""Identifiers as the ad platforms match them: plain strings in, no app."""

from __future__ import annotations

import pytest

from tracker.journey import people
from tracker.journey.identifiers import (
    AudienceError,
    SettingsError,
    identifier_hashes,
    normalise_phone,
    platform_email,
    sha256_hex,
)


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
