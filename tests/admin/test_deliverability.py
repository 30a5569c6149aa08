"""The dashboard's Deliverability page, its warning on the overview, the person's
suppression on their page, and the weekly report's warnings: after a real
digest to a real SMTP server (aiosmtpd) that refuses one of three recipients."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tracker import i18n
from tracker.cli import cli
from tracker.db import get_storage
from tracker.mail import bounces

from ..conftest import Reader
from ..mail.digest_site import polku, site_on
from ..mail.test_digest_addresses import subscribers
from ..mailserver import mail_server
from .conftest import PASSWORD

GONE = "gone@example.com"
EVERYONE = ("a@example.com", GONE, "b@example.com")


def sent_digest(runner, tmp_path, app_factory, monkeypatch, answer: str | None):
    """Three subscribers, a digest whose server answers `answer` to GONE; the
    dashboard's client, logged in, and the digest's id."""
    refuse = {GONE: answer} if answer else {}
    with mail_server(smtputf8=True, refuse=refuse) as (_server, port):
        site = site_on(tmp_path, port)
        subscribers(app_factory, site, EVERYONE)
        result = polku(runner, site, "--send", monkeypatch=monkeypatch)
    run = re.search(r"(digest-\S+): ", result.output).group(1)
    app = app_factory(DATA_DIR=site[1]["POLKU_DATA_DIR"], ADMIN_PASSWORD=PASSWORD)
    admin = app.test_client()
    assert admin.post("/admin/login", data={"password": PASSWORD}).status_code == 303
    return app, admin, site, run


def text(page) -> str:
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_send_past_the_hard_bounce_limit_is_warned_about(
    runner, tmp_path, app_factory, monkeypatch
):
    app, admin, _site, run = sent_digest(
        runner, tmp_path, app_factory, monkeypatch, "550 5.1.1 No such mailbox"
    )
    page = text(admin.get("/admin/deliverability"))
    rate = i18n.format_percent(1 / 3, "en", 1)  # one of the three addressed
    table = page[page.index("Sends, the latest first") :]
    row = table[table.index(run) :].split()
    assert row[1:6] == ["warning", "2", "1", f"({rate})", "0"]  # sent, hard, soft
    assert f"hard bounces at {rate} of the recipients" in page  # the alert
    overview = text(admin.get("/admin/"))
    assert "Deliverability warning: 1 recent send passed" in overview
    with app.app_context():
        person = get_storage().find_contact(GONE)
    mine = text(admin.get(f"/admin/contacts/{person['id']}"))
    assert "suppressed since" in mine and "a hard bounce" in mine
    assert "hard bounce: 550 5.1.1 No such mailbox" in mine  # the timeline


def test_a_policy_block_is_an_alert_and_suppresses_no_one(
    runner, tmp_path, app_factory, monkeypatch
):
    app, admin, _site, run = sent_digest(
        runner, tmp_path, app_factory, monkeypatch, "550 5.7.1 <b>Spam</b>"
    )
    page = admin.get("/admin/deliverability").get_data(as_text=True)
    assert "<b>Spam</b>" not in page and "&lt;b&gt;Spam&lt;/b&gt;" in page
    assert "blocked the sender by policy 1 time" in text(
        admin.get("/admin/deliverability")
    )
    with app.app_context():
        person = get_storage().find_contact(GONE)
    assert "Not suppressed" in text(admin.get(f"/admin/contacts/{person['id']}"))


def test_complaints_past_a_tenth_of_a_percent_and_the_weekly_report(
    runner, tmp_path, app_factory, monkeypatch, smtp
):
    app, admin, site, run = sent_digest(
        runner,
        tmp_path,
        app_factory,
        monkeypatch,
        None,  # no refusal
    )
    with app.app_context():
        person = get_storage().find_contact("a@example.com")
        report = bounces.Report(
            "complaint", "arf-1", "imap", ref=None, send=run, email="a@example.com"
        )
        assert bounces.apply(get_storage(), "x", report) == bounces.APPLIED
    page = text(admin.get("/admin/deliverability"))
    rate = i18n.format_percent(1 / 3, "en", 1)
    assert f"spam complaints at {rate} of the messages delivered" in page
    assert "Reported an email as spam" in text(
        admin.get(f"/admin/contacts/{person['id']}")
    )
    inbox, port = smtp
    env = {**{k: v for k, v in site[1].items() if k.startswith("POLKU_")}}
    env["POLKU_SMTP_PORT"] = str(port)
    sent = runner.invoke(cli, ["report", "--email", "owner@example.com"], env=env)
    assert sent.exit_code == 0, sent.output
    (email,) = inbox.to("owner@example.com")
    plain = " ".join(email.get_body(("plain",)).get_content().split())
    assert f"{run}: spam complaints at {rate} of the messages delivered" in plain


def test_a_refused_signup_shows_its_reason_on_the_persons_page(admin, admin_app):
    reader = Reader(admin_app.test_client(), admin_app)
    reader.confirm(GONE)
    with admin_app.app_context():
        person = get_storage().find_contact(GONE)
        bounces.record_bounce(get_storage(), person["id"], "hard", "d1", "550 5.1.1")
    reader.subscribe(GONE)
    page = text(admin.get(f"/admin/contacts/{person['id']}"))
    assert "Signup refused: the address is suppressed" in page
    assert "Suppressed for a hard bounce: nothing was sent." in page


@pytest.mark.parametrize("path", ["/admin/deliverability", "/admin/"])
def test_the_pages_in_finnish(admin_app, admin, path):
    manifest = Path(admin_app.config["DATA_DIR"]) / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "site": {**data["site"], "lang": "fi"}}))
    page = admin.get(path).get_data(as_text=True)
    assert "Toimitettavuus" in page and "Deliverability" not in page
