"""`polku digest` against a real SMTP server (aiosmtpd) and the real app."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tracker import clock
from tracker.cli import cli
from tracker.db import get_storage

from ..conftest import SITE, Inbox, Reader, child_environ
from .digest_site import polku, site_on


@pytest.fixture
def site(tmp_path, smtp):
    """A site folder with a data dir holding fresh posts, and the env for polku."""
    return site_on(tmp_path, smtp[1])


def people(app_factory, site, confirmed=("a@example.com", "b@example.com")):
    """Confirmed subscribers, one pending and one unsubscribed, on the site's data."""
    data_dir = site[1]["POLKU_DATA_DIR"]
    app = app_factory(DATA_DIR=data_dir)
    (Path(data_dir) / "manifest.json").write_text(site[1]["manifest"])
    reader = Reader(app.test_client(), app)
    for address in confirmed:
        reader.confirm(address)
    reader.subscribe("pending@example.com")
    reader.confirm("gone@example.com")
    token = unsubscribe_token(app, "gone@example.com")
    reader.client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    return app, reader


def unsubscribe_token(app, address):
    from tracker.web import tokens

    with app.app_context():
        contact = get_storage().find_contact(address)
    with app.test_request_context():
        return tokens.make("unsubscribe", {"c": contact["id"]})


