"""`polku bounces fetch` against a real IMAP server (Dovecot) and a real SMTP
server (aiosmtpd): bounces and complaints in the mailbox suppress the people
the attached Polku emails name, each once; a message is marked seen only after
it is applied; automatic replies and other mail stay unseen and change nothing."""

from __future__ import annotations

import json
import re

from tracker.cli import cli
from tracker.db import get_storage
from tracker.mail import bounces
from tracker.mail import digest as newsletter

from ..imapserver import imap_fixture  # noqa: F401 - the `imap` fixture
from ..mailserver import mail_server
from ..sites import free_port
from .digest_site import polku, site_on
from .fixtures import bounce_mail, polku_email
from .test_digest_addresses import subscribers

GONE = "gone@example.com"
EVERYONE = ("a@example.com", GONE, "b@example.com")
SEEN = "\\Seen"


def env_of(site, imap, **more) -> dict[str, str]:
    env = {k: v for k, v in site[1].items() if k.startswith("POLKU_")}
    return {**env, **imap.env(), **more}


def fetch(runner, site, imap, ok=True, **more):
    result = runner.invoke(cli, ["bounces", "fetch"], env=env_of(site, imap, **more))
    assert (result.exit_code == 0) == ok, result.output
    return result


def export(runner, site, address) -> dict:
    env = {k: v for k, v in site[1].items() if k.startswith("POLKU_")}
    result = runner.invoke(cli, ["contacts", "export", address], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def contact_id(runner, site, address) -> str:
    return export(runner, site, address)["contact"]["id"]


def counts(result) -> dict[str, int]:
    """The figures the command printed, by what they count."""
    text = " ".join(result.output.split())
    found = re.search(
        r"(\d+) messages? read\. Reports applied: (\d+), already applied before: "
        r"(\d+), about no one Polku knows: (\d+)\. Left alone \(not a bounce or a "
        r"complaint\): (\d+)\.",
        text,
    )
    assert found, result.output
    keys = ("read", "applied", "replayed", "unknown", "left")
    return dict(zip(keys, map(int, found.groups()), strict=True))


def test_a_dsn_for_an_unknown_mailbox_suppresses_and_the_next_digest_skips_it(
    runner, tmp_path, app_factory, monkeypatch, imap
):
    with mail_server(smtputf8=True) as (server, port):
        site = site_on(tmp_path, port)
        app = subscribers(app_factory, site, EVERYONE)
        sent = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert "3 of 3 messages sent" in sent.output
        (original,) = server.to(GONE)
    uid = imap.deliver(bounce_mail("dsn-unknown-user.eml", original=original.content))
    result = fetch(runner, site, imap)
    assert counts(result) == {
        "read": 1, "applied": 1, "replayed": 0, "unknown": 0, "left": 0
    }  # fmt: skip
    suppressed = export(runner, site, GONE)["contact"]["suppressed"]
    assert suppressed["reason"] == "hard_bounce"
    (evidence,) = suppressed["evidence"]
    assert evidence["status"].startswith("5.1.1")
    assert evidence["send"].startswith("digest-")  # the send the DSN answered
    assert imap.flags()[uid] >= {SEEN}
    with app.app_context():
        chosen = [c["email"] for c in newsletter.recipients(get_storage())]
    assert chosen == ["a@example.com", "b@example.com"]  # the next digest


def test_two_soft_bounces_do_not_suppress_and_a_third_on_another_send_does(
    runner, tmp_path, app_factory, imap
):
    site = site_on(tmp_path, 0)
    subscribers(app_factory, site, EVERYONE)
    someone = contact_id(runner, site, GONE)

    def soft(send):
        original = polku_email(someone, send, to=GONE)
        raw = bounce_mail("dsn-failed-4xx.eml", original=original, status="4.2.2")
        imap.deliver(raw)
        assert counts(fetch(runner, site, imap))["applied"] == 1
        return export(runner, site, GONE)["contact"].get("suppressed")

    assert soft("digest-1") is None
    assert soft("digest-2") is None
    assert soft("digest-2") is None  # again on the same send: still two sends
    suppressed = soft("digest-3")
    assert suppressed["reason"] == "soft_bounces"
    assert {e["send"] for e in suppressed["evidence"]} >= {"digest-1", "digest-3"}


def test_an_abuse_report_with_the_recipient_redacted_is_matched_by_its_ref(
    runner, tmp_path, app_factory, imap
):
    site = site_on(tmp_path, 0)
    subscribers(app_factory, site, EVERYONE)
    original = polku_email(contact_id(runner, site, GONE), "digest-9", to=GONE)
    redacted = original.replace(GONE.encode(), b"redacted@example.com")
    raw = bounce_mail("arf-abuse-redacted.eml", original=redacted)
    assert GONE.encode() not in raw
    imap.deliver(raw)
    assert counts(fetch(runner, site, imap))["applied"] == 1
    suppressed = export(runner, site, GONE)["contact"]["suppressed"]
    assert suppressed["reason"] == "complaint"
    assert suppressed["evidence"][0]["send"] == "digest-9"
    assert "suppressed" not in export(runner, site, "a@example.com")["contact"]


def test_an_out_of_office_reply_changes_nothing_and_stays_unseen(
    runner, tmp_path, app_factory, imap
):
    site = site_on(tmp_path, 0)
    subscribers(app_factory, site, EVERYONE)
    before = export(runner, site, GONE)
    uids = [
        imap.deliver(bounce_mail(name, rcpt=GONE))
        for name in ("out-of-office.eml", "automatic-reply.eml", "owners-mail.eml")
    ]
    assert counts(fetch(runner, site, imap)) == {
        "read": 3, "applied": 0, "replayed": 0, "unknown": 0, "left": 3
    }  # fmt: skip
    assert export(runner, site, GONE) == before
    flags = imap.flags()
    assert all(SEEN not in flags[uid] for uid in uids)  # the owner's to read
    assert counts(fetch(runner, site, imap))["read"] == 0  # and not read again


def test_a_message_is_marked_seen_only_after_it_is_applied(
    runner, tmp_path, app_factory, monkeypatch, imap
):
    """A crash in apply leaves the message unseen; the next fetch applies it."""
    site = site_on(tmp_path, 0)
    subscribers(app_factory, site, EVERYONE)
    original = polku_email(contact_id(runner, site, GONE), "digest-1", to=GONE)
    uid = imap.deliver(bounce_mail("dsn-unknown-user.eml", original=original))
    real_apply, seen_at_apply = bounces.apply, []

    def crashing_apply(storage, secret, report, **options):
        seen_at_apply.append(SEEN in imap.flags()[uid])
        raise RuntimeError("the machine went down")

    monkeypatch.setattr(bounces, "apply", crashing_apply)
    crashed = runner.invoke(cli, ["bounces", "fetch"], env=env_of(site, imap))
    assert crashed.exit_code != 0
    assert SEEN not in imap.flags()[uid]
    assert "suppressed" not in export(runner, site, GONE)["contact"]

    def watched_apply(storage, secret, report, **options):
        seen_at_apply.append(SEEN in imap.flags()[uid])
        return real_apply(storage, secret, report, **options)

    monkeypatch.setattr(bounces, "apply", watched_apply)
    assert counts(fetch(runner, site, imap))["applied"] == 1
    assert seen_at_apply == [False, False]
    assert SEEN in imap.flags()[uid]
    assert export(runner, site, GONE)["contact"]["suppressed"]


def test_a_second_fetch_applies_nothing_again(runner, tmp_path, app_factory, imap):
    site = site_on(tmp_path, 0)
    subscribers(app_factory, site, EVERYONE)
    original = polku_email(contact_id(runner, site, GONE), "digest-1", to=GONE)
    uid = imap.deliver(bounce_mail("dsn-unknown-user.eml", original=original))
    assert counts(fetch(runner, site, imap))["applied"] == 1
    assert counts(fetch(runner, site, imap))["read"] == 0
    with imap.session() as client:  # as if the first fetch died before marking
        client.uid("STORE", uid, "-FLAGS", "(\\Seen PolkuRead)")
    again = counts(fetch(runner, site, imap))
    assert (again["applied"], again["replayed"]) == (0, 1)
    timeline = export(runner, site, GONE)["timeline"]
    assert [e["type"] for e in timeline].count("bounce") == 1
    assert SEEN in imap.flags()[uid]


def test_a_bounce_for_no_one_is_counted_and_left_unseen(
    runner, tmp_path, app_factory, imap
):
    site = site_on(tmp_path, 0)
    subscribers(app_factory, site, EVERYONE)
    uid = imap.deliver(
        bounce_mail("qmail-bounce.eml", rcpt="stranger@example.org", original=b"")
    )
    assert counts(fetch(runner, site, imap))["unknown"] == 1
    assert SEEN not in imap.flags()[uid]


def test_missing_settings_a_refused_login_and_no_server_exit_non_zero(
    runner, tmp_path, app_factory, imap
):
    site = site_on(tmp_path, 0)
    env = {k: v for k, v in site[1].items() if k.startswith("POLKU_")}
    missing = runner.invoke(cli, ["bounces", "fetch"], env=env)
    assert missing.exit_code != 0
    assert "POLKU_BOUNCE_IMAP_HOST" in missing.output
    nowhere = fetch(runner, site, imap, ok=False, POLKU_BOUNCE_IMAP_FOLDER="Nowhere")
    assert "Nowhere" in nowhere.output
    closed = fetch(
        runner, site, imap, ok=False, POLKU_BOUNCE_IMAP_PORT=str(free_port())
    )
    assert "cannot reach" in closed.output
    refused = fetch(runner, site, imap, ok=False, POLKU_BOUNCE_IMAP_PASSWORD="nope")
    assert "refused the login" in refused.output  # last: Dovecot then slows logins


def test_a_forged_bounce_naming_an_address_suppresses_no_one(
    runner, tmp_path, app_factory, imap
):
    """Anyone can mail the bounce address. A "bounce" or "complaint" about a
    subscriber's address that does not carry the signed X-Polku-Ref of one of
    our emails (or carries a forged one) is about no one we can believe."""
    site = site_on(tmp_path, 0)
    subscribers(app_factory, site, EVERYONE)
    forged_ref = polku_email(
        contact_id(runner, site, GONE), "digest-1", to=GONE, secret="not-our-secret"
    )
    imap.deliver(bounce_mail("dsn-unknown-user.eml", rcpt=GONE))
    imap.deliver(bounce_mail("dsn-unknown-user.eml", original=forged_ref, rcpt=GONE))
    imap.deliver(bounce_mail("arf-abuse-redacted.eml", original=forged_ref))
    found = counts(fetch(runner, site, imap))
    assert found["applied"] == 0 and found["unknown"] >= 2, found
    assert "suppressed" not in export(runner, site, GONE)["contact"]
