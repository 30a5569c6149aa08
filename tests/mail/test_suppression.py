"""A digest against a real SMTP server (aiosmtpd) that refuses one recipient:
a 550 5.1.1 suppresses that address everywhere; a 550 5.7.1 suppresses no one."""

from __future__ import annotations

import json

from tracker.cli import cli
from tracker.db import get_storage
from tracker.journey.members import is_listable
from tracker.mail import digest as newsletter

from ..conftest import Reader
from ..mailserver import mail_server
from .digest_site import polku, site_on
from .test_digest_addresses import subscribers

GONE = "gone@example.com"
EVERYONE = ("a@example.com", GONE, "b@example.com")


def export(runner, site, address):
    env = {k: v for k, v in site[1].items() if k.startswith("POLKU_")}
    result = runner.invoke(cli, ["contacts", "export", address], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_hard_bounce_at_send_time_suppresses_the_address_everywhere(
    runner, tmp_path, app_factory, monkeypatch
):
    refuse = {GONE: "550 5.1.1 No such mailbox"}
    with mail_server(smtputf8=True, refuse=refuse) as (server, port):
        site = site_on(tmp_path, port)
        app = subscribers(app_factory, site, EVERYONE)
        result = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert "2 of 3 messages sent" in result.output
        assert server.recipients == ["a@example.com", "b@example.com"]
        data = export(runner, site, GONE)
        suppressed = data["contact"]["suppressed"]
        assert suppressed["reason"] == "hard_bounce"
        (evidence,) = suppressed["evidence"]
        assert evidence["status"].startswith("550 5.1.1")
        assert evidence["send"].startswith("digest-")
        assert f"{evidence['send']}: " in result.output
        assert [e["type"] for e in data["timeline"]].count("bounce") == 1
        assert "suppressed" not in export(runner, site, "a@example.com")["contact"]
    with app.app_context():
        storage = get_storage()
        chosen = [c["email"] for c in newsletter.recipients(storage)]
        assert chosen == ["a@example.com", "b@example.com"]  # the next digest
        gone = storage.find_contact(GONE)
        assert not is_listable(gone)  # the audiences leave them out
        assert is_listable(storage.find_contact("a@example.com"))
    reader = Reader(app.test_client(), app)
    before = len(reader.outbox())
    assert reader.subscribe(GONE).status_code == 303  # answered as usual
    assert len(reader.outbox()) == before  # sends nothing
    with app.app_context():
        assert get_storage().find_contact(GONE) == gone  # keeps nothing


def test_a_policy_block_suppresses_no_one_and_is_reported(
    runner, tmp_path, app_factory, monkeypatch
):
    refuse = {GONE: "550 5.7.1 Message rejected as spam"}
    with mail_server(smtputf8=True, refuse=refuse) as (server, port):
        site = site_on(tmp_path, port)
        subscribers(app_factory, site, EVERYONE)
        result = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert "2 of 3 messages sent" in result.output
        assert "5.7.1" in result.output and "policy" in result.output.lower()
        for address in EVERYONE:
            assert "suppressed" not in export(runner, site, address)["contact"]


def test_erasing_a_suppressed_person_keeps_the_address_suppressed(
    runner, tmp_path, app_factory, monkeypatch
):
    """Erased, the bounced address leaves only a keyed hash: no form post can
    mail it again, and nothing stored names it."""
    import hashlib

    from tracker import privacy

    from ..conftest import raw_data

    refuse = {GONE: "550 5.1.1 No such mailbox"}
    with mail_server(smtputf8=True, refuse=refuse) as (_server, port):
        site = site_on(tmp_path, port)
        app = subscribers(app_factory, site, EVERYONE)
        polku(runner, site, "--send", monkeypatch=monkeypatch)
    env = {k: v for k, v in site[1].items() if k.startswith("POLKU_")}
    erased = runner.invoke(cli, ["contacts", "erase", GONE, "--yes"], env=env)
    assert erased.exit_code == 0, erased.output
    with app.app_context():
        storage = get_storage()
        assert storage.find_contact(GONE) is None
        secret = env.get("POLKU_SECRET_KEY") or app.config["SECRET_KEY"]
        assert privacy.still_suppressed(storage, secret, GONE)
        assert not privacy.still_suppressed(storage, secret, "a@example.com")
    stored = raw_data(app)
    assert GONE.encode() not in stored
    assert hashlib.sha256(GONE.encode()).hexdigest().encode() not in stored
    app.config["SECRET_KEY"] = secret
    reader = Reader(app.test_client(), app)
    before = len(reader.outbox())
    assert reader.subscribe(GONE).status_code == 303  # answered as usual
    assert len(reader.outbox()) == before  # and nothing sent
    with app.app_context():
        assert get_storage().find_contact(GONE) is None  # nor kept
