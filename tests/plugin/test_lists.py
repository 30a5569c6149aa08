"""Audience lists from the stored journey: `polku audiences` and the build."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import timedelta

from tracker import clock
from tracker.cli import cli
from tracker.db import get_storage

from ..conftest import Reader, build_site, copy_site, raw_data

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def stored_people(app):
    reader = Reader(app.test_client(), app)
    reader.confirm("ads.fan@gmail.com")
    with app.app_context():  # this one agreed to ads too
        contact = get_storage().find_contact("ads.fan@gmail.com")
    clock.set_now(clock.now() + timedelta(minutes=11))  # the next confirmation
    reader.subscribe("ads.fan@gmail.com", consent_ads="yes", first_name="Ada")
    confirm = reader.link("confirm", to="ads.fan@gmail.com")
    reader.post(confirm, data={"consent_ads": "yes"})  # ticked on the page
    reader.confirm("plain@example.com")
    reader.confirm("gone@example.com")

    with app.app_context():
        gone = get_storage().find_contact("gone@example.com")
    assert contact and gone
    return reader


def run(runner, app, *args):
    env = {"POLKU_DATA_DIR": app.config["DATA_DIR"], "POLKU_SECRET_KEY": "x" * 40}
    return runner.invoke(cli, ["audiences", *args], env=env)


def test_polku_audiences_writes_every_format(runner, app, tmp_path, monkeypatch):
    site = copy_site(tmp_path / "site")
    monkeypatch.chdir(site)
    reader = stored_people(app)
    with app.app_context():
        gone = get_storage().find_contact("gone@example.com")
    from tracker.web import tokens

    with app.test_request_context():
        token = tokens.make("unsubscribe", {"c": gone["id"]})
    reader.client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    out = tmp_path / "lists"
    result = run(runner, app, "--out", str(out))
    assert result.exit_code == 0, result.output
    # three people: under every minimum, said once in one table
    assert result.output.lower().count("below") == 1, result.output
    table = result.output.split("\n", 1)[1]
    for name in ("leads-not-customers.meta.csv", "leads-not-customers.google.csv"):
        assert name in table
    files = {p.name for p in out.iterdir()}
    assert "manifest.json" in files
    crm = out / "customers.csv"
    leads = next(out.glob("leads-not-customers.csv"))
    rows = list(csv.DictReader(leads.read_text().splitlines()))
    emails = {r["email"] for r in rows}
    assert emails == {
        "ads.fan@gmail.com",
        "plain@example.com",
    }  # never the unsubscribed
    assert crm.exists()
    meta = list(
        csv.reader(
            next(out.glob("leads-not-customers.meta.csv")).read_text().splitlines()
        )
    )
    assert meta[0][0] == "email" and len(meta) == 2  # only the one with ads consent
    assert all(HEX64.match(cell) for cell in meta[1] if cell)
    google = list(
        csv.reader(
            next(out.glob("leads-not-customers.google.csv")).read_text().splitlines()
        )
    )
    assert google[0][:2] == ["Email", "Phone"]
    assert google[1][0] == hashlib.sha256(b"adsfan@gmail.com").hexdigest()
    for path in out.glob("*.meta.csv"):
        assert "@" not in path.read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generated_at"] and manifest["source"]["contacts"] == 3


def test_erase_scrubs_the_audience_files(runner, app, tmp_path, monkeypatch):
    site = copy_site(tmp_path / "site")
    monkeypatch.chdir(site)
    stored_people(app)
    assert run(runner, app).exit_code == 0  # into <data dir>/audiences
    google_hash = hashlib.sha256(b"adsfan@gmail.com").hexdigest().encode()
    assert google_hash in raw_data(app)
    env = {"POLKU_DATA_DIR": app.config["DATA_DIR"], "POLKU_SECRET_KEY": "x" * 40}
    erased = runner.invoke(
        cli, ["contacts", "erase", "ads.fan@gmail.com", "--yes"], env=env
    )
    assert erased.exit_code == 0, erased.output
    raw = raw_data(app)
    assert google_hash not in raw and b"ads.fan@gmail.com" not in raw
    assert hashlib.sha256(b"ads.fan@gmail.com").hexdigest().encode() not in raw
    assert b"plain@example.com" in raw


def test_build_writes_lists_and_no_personal_data_reaches_output(app, tmp_path):
    stored_people(app)
    site = copy_site(tmp_path / "site")
    result = build_site(site, env={"POLKU_DATA_DIR": app.config["DATA_DIR"]})
    assert "audience lists" in result.stdout + result.stderr
    lists = list((tmp_path / "var" / "audiences").glob("*.csv"))
    assert lists
    output = b"".join(
        p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()
    )
    with app.app_context():
        people = list(get_storage().iter_contacts())
    assert people
    for person in people:
        email = person["email"].encode()
        assert email not in output
        assert hashlib.sha256(email).hexdigest().encode() not in output
        if person.get("first_name"):
            assert person["first_name"].encode() not in output
