"""`polku digest` to international addresses, against real SMTP servers (with and
without SMTPUTF8): one recipient's failure is theirs alone."""

from __future__ import annotations

import email.parser
import email.policy
from datetime import timedelta
from pathlib import Path

import pytest

from tracker import clock

from ..conftest import Reader
from ..mailserver import mail_server
from .digest_site import polku, site_on

JORG = "jörg@exämple.fi"  # a Unicode local part: needs SMTPUTF8
ANNA = "anna@exämple.fi"  # a Unicode domain only: goes out as xn--
XN = "xn--exmple-cua.fi"
EVERYONE = ("a@example.com", JORG, ANNA, "b@example.com")  # in signup order


def subscribers(app_factory, site, addresses=EVERYONE):
    """Confirmed subscribers, signed up through the forms in this order."""
    data_dir = site[1]["POLKU_DATA_DIR"]
    app = app_factory(DATA_DIR=data_dir)
    (Path(data_dir) / "manifest.json").write_text(site[1]["manifest"])
    reader = Reader(app.test_client(), app)
    for address in addresses:
        assert reader.subscribe(address).status_code == 303
        assert reader.post(reader.link("confirm")).status_code == 303  # the newest
    return app


def test_smtputf8_server_gets_every_subscriber_unicode_ones_too(
    runner, tmp_path, app_factory, monkeypatch
):
    """send_message raised TypeError at jörg (not a MailError): the run stopped
    there, and b@ never got the digest, on every rerun."""
    with mail_server(smtputf8=True) as (server, port):
        site = site_on(tmp_path, port)
        subscribers(app_factory, site)
        result = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert result.exit_code == 0, result.output
        assert "4 of 4 messages sent" in result.output
        (jorg,) = server.to(f"jörg@{XN}")
        assert "SMTPUTF8" in jorg.mail_options
        assert jorg.header("To") == f"jörg@{XN}".encode()
        (anna,) = server.to(f"anna@{XN}")
        assert "SMTPUTF8" not in anna.mail_options
        assert anna.header("To") == f"anna@{XN}".encode()
        again = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert again.exit_code == 0 and "Nothing new" in again.output
    assert server.recipients == sorted(
        ["a@example.com", f"jörg@{XN}", f"anna@{XN}", "b@example.com"]
    )


def test_a_recipient_refused_is_reported_and_not_retried_forever(
    runner, tmp_path, app_factory, monkeypatch
):
    refuse = {f"jörg@{XN}": "550 5.1.1 No such mailbox"}
    with mail_server(smtputf8=True, refuse=refuse) as (server, port):
        site = site_on(tmp_path, port)
        subscribers(app_factory, site)
        result = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert result.exit_code == 1
        assert JORG in result.output and "550" in result.output
        assert "3 of 4 messages sent" in result.output
        rerun = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert rerun.exit_code == 0, rerun.output
        assert "Nothing new" in rerun.output  # the digest was done with everyone else
    assert server.recipients == sorted(["a@example.com", f"anna@{XN}", "b@example.com"])


def test_without_smtputf8_a_unicode_local_part_is_refused_and_the_rest_go_out(
    runner, tmp_path, app_factory, monkeypatch
):
    with mail_server(smtputf8=False) as (server, port):
        site = site_on(tmp_path, port)
        subscribers(app_factory, site)
        result = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert result.exit_code == 1
        assert JORG in result.output and "SMTPUTF8" in result.output
        assert "3 of 4 messages sent" in result.output
        assert "Traceback" not in result.output and result.exception is not None
        assert isinstance(result.exception, SystemExit)
        rerun = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert rerun.exit_code == 0 and "Nothing new" in rerun.output
    assert server.recipients == sorted(["a@example.com", f"anna@{XN}", "b@example.com"])
    (anna,) = server.to(f"anna@{XN}")
    assert anna.header("To") == f"anna@{XN}".encode()


def test_a_later_run_retries_the_busy_one_and_not_who_was_refused(
    runner, tmp_path, app_factory, monkeypatch, set_clock
):
    """One refused (for good), one busy (451, for now, queued): a later run
    tries the busy one only, and nobody gets two."""
    refuse = {"b@example.com": "451 4.3.0 Busy"}
    with mail_server(smtputf8=False, refuse=refuse) as (server, port):
        site = site_on(tmp_path, port)
        subscribers(app_factory, site)
        first = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert first.exit_code == 1 and "b@example.com: 451 4.3.0" in first.output
        assert JORG in first.output
        server.refuse.clear()
        set_clock(clock.now() + timedelta(minutes=16))
        rerun = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert rerun.exit_code == 0, rerun.output
        assert "1 delayed message sent" in rerun.output
        assert JORG not in rerun.output  # refused for good: not tried again
    assert server.recipients == sorted(["a@example.com", f"anna@{XN}", "b@example.com"])


@pytest.mark.parametrize(
    "to",
    ["owner@example.com\r\nBcc: evil@example.com", "=?utf-8?q?x?=@example.com"],
)
def test_a_test_copy_to_what_is_no_address_is_refused(
    runner, tmp_path, app_factory, monkeypatch, to
):
    with mail_server(smtputf8=True) as (server, port):
        site = site_on(tmp_path, port)
        subscribers(app_factory, site, ("a@example.com",))
        result = polku(runner, site, "--to", to, monkeypatch=monkeypatch)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert server.deliveries == []


def test_a_dry_run_writes_unicode_addresses(runner, tmp_path, app_factory, monkeypatch):
    with mail_server(smtputf8=False) as (server, port):
        site = site_on(tmp_path, port)
        subscribers(app_factory, site)
        out = tmp_path / "preview"
        dry = polku(runner, site, "--dry-run", str(out), monkeypatch=monkeypatch)
    assert dry.exit_code == 0, dry.output
    parser = email.parser.BytesParser(policy=email.policy.default)
    written = [parser.parsebytes(p.read_bytes()) for p in sorted(out.glob("*.eml"))]
    assert [str(m["To"]) for m in written] == [
        "a@example.com",
        f"jörg@{XN}",
        f"anna@{XN}",
        "b@example.com",
    ]
    assert server.deliveries == []
