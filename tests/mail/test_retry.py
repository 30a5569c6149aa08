"""The answers to the confirmation and guide emails, against a real SMTP server
(aiosmtpd) that refuses chosen recipients: a 4xx is queued and tried again
after 15 minutes, 1 hour and 4 hours, then a soft bounce; a 5xx suppresses; a
5.7.x suppresses no one and alerts the owner."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tracker import clock
from tracker.db import get_storage
from tracker.mail import lease, retry, sends

from ..conftest import Reader, raw_data
from ..mailserver import mail_server

ADDRESS = "busy@example.com"
FULL = "450 4.2.2 Mailbox full"


@pytest.fixture
def server():
    with mail_server(smtputf8=True) as (recorder, port):
        yield recorder, port


@pytest.fixture
def site(app_factory, server):
    app = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=server[1])
    return app, Reader(app.test_client(), app)


def flush(app) -> retry.Summary:
    with app.app_context():
        return retry.flush(get_storage(), app.config)


def contact(app, address=ADDRESS) -> dict:
    with app.app_context():
        return get_storage().find_contact(address)


def later(set_clock, minutes: float) -> None:
    set_clock(clock.now() + timedelta(minutes=minutes))


def link_in(delivery, route: str) -> str:
    text = delivery.message.get_body(("plain",)).get_content()
    return next(w for w in text.split() if f"/{route}/" in w).split("kettu.example")[1]


def test_a_confirmation_refused_for_now_is_on_its_way_and_goes_out_once(
    site, server, set_clock
):
    app, reader = site
    recorder, _ = server
    recorder.refuse[ADDRESS] = FULL
    response = reader.subscribe(ADDRESS, first_name="Aino")
    assert response.status_code == 303  # the thank-you page: not a 503
    assert "thanks-signup" in response.headers["Location"]
    assert recorder.deliveries == []
    assert flush(app).sent == 0  # not due before 15 minutes
    recorder.refuse.clear()
    later(set_clock, 16)
    assert flush(app).sent == 1
    (delivery,) = recorder.to(ADDRESS)
    assert delivery.message["Subject"] == "Please confirm your subscription"
    assert reader.post(link_in(delivery, "confirm")).status_code == 303
    assert contact(app)["status"] == "confirmed"
    later(set_clock, 300)
    assert flush(app).sent == 0 and len(recorder.to(ADDRESS)) == 1  # never twice
    assert not contact(app).get("outgoing")


def test_four_refusals_make_one_soft_bounce_and_no_suppression(site, server, set_clock):
    app, reader = site
    recorder, _ = server
    recorder.refuse[ADDRESS] = FULL
    assert reader.subscribe(ADDRESS).status_code == 303
    for minutes, waits in ((16, True), (61, True), (241, False)):
        later(set_clock, minutes)
        summary = flush(app)
        assert summary.sent == 0 and (summary.waiting == 1) == waits
    later(set_clock, 241)
    assert flush(app).waiting == 0  # nothing left to try
    with app.app_context():
        timeline = get_storage().timeline(contact(app)["id"])
    (bounce,) = [e for e in timeline if e["type"] == "bounce"]
    assert bounce["kind"] == "soft" and bounce["status"] == FULL
    assert bounce["send"] == "confirm"
    assert not contact(app).get("suppressed") and not contact(app).get("outgoing")
    assert recorder.deliveries == []


def test_a_hard_bounce_at_signup_suppresses_and_tells_the_reader(site, server):
    app, reader = site
    recorder, _ = server
    recorder.refuse[ADDRESS] = "550 5.1.1 No such mailbox"
    response = reader.post(
        "/subscribe",
        data={"email": ADDRESS, "consent_newsletter": "yes"},
        Accept="application/json",
    )
    assert response.status_code == 400
    assert response.json["error"] == "We cannot send email to that address."
    suppressed = contact(app)["suppressed"]
    assert suppressed["reason"] == "hard_bounce"
    assert suppressed["evidence"][0]["send"] == "confirm"


def test_a_policy_block_suppresses_no_one_and_alerts_the_owner(site, server):
    app, reader = site
    recorder, _ = server
    recorder.refuse[ADDRESS] = "550 5.7.1 Rejected by policy"
    response = reader.post(
        "/subscribe",
        data={"email": ADDRESS, "consent_newsletter": "yes"},
        Accept="application/json",
    )
    assert response.status_code == 503  # not the reader's address: try later
    assert not contact(app).get("suppressed")
    with app.app_context():
        alert = sends.read(get_storage())["confirm"]
    assert alert["blocked"] == 1 and alert["block"].startswith("550 5.7.1")


def test_the_guide_refused_for_now_is_queued_too(site, server, set_clock):
    app, reader = site
    recorder, _ = server
    recorder.refuse[ADDRESS] = "421 4.7.0 Try again later"
    assert reader.download(ADDRESS).status_code == 303
    recorder.refuse.clear()
    later(set_clock, 16)
    assert flush(app).sent == 1
    (delivery,) = recorder.to(ADDRESS)
    guide = reader.client.get(link_in(delivery, "download"), buffered=True)
    assert guide.status_code == 200 and guide.data.startswith(b"%PDF")


def test_an_erased_persons_queued_email_is_erased_with_them(site, server, set_clock):
    from tracker.privacy import erase_everywhere

    app, reader = site
    recorder, _ = server
    recorder.refuse[ADDRESS] = FULL
    reader.subscribe(ADDRESS)
    with app.app_context():
        erase_everywhere(
            get_storage(),
            app.config["DATA_DIR"],
            contact(app),
            app.config["SECRET_KEY"],
        )
    assert ADDRESS.encode() not in raw_data(app)
    recorder.refuse.clear()
    later(set_clock, 16)
    summary = flush(app)
    assert summary.sent == 0 and recorder.deliveries == []


def test_an_address_suppressed_meanwhile_gets_no_retry(site, server, set_clock):
    from tracker.mail import bounces

    app, reader = site
    recorder, _ = server
    recorder.refuse[ADDRESS] = FULL
    reader.subscribe(ADDRESS)
    with app.app_context():
        report = bounces.Report(kind="complaint", id="r1", source="test", email=ADDRESS)
        assert bounces.apply(get_storage(), "x", report) == bounces.APPLIED
    recorder.refuse.clear()
    later(set_clock, 16)
    summary = flush(app)
    assert summary.sent == 0 and summary.dropped == 1 and recorder.deliveries == []


def test_one_pass_at_a_time(site, server, set_clock):
    app, reader = site
    recorder, _ = server
    recorder.refuse[ADDRESS] = FULL
    reader.subscribe(ADDRESS)
    recorder.refuse.clear()
    later(set_clock, 16)
    with app.app_context():
        with lease.held(get_storage(), retry.LEASE_KEY):
            assert flush(app).busy
    assert recorder.deliveries == []
    assert flush(app).sent == 1


def test_a_server_that_does_not_answer_keeps_the_queue(site, server, set_clock):
    from ..conftest import free_port

    app, reader = site
    recorder, _ = server
    recorder.refuse[ADDRESS] = FULL
    reader.subscribe(ADDRESS)
    later(set_clock, 16)
    app.config["SMTP_PORT"] = free_port()  # nobody listens there
    summary = flush(app)
    assert summary.failed and summary.sent == 0
    assert contact(app)["outgoing"]  # still waiting, the try not counted


# -- the digest ----------------------------------------------------------------


def test_a_digest_refused_four_times_is_one_soft_bounce_and_the_run_finishes(
    runner, tmp_path, app_factory, monkeypatch, set_clock
):
    from .digest_site import polku, site_on
    from .test_digest_addresses import subscribers

    with mail_server(smtputf8=True, refuse={ADDRESS: FULL}) as (recorder, port):
        site = site_on(tmp_path, port)
        app = subscribers(app_factory, site, ("a@example.com", ADDRESS))
        first = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert first.exit_code == 0, first.output
        assert "the next one starts from here" in first.output  # finished
        for minutes in (16, 61, 241):
            later(set_clock, minutes)
            rerun = polku(runner, site, "--send", monkeypatch=monkeypatch)
            assert "Nothing new" in rerun.output
        assert f"Gave up after the last try: {ADDRESS}: {FULL}" in rerun.output
    assert recorder.recipients == ["a@example.com"]
    with app.app_context():
        found = contact(app)
        (bounce,) = [
            e for e in get_storage().timeline(found["id"]) if e["type"] == "bounce"
        ]
        assert bounce["kind"] == "soft" and bounce["send"].startswith("digest-")
        assert not found.get("suppressed") and not found.get("outgoing")
        counts = sends.read(get_storage())[bounce["send"]]
    assert counts["sent"] == 1 and counts["failed"] == 1


def test_a_resumed_digest_skips_whom_the_queue_holds_and_nobody_gets_two(
    tmp_path, app_factory, set_clock
):
    """A run left unfinished (one recipient's connection was lost) resumes
    without sending again to the recipient whose digest waits in the queue."""
    from pathlib import Path

    from pelican.plugins.polku import digest as content

    from tracker import mail
    from tracker.cli.digest import digest_settings
    from tracker.mail import digest as newsletter

    from .digest_site import site_on
    from .test_digest_addresses import subscribers

    everyone = ("a@example.com", ADDRESS, "lost@example.com")
    with mail_server(smtputf8=True, refuse={ADDRESS: FULL}) as (recorder, port):
        site = site_on(tmp_path, port)
        app = subscribers(app_factory, site, everyone)
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)

        def run(lose: str | None):
            with app.test_request_context(), mail.Mailer(app.config) as mailer:

                def deliver(msg):
                    if lose and lose in msg["To"]:
                        raise mail.MailError("connection lost", lose)
                    mailer.send(msg)

                return newsletter.send_digest(
                    get_storage(),
                    settings=digest_settings({}),
                    env=content.make_env(str(Path(site[0]) / "theme")),
                    interests=lambda c: {},
                    deliver=deliver,
                    mode="send",
                    rate=0,
                )

        first = run(lose="lost@example.com")
        assert not first.finished and first.failed and first.queued
        recorder.refuse.clear()
        second = run(lose=None)
        assert second.finished and second.sent == 1 and second.skipped == 2
        assert sorted(recorder.recipients) == ["a@example.com", "lost@example.com"]
        later(set_clock, 16)
        assert flush(app).sent == 1
        later(set_clock, 300)
        assert flush(app).sent == 0
    assert sorted(recorder.recipients) == sorted(everyone)