def test_send_delivers_real_emails_to_confirmed_subscribers_only(
    runner, site, smtp, app_factory, monkeypatch
):
    inbox, _ = smtp
    app, reader = people(app_factory, site)
    result = polku(runner, site, "--send", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "2 of 2 messages sent" in result.output
    assert sorted(m["To"] for m in inbox.messages) == ["a@example.com", "b@example.com"]
    msg = inbox.to("a@example.com")[0]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for header in ("Message-ID", "Date", "From", "List-Id", "List-Unsubscribe"):
        assert msg[header], header
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "<style" not in html.split("@media")[0] or 'style="' in html
    assert "<b>bold" not in html, [
        html[m.start() - 40 : m.end() + 9] for m in re.finditer("<b>bold", html)
    ]
    assert "Two &lt;b" in html, [
        html[m.start() : m.end() + 40] for m in re.finditer("Two", html)
    ]
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all(link.startswith(("https://", "http://")) for link in links)
    click = next(link for link in re.findall(r"\S+/click/\S+", text))
    assert click.startswith(SITE)
    # Following the click link records it and lands on the post with UTM tags.
    path = urlsplit(click).path
    landed = reader.client.get(path, headers=reader.headers)
    query = parse_qs(urlsplit(landed.headers["Location"]).query)
    assert query["utm_source"] == ["newsletter"] and query["utm_medium"] == ["email"]
    assert query["utm_campaign"][0].startswith("digest-")


def test_one_click_unsubscribe_from_the_digest(
    runner, site, smtp, app_factory, monkeypatch
):
    inbox, _ = smtp
    app, reader = people(app_factory, site, confirmed=("a@example.com",))
    polku(runner, site, "--send", monkeypatch=monkeypatch)
    header = inbox.to("a@example.com")[0]["List-Unsubscribe"]
    url = re.search(r"<(https?://[^>]+)>", header).group(1)
    response = reader.client.post(
        urlsplit(url).path, data={"List-Unsubscribe": "One-Click"}
    )  # as a mail provider sends it: no Origin, no cookie
    assert response.status_code == 200
    with app.app_context():
        assert get_storage().find_contact("a@example.com")["status"] == "unsubscribed"


def test_nothing_new_sends_nothing(runner, site, smtp, app_factory, monkeypatch):
    inbox, _ = smtp
    people(app_factory, site)
    polku(runner, site, "--send", monkeypatch=monkeypatch)
    again = polku(runner, site, "--send", monkeypatch=monkeypatch)
    assert again.exit_code == 0 and "Nothing new" in again.output
    assert len(inbox.messages) == 2


def test_dry_run_and_test_copy_change_nothing(
    runner, site, smtp, app_factory, monkeypatch, tmp_path
):
    inbox, _ = smtp
    people(app_factory, site)
    out = tmp_path / "preview"
    dry = polku(runner, site, "--dry-run", str(out), monkeypatch=monkeypatch)
    assert dry.exit_code == 0, dry.output
    assert len(list(out.glob("*.eml"))) == 2 and (out / "index.html").is_file()
    copy = polku(runner, site, "--to", "owner@example.com", monkeypatch=monkeypatch)
    assert copy.exit_code == 0, copy.output
    assert [m["To"] for m in inbox.messages] == ["owner@example.com"]
    real = polku(runner, site, "--send", monkeypatch=monkeypatch)
    assert "2 of 2 messages sent" in real.output


def test_modes_are_exclusive(runner, site, monkeypatch):
    result = polku(
        runner, site, "--send", "--to", "x@example.com", monkeypatch=monkeypatch
    )
    assert result.exit_code == 2 and "Choose one of" in result.output


def test_a_killed_send_resumes_and_nobody_gets_two(site, smtp, app_factory):
    inbox, _ = smtp
    addresses = [f"r{n}@example.com" for n in range(8)]
    people(app_factory, site, confirmed=addresses)
    folder, env = site
    command = [sys.executable, "-m", "tracker.cli", "digest", "--send", "--rate", "0"]
    full_env = {**child_environ(), **env}
    first = subprocess.Popen(
        command,
        cwd=folder,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    inbox.kill_at = (4, first.pid)  # dies while the 4th message is in flight
    assert first.wait(timeout=60) == -signal.SIGKILL
    assert len(inbox.messages) == 3
    second = subprocess.run(
        command, cwd=folder, env=full_env, capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert "3 already had it" in second.stdout
    assert sorted(m["To"] for m in inbox.messages) == sorted(addresses)


def test_a_second_send_waits_for_the_first(
    runner, site, smtp, app_factory, monkeypatch
):
    import os
    import socket

    inbox, _ = smtp
    app, _ = people(app_factory, site)
    busy = {
        "owner": "a-cron-job",
        "host": socket.gethostname(),
        "pid": os.getpid(),  # alive: this very test
        "since": "2026-11-23T07:00:00+00:00",
        "until": time.time() + 600,
    }
    with app.app_context():
        get_storage().update_meta("digest-sender", lambda _: busy)
    refused = polku(runner, site, "--send", monkeypatch=monkeypatch)
    assert refused.exit_code == 1 and "another send is running" in refused.output
    assert inbox.messages == []
    with app.app_context():
        get_storage().update_meta("digest-sender", lambda _: None)
    assert (
        "2 of 2 messages sent"
        in polku(runner, site, "--send", monkeypatch=monkeypatch).output
    )


def test_someone_who_leaves_during_a_send_is_not_mailed(site, smtp, app_factory):
    from pelican.plugins.polku import digest as content

    from tracker.cli.digest import digest_settings
    from tracker.mail import digest as newsletter

    inbox, _ = smtp
    app, _ = people(app_factory, site)
    with app.test_request_context():
        storage = get_storage()
        everyone = newsletter.recipients(storage)
        leaving = everyone[0]
        storage.erase_contact(leaving["id"])  # after the list was read
        outcome = newsletter.send_digest(
            storage,
            settings=digest_settings({}),
            env=content.make_env(str(Path(site[0]) / "theme")),
            interests=lambda c: {},
            deliver=lambda msg: inbox.messages.append(msg),
            mode="send",
            rate=0,
            only=everyone,
        )
        assert storage.ledger_keys(outcome.digest_id) == {everyone[1]["id"]}
    assert [m["To"] for m in inbox.messages] == [everyone[1]["email"]]
    assert outcome.skipped == 1


def test_a_recipient_refused_for_now_is_tried_again_later_and_gets_one_copy(
    runner, site, smtp, app_factory, monkeypatch, set_clock
):
    """A 451 no longer holds the run: the message waits in the retry queue,
    the run finishes, and a later run sends it once the backoff is over."""
    inbox, port = smtp
    people(app_factory, site)

    original = Inbox.handle_DATA

    async def refuse_b(self, server, session, envelope):
        if b"b@example.com" in envelope.content:
            return "451 Mailbox busy"
        return await original(self, server, session, envelope)

    monkeypatch.setattr(Inbox, "handle_DATA", refuse_b)
    result = polku(runner, site, "--send", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "b@example.com: 451 Mailbox busy" in result.output
    assert "the next one starts from here" in result.output
    assert [m["To"] for m in inbox.messages] == ["a@example.com"]
    monkeypatch.setattr(Inbox, "handle_DATA", original)
    soon = polku(runner, site, "--send", monkeypatch=monkeypatch)
    assert "Nothing new" in soon.output and len(inbox.messages) == 1  # not yet due
    set_clock(clock.now() + timedelta(minutes=16))
    retry = polku(runner, site, "--send", monkeypatch=monkeypatch)
    assert retry.exit_code == 0, retry.output
    assert "1 delayed message sent" in retry.output
    assert sorted(m["To"] for m in inbox.messages) == ["a@example.com", "b@example.com"]
    set_clock(clock.now() + timedelta(hours=5))
    polku(runner, site, "--send", monkeypatch=monkeypatch)
    assert len(inbox.to("b@example.com")) == 1


def test_customers_are_asked_for_feedback_at_most_once_per_period(
    runner, site, smtp, app_factory, monkeypatch
):
    inbox, _ = smtp
    app, reader = people(app_factory, site)
    reader.post(
        "/api/conversion",
        json_body={"email": "a@example.com", "value": 290},
        Authorization="Bearer test-api-key",
    )
    polku(runner, site, "--send", monkeypatch=monkeypatch)
    customer = inbox.to("a@example.com")[0].get_body(("plain",)).get_content()
    other = inbox.to("b@example.com")[0].get_body(("plain",)).get_content()
    links = re.findall(r"\S+/feedback/\S+\?score=\d+", customer)
    assert len(links) == 11 and "/feedback/" not in other
    # Answer with a 9: a promoter becomes an advocate.
    nine = next(link for link in links if link.endswith("score=9"))
    path = urlsplit(nine).path
    assert reader.post(path, data={"score": "9"}).status_code == 303
    with app.app_context():
        assert get_storage().find_contact("a@example.com")["advocate_at"]
    # A new post and a new digest: no question again so soon.
    manifest = json.loads(site[1]["manifest"])
    time.sleep(1.1)  # the new post is published after the first digest's cut-off
    recent = clock.now().strftime("%Y-%m-%dT%H:%M:%S")
    manifest["posts"].append(
        {**manifest["posts"][0], "url": "posts/three/", "date": recent}
    )
    (Path(site[1]["POLKU_DATA_DIR"]) / "manifest.json").write_text(json.dumps(manifest))
    again = polku(runner, site, "--send", monkeypatch=monkeypatch)
    assert again.exit_code == 0, again.output
    second = inbox.to("a@example.com")[1].get_body(("plain",)).get_content()
    assert "/feedback/" not in second
    report = json.loads(
        runner.invoke(
            cli,
            ["report", "--json"],
            env={k: v for k, v in site[1].items() if k.startswith("POLKU_")},
        ).output
    )
    assert report["feedback"]["promoters"] == 1 and report["feedback"]["nps"] == 100


def test_a_reader_who_chose_finnish_gets_the_digest_in_finnish(
    app_factory, site, smtp, runner, monkeypatch
):
    app, _reader = people(app_factory, site)
    with app.app_context():
        storage = get_storage()
        with storage.transaction() as tx:
            chosen = tx.find("b@example.com")
            tx.save({**chosen, "lang": "fi"})
    result = polku(runner, site, "--send", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    inbox, _port = smtp

    def text(address):
        (msg,) = inbox.to(address)
        return msg.get_body(("plain",)).get_content()

    assert "Peru tilaus" in text("b@example.com")
    assert "Peru tilaus" not in text("a@example.com")
