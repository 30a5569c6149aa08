"""Audience files for the CRM and the ad platforms, from literal records and no app."""

from __future__ import annotations

import csv
import json
import os

import pytest
from pelican.plugins.polku import audiences as aud
from pelican.plugins.polku.audiences import write_audiences

from tracker.journey.audiences import parse_audiences
from tracker.journey.identifiers import AudienceError, platform_email, sha256_hex
from tracker.journey.members import AudienceMembers

from ..journey.audience_records import HEX64, MANIFEST, NOW, contact, event, run, ts


def read_csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def full(cid: str, **over) -> dict:
    """A member row with every identifier the ad formats can use."""
    return {
        **contact(cid),
        "email": f"{cid}.Name@gmail.com".lower(),
        "first_name": "Émilie",
        "last_name": "O'Brien",
        "phone": "040 123 4567",
        "country": "FI",
        "zip": "00100",
        "city": "Helsinki",
        "stage": "lead",
        "score": 12,
        "interests": ["kahvi", "tee-yrtit"],
        **over,
    }


def write(tmp_path, rows, formats=aud.FORMATS, **kwargs):
    out = tmp_path / "audiences"
    warnings = write_audiences(
        str(out), rows, formats, {"contacts": 4, "store": "tinydb"}, now=NOW, **kwargs
    )
    return out, warnings


