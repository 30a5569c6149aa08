"""`tracker.imports.formats`: each tool's subscriber export, known by its header.

The fixtures are written from each product's documented export columns, with
invented people.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.imports import CsvError
from tracker.imports.formats import parse_time, read_export
from tracker.journey.imported import Entry

FIXTURES = Path(__file__).parent / "fixtures"


def rows(name: str):
    known, read = read_export(str(FIXTURES / name))
    return known.tool, {(r.email if isinstance(r, Entry) else n): r for n, r in read}


def test_mailchimp_subscribed_export():
    tool, got = rows("subscribed_members_export_7c41d2e9b0.csv")
    assert tool == "Mailchimp"
    assert got["aino.virtanen@example.com"] == Entry(
        email="aino.virtanen@example.com",
        status="subscribed",
        name="Aino",
        consented_at="2024-05-02T08:14:09+00:00",
        confirmed_at="2024-05-02T08:15:40+00:00",
    )
    assert got["mikko.laine@example.com"].name == "Mikko"
    assert got["sanna.koski@example.net"].consented_at is None
    assert got["sanna.koski@example.net"].confirmed_at == "2025-06-30T17:45:12+00:00"
    assert got[6] == "not an email address"


def test_mailchimp_unsubscribed_and_cleaned_exports():
    _, unsubscribed = rows("unsubscribed_members_export_7c41d2e9b0.csv")
    leena = unsubscribed["leena.heikkinen@example.com"]
    assert (leena.status, leena.changed_at) == (
        "unsubscribed",
        "2025-09-14T07:30:00+00:00",
    )
    _, cleaned = rows("cleaned_members_export_7c41d2e9b0.csv")
    olli = cleaned["olli.makela@example.com"]
    assert (olli.status, olli.changed_at) == ("cleaned", "2025-12-01T03:00:00+00:00")


def test_kit_export():
    tool, got = rows("kit-subscribers.csv")
    assert tool == "Kit"
    assert {e: r.status for e, r in got.items() if isinstance(r, Entry)} == {
        "ilona@example.com": "subscribed",
        "ville@example.com": "unsubscribed",
        "tuuli@example.net": "cleaned",
        "eero@example.org": "complained",
    }
    assert got["ville@example.com"].consented_at == "2023-07-01T08:00:00+00:00"
    assert got[6] == "never confirmed in Kit (inactive)"


def test_ghost_export():
    tool, got = rows("members.2026-02-27.csv")
    assert tool == "Ghost"
    maria = got["maria.lehtonen@example.com"]
    assert (maria.status, maria.name, maria.consented_at) == (
        "subscribed",
        "Maria",
        "2024-03-14T11:22:33+00:00",
    )
    assert got["tapio@example.com"].status == "unsubscribed"
    assert got[4] == "deleted in Ghost"


def test_listmonk_export():
    tool, got = rows("subscribers.csv")
    assert tool == "listmonk"
    jussi = got["jussi@example.com"]
    assert (jussi.status, jussi.name) == ("subscribed", "Jussi")
    assert jussi.consented_at == "2024-03-05T09:12:44.123456+00:00"
    minna = got["minna@example.com"]
    assert (minna.status, minna.changed_at) == (
        "unsubscribed",
        "2025-05-05T05:05:05+00:00",
    )
    assert got[4] == "disabled in listmonk"


def test_substack_export():
    tool, got = rows("email_list.kettu-studio.csv")
    assert tool == "Substack"
    assert got["satu@example.com"].status == "subscribed"
    assert got["satu@example.com"].consented_at == "2024-08-27T15:06:27.713000+00:00"
    assert got["noora@example.net"].status == "unsubscribed"
    assert got[5] == "a deletion request in Substack"


def test_a_file_of_no_known_tool_names_what_was_expected(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Sähköposti,Nimi\naino@example.com,Aino\n")
    with pytest.raises(CsvError) as caught:
        read_export(str(path))
    text = str(caught.value)
    for tool in ("Mailchimp", "Kit", "Ghost", "listmonk", "Substack"):
        assert tool in text
    assert "OPTIN_TIME" in text and "subscribed_to_emails" in text
    assert text.endswith("its columns are Sähköposti, Nimi.")


def test_the_sentence_speaks_the_sites_language(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("Sähköposti,Nimi\naino@example.com,Aino\n")
    with pytest.raises(CsvError) as caught:
        read_export(str(path), "fi")
    assert str(caught.value).startswith("Tiedosto ei ole tilaajaluettelo")


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2018-02-12 10:54:27", "2018-02-12T10:54:27+00:00"),
        ("2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00+00:00"),
        ("2024-01-15 10:30:00.123456789 +0000 UTC", "2024-01-15T10:30:00.123456+00:00"),
        ("2024-01-15 12:30:00 +0200 EET", "2024-01-15T10:30:00+00:00"),
        ("2023-07-01 08:00:00 UTC", "2023-07-01T08:00:00+00:00"),
        ("2024-01-15", "2024-01-15T00:00:00+00:00"),
        ("", None),
    ],
)
def test_times_as_the_tools_write_them(raw, iso):
    assert parse_time(raw) == iso


@pytest.mark.parametrize("raw", ["yesterday", "2024-01-15 10:30:00 EET", "15/01/2024"])
def test_a_time_that_is_not_one_is_refused(raw):
    with pytest.raises(ValueError):
        parse_time(raw)