def test_headers_exactly_per_platform(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana")]})
    assert read_csv(out / "x.csv")[0] == [
        "email",
        "first_name",
        "stage",
        "score",
        "interests",
        "newsletter_consent",
        "ads_consent",
    ]
    assert read_csv(out / "x.meta.csv")[0] == [
        "email",
        "phone",
        "fn",
        "ln",
        "ct",
        "st",
        "zip",
        "country",
    ]
    assert read_csv(out / "x.google.csv")[0] == [
        "Email",
        "Phone",
        "First Name",
        "Last Name",
        "Country",
        "Zip",
    ]
    assert read_csv(out / "x.linkedin.csv")[0] == [
        "email",
        "firstname",
        "lastname",
        "jobtitle",
        "employeecompany",
        "country",
        "googleaid",
    ]


def test_csv_for_the_crm(tmp_path):
    no_ads = full("ben", first_name="=HYPERLINK(1)", consent={"newsletter": {}})
    out, warnings = write(tmp_path, {"x": [full("ana"), no_ads]}, ["csv"])
    assert warnings == []
    assert read_csv(out / "x.csv")[1:] == [
        ["ana.name@gmail.com", "Émilie", "lead", "12", "kahvi;tee-yrtit",
         ts(10), ts(10)],
        ["ben.name@gmail.com", "'=HYPERLINK(1)", "lead", "12", "kahvi;tee-yrtit",
         "yes", ""],
    ]  # fmt: skip


def test_meta_cells_are_hashes_of_the_normalised_values(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana")]}, ["meta"])
    row = read_csv(out / "x.meta.csv")[1]
    assert row == [
        sha256_hex("ana.name@gmail.com"),  # Meta keeps Gmail dots
        sha256_hex("358401234567"),  # digits, no "+"
        sha256_hex("émilie"),
        sha256_hex("obrien"),
        sha256_hex("helsinki"),
        "",  # no state given
        sha256_hex("00100"),
        sha256_hex("fi"),
    ]


def test_google_cells(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana")]}, ["google"])
    assert read_csv(out / "x.google.csv")[1] == [
        sha256_hex("ananame@gmail.com"),  # Gmail dots removed for Google only
        sha256_hex("+358401234567"),  # E.164 with "+"
        sha256_hex("émilie"),
        sha256_hex("o'brien"),
        "fi",  # Country and Zip are not hashed
        "00100",
    ]


def test_google_address_only_when_complete(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana", zip=None, phone=None)]}, ["google"])
    assert read_csv(out / "x.google.csv")[1] == [
        sha256_hex("ananame@gmail.com"),
        "",
        "",
        "",
        "",
        "",
    ]


def test_linkedin_holds_the_hashed_email_only(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana")]}, ["linkedin"])
    assert read_csv(out / "x.linkedin.csv")[1] == [
        sha256_hex("ana.name@gmail.com"),
        "",
        "",
        "",
        "",
        "",
        "",
    ]


def test_ad_formats_hold_only_live_ads_consent(tmp_path):
    withdrawn = full("cid")
    withdrawn["consent"]["ads"] = {"confirmed_at": ts(9), "withdrawn_at": ts(1)}
    rows = {
        "x": [
            full("ana"),
            full("ben", consent={"newsletter": {"confirmed_at": ts(3)}, "ads": None}),
            withdrawn,
            full("dan", consent={}),
        ]
    }
    out, _ = write(tmp_path, rows)
    for fmt in aud.AD_FORMATS:
        body = read_csv(out / f"x.{fmt}.csv")[1:]
        assert len(body) == 1, fmt
        assert body[0][0] == sha256_hex(platform_email("ana.name@gmail.com", fmt))
    assert len(read_csv(out / "x.csv")) == 5  # the CRM gets everyone
    manifest = json.loads((out / "manifest.json").read_text())
    meta = next(f for f in manifest["files"] if f["file"] == "x.meta.csv")
    assert meta["members"] == 4
    assert meta["rows"] == 1
    assert meta["without_ads_consent"] == 3


def test_no_raw_identifier_in_ad_files(tmp_path):
    people = [full(f"p{i}") for i in range(5)] + [full("x", email="Plain@Example.COM")]
    out, _ = write(tmp_path, {"x": people}, aud.AD_FORMATS)
    for fmt in aud.AD_FORMATS:
        text = (out / f"x.{fmt}.csv").read_text(encoding="utf-8")
        text = text.split("\n", 1)[1]  # the rows, after the header
        assert "@" not in text
        for needle in ("name", "plain", "émilie", "brien", "helsinki", "0401234567"):
            assert needle not in text.lower(), (fmt, needle)
        for row in read_csv(out / f"x.{fmt}.csv")[1:]:
            hashed = row if fmt == "meta" else row[:2] if fmt == "google" else row[:1]
            for cell in hashed:
                assert cell == "" or HEX64.match(cell), (fmt, cell)


def test_unmatchable_people_are_skipped_and_counted(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana", email="not-an-address", phone=None)]})
    assert len(read_csv(out / "x.meta.csv")) == 1
    manifest = json.loads((out / "manifest.json").read_text())
    meta = next(f for f in manifest["files"] if f["file"] == "x.meta.csv")
    assert meta["unmatchable"] == 1


def test_below_minimum_writes_and_names_the_small_lists(tmp_path):
    enough = [full(f"p{i}") for i in range(100)]
    out, small = write(tmp_path, {"big": enough}, ["meta", "google", "linkedin"])
    assert small == [
        {
            "file": "big.linkedin.csv",
            "platform": "LinkedIn",
            "rows": 100,
            "minimum": 300,
            "note": "",
        }
    ]
    assert len(read_csv(out / "big.linkedin.csv")) == 101
    _, small = write(tmp_path, {"small": enough[:3]}, ["google"])
    assert small == [
        {
            "file": "small.google.csv",
            "platform": "Google",
            "rows": 3,
            "minimum": 100,
            "note": "1,000 for YouTube",
        }
    ]


def test_a_previous_runs_doubled_names_are_removed(tmp_path):
    out, _ = write(tmp_path, {"x": [full("ana")]}, ["csv"])
    (out / "x.csv.csv").write_text("old")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"].append({"file": "x.csv.csv"})
    (out / "manifest.json").write_text(json.dumps(manifest))
    write(tmp_path, {"x": [full("ana")]}, ["csv"])
    assert sorted(os.listdir(out)) == ["manifest.json", "x.csv"]


def test_manifest_says_when_from_what_and_how(tmp_path):
    found = parse_audiences({"hot": {"min_score": 20, "description": "Hot"}}, {})
    rows = AudienceMembers({"hot": [full("ana")]}, {a.name: a for a in found})
    out, _ = write(tmp_path, rows, ["csv", "meta"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generated_at"] == "2026-11-23T12:00:00+00:00"
    assert manifest["source"] == {"contacts": 4, "store": "tinydb"}
    assert manifest["formats"] == ["csv", "meta"]
    assert manifest["files"] == [
        {
            "file": "hot.csv",
            "audience": "hot",
            "format": "csv",
            "members": 1,
            "rows": 1,
            "without_ads_consent": 0,
            "unmatchable": 0,
            "rules": {"min_score": 20, "description": "Hot"},
            "description": "Hot",
        },
        {
            "file": "hot.meta.csv",
            "audience": "hot",
            "format": "meta",
            "members": 1,
            "rows": 1,
            "without_ads_consent": 0,
            "unmatchable": 0,
            "rules": {"min_score": 20, "description": "Hot"},
            "description": "Hot",
            "minimum": 100,
            "spec": "https://www.facebook.com/business/help/2082575038703844",
            "warning": "hot.meta.csv: 1 people, below Meta's minimum of 100 for a "
            "matchable list; written anyway",
        },
    ]


def test_members_result_carries_the_rules_to_the_manifest(tmp_path):
    found = parse_audiences({"hot": {"min_score": 5}}, MANIFEST)
    timelines = {"ana": [event("ana", "download", guide="kahvi-opas")]}
    rows = run(found, [contact("ana")], timelines=timelines)
    out, _ = write(tmp_path, rows, ["csv"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"][0]["rules"] == {"min_score": 5}


def test_files_are_replaced_atomically_and_stale_ones_removed(tmp_path):
    out, _ = write(tmp_path, {"old": [full("ana")], "keep": [full("ben")]})
    (out / "notes.txt").write_text("mine")
    write(tmp_path, {"keep": [full("ben")]}, ["csv"])
    assert sorted(os.listdir(out)) == ["keep.csv", "manifest.json", "notes.txt"]
    mode = os.stat(out / "keep.csv").st_mode & 0o777
    assert mode == 0o600  # personal data: the owner's eyes only


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    out, _ = write(tmp_path, {"x": [full("ana")]}, ["csv"])
    before = (out / "x.csv").read_bytes()

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(aud.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write(tmp_path, {"x": [full("ben")]}, ["csv"])
    assert (out / "x.csv").read_bytes() == before
    assert not [n for n in os.listdir(out) if n.startswith(".tmp")]


@pytest.mark.parametrize(
    ("formats", "message"),
    [(["tiktok"], "unknown format 'tiktok'"), ([], "no format given")],
)
def test_write_refuses_unknown_formats(tmp_path, formats, message):
    with pytest.raises(AudienceError, match=message):
        write(tmp_path, {"x": []}, formats)


def test_write_refuses_a_name_that_is_not_a_file_name(tmp_path):
    with pytest.raises(AudienceError, match="cannot name a file"):
        write(tmp_path, {"../x": []}, ["csv"])
