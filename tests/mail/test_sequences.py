"""`polku sequences` against a real SMTP server (aiosmtpd), with the demo's own
sequences: real list emails, each step once, calendar-aware, exits honoured."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from ..mailserver import mail_server
from .sequence_site import Site

AINO = "aino@example.com"


def parts(delivery) -> tuple[str, str]:
    msg = message_from_bytes(delivery.content, policy=policy.default)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return text, html


def test_the_welcome_sequence_sends_each_step_once_as_a_real_list_email(
    runner, tmp_path, app_factory, set_clock
):
    set_clock("2026-06-01T07:00:00+00:00")  # 10:00 in Helsinki
    with mail_server(smtputf8=True) as (server, port):
        site = Site(tmp_path, app_factory, port)
        first = site.polku(runner, "run", "--send")  # the sequences begin
        assert first.exit_code == 0, first.output
        site.subscriber(AINO)
        sent = site.polku(runner, "run", "--send", "--now", "2026-06-01T07:05:00Z")
        assert sent.exit_code == 0, sent.output
        assert "1 email sent" in sent.output
        (welcome,) = server.to(AINO)
        msg = welcome.message
        assert msg["Subject"] == "Welcome: here is what the Kettu letter is"
        assert "<welcome." in msg["List-Id"]
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/unsubscribe/" in msg["List-Unsubscribe"]
        assert msg["X-Polku-Ref"] and "@" not in msg["X-Polku-Ref"]
        text, html = parts(welcome)
        assert text.startswith("Hi Aino,")
        assert "Hi Aino," in html and "style=" in html  # CSS inlined
        assert re.search(r'href="https://kettu\.example/click/', html)  # next reads
        again = site.polku(runner, "run", "--send", "--now", "2026-06-01T07:30:00Z")
        assert "0 emails sent" in again.output
        assert len(server.to(AINO)) == 1
        # Five days later at the same wall-clock time: the second step.
        site.polku(runner, "run", "--send", "--now", "2026-06-06T07:05:00Z")
        # Nine more days: the third, with the recommend-us question.
        site.polku(runner, "run", "--send", "--now", "2026-06-15T07:10:00Z")
        subjects = [d.message["Subject"] for d in server.to(AINO)]
        assert subjects == [
            "Welcome: here is what the Kettu letter is",
            "The three checks we run on every site",
            "What would help you most?",
        ]
        text, html = parts(server.to(AINO)[-1])
        assert html.count("/feedback/") == 11 and "score=10" in html
        done = site.export(runner, AINO)
        record = done["contact"]["sequences"]["welcome"]
        assert record["state"] in ("active", "finished")
        kinds = [e["type"] for e in done["timeline"]]
        assert kinds.count("sequence_email") == 3
        assert kinds.count("sequence_entered") == 1


def test_list_and_preview(runner, tmp_path, app_factory, set_clock):
    set_clock("2026-06-01T07:00:00+00:00")
    site = Site(tmp_path, app_factory, None)
    site.polku(runner, "run", "--send")
    site.subscriber(AINO)
    listing = site.polku(runner, "list")
    assert listing.exit_code == 0, listing.output
    assert "welcome: Welcome to the Kettu letter" in listing.output
    assert "trigger signup" in listing.output
    assert "checklist-follow-up" in listing.output
    assert "due now 1" in listing.output
    preview = site.polku(runner, "preview", "welcome")
    assert preview.exit_code == 0, preview.output
    assert preview.output.count("=== ") == 3
    assert "Hi Aino," in preview.output
    missing = site.polku(runner, "preview", "nope")
    assert missing.exit_code == 1 and "welcome" in missing.output


def one_step(name: str, delay: str, trigger="signup", **index) -> dict:
    from tracker.journey.sequences import StepSource, definition

    step = StepSource(
        "01-only.md", {"subject": f"{name} step", "delay": delay}, "<p>Hi.</p>", "Hi.\n"
    )
    return definition(name, {"trigger": trigger, **index}, [step])


def test_a_one_day_step_keeps_its_hour_across_spring_forward_and_the_window(
    runner, tmp_path, app_factory, set_clock
):
    """Enrolled in Helsinki on 2026-03-28 at 10:00 (UTC+2), a one-day delay,
    an 09:00-11:00 window: the clocks go forward that night, so the step is
    due at 10:00 local on the 29th, 07:00Z, and goes then, not before."""
    set_clock("2026-03-28T07:00:00+00:00")
    with mail_server(smtputf8=True) as (server, port):
        site = Site(
            tmp_path,
            app_factory,
            port,
            window="09:00-11:00",
            sequences=[one_step("spring", "1 day")],
        )
        site.polku(runner, "run", "--send")
        set_clock("2026-03-28T08:00:00+00:00")  # 10:00 in Helsinki
        site.subscriber(AINO)
        early = site.polku(runner, "run", "--send", "--now", "2026-03-29T06:55:00Z")
        assert "0 emails sent" in early.output, early.output
        due = site.polku(runner, "run", "--send", "--now", "2026-03-29T07:00:30Z")
        assert "1 email sent" in due.output, due.output
        (sent,) = server.to(AINO)
        assert sent.message["Date"].datetime.isoformat().startswith("2026-03-29T07:00")


def test_two_sequences_due_the_same_local_day_give_one_email_that_day(
    runner, tmp_path, app_factory, set_clock
):
    set_clock("2026-06-01T07:00:00+00:00")
    with mail_server(smtputf8=True) as (server, port):
        seqs = [one_step("first", "0"), one_step("second", "0")]
        site = Site(tmp_path, app_factory, port, sequences=seqs)
        site.polku(runner, "run", "--send")
        site.subscriber(AINO)
        for moment in ("2026-06-01T07:05:00Z", "2026-06-01T15:00:00Z"):
            site.polku(runner, "run", "--send", "--now", moment)
        assert [d.message["Subject"] for d in server.to(AINO)] == ["first step"]
        site.polku(runner, "run", "--send", "--now", "2026-06-02T05:00:00Z")  # 08:00
        assert [d.message["Subject"] for d in server.to(AINO)] == [
            "first step",
            "second step",
        ]


def test_a_conversion_before_the_run_ends_the_guide_follow_up(
    runner, tmp_path, app_factory, set_clock
):
    set_clock("2026-06-01T07:00:00+00:00")
    with mail_server(smtputf8=True) as (server, port):
        site = Site(tmp_path, app_factory, port)
        site.env["POLKU_API_KEY"] = "test-api-key"
        site.polku(runner, "run", "--send")
        site.subscriber(AINO)
        reader = site.reader
        assert reader.download(AINO, first_name="Aino").status_code == 303
        fetched = reader.client.get(reader.link("download", to=AINO))
        assert fetched.status_code == 200
        fetched.close()
        site.polku(runner, "run", "--send", "--now", "2026-06-01T07:10:00Z")
        (welcome,) = server.to(AINO)  # the welcome; the follow-up waits two days
        bought = reader.post(
            "/api/conversion",
            json_body={"email": AINO, "value": 290, "order_id": "o-1"},
            Authorization="Bearer test-api-key",
        )
        assert bought.status_code in (200, 201, 202), bought.get_data(as_text=True)
        site.polku(runner, "run", "--send", "--now", "2026-06-03T07:15:00Z")
        subjects = [d.message["Subject"] for d in server.to(AINO)]
        assert "How to get through the checklist in one afternoon" not in subjects
        record = site.export(runner, AINO)["contact"]["sequences"]
        assert record["checklist-follow-up"]["state"] == "exited"
        assert record["checklist-follow-up"]["reason"] == "stage:customer"


def test_an_interest_chosen_on_the_readers_page_counts_for_only_if(
    runner, tmp_path, app_factory, set_clock
):
    from tracker.db import get_storage
    from tracker.journey.sequences import StepSource, definition

    steps = [
        StepSource(
            "01-speed.md",
            {"subject": "About speed", "delay": "0", "only-if": "interest:speed"},
            "<p>Speed.</p>",
            "Speed.\n",
        )
    ]
    seq = definition("speedy", {"trigger": "signup"}, steps)
    set_clock("2026-06-01T07:00:00+00:00")
    with mail_server(smtputf8=True) as (server, port):
        site = Site(tmp_path, app_factory, port, sequences=[seq])
        site.polku(runner, "run", "--send")
        site.subscriber(AINO)
        site.subscriber("jussi@example.com", first_name="Jussi")
        with site.app.app_context():
            storage = get_storage()
            with storage.transaction() as tx:
                aino = tx.find(AINO)
                tx.save({**aino, "interests": ["speed"]})
        site.polku(runner, "run", "--send", "--now", "2026-06-01T07:05:00Z")
        assert [d.message["Subject"] for d in server.to(AINO)] == ["About speed"]
        assert server.to("jussi@example.com") == []


def unsubscribe_path(delivery) -> str:
    from urllib.parse import urlsplit

    header = str(delivery.message["List-Unsubscribe"])
    url = header.split(",")[0].strip("<> ")
    return urlsplit(url).path


def test_the_series_unsubscribe_offers_the_series_or_all_mail(
    runner, tmp_path, app_factory, set_clock
):
    set_clock("2026-06-01T07:00:00+00:00")
    with mail_server(smtputf8=True) as (server, port):
        site = Site(tmp_path, app_factory, port)
        site.polku(runner, "run", "--send")
        site.subscriber(AINO)
        site.subscriber("jussi@example.com", first_name="Jussi")
        site.polku(runner, "run", "--send", "--now", "2026-06-01T07:05:00Z")
        path = unsubscribe_path(server.to(AINO)[0])
        page = site.reader.client.get(path).get_data(as_text=True)
        assert "Stop only this series" in page and "Stop all emails" in page
        left = site.reader.post(path, data={"scope": "series"})
        assert left.status_code == 200 and "left the series" in left.get_data(True)
        aino = site.export(runner, AINO)["contact"]
        assert aino["status"] == "confirmed"  # the newsletter still comes
        assert aino["sequences"]["welcome"]["state"] == "left"
        # A mail client's one-click unsubscribe stops all mail.
        jussi_path = unsubscribe_path(server.to("jussi@example.com")[0])
        one_click = site.reader.post(jussi_path, data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 200
        jussi = site.export(runner, "jussi@example.com")["contact"]
        assert jussi["status"] == "unsubscribed"
        site.polku(runner, "run", "--send", "--now", "2026-06-06T07:05:00Z")
        assert len(server.to(AINO)) == 1 and len(server.to("jussi@example.com")) == 1


def test_a_5xx_fails_the_step_and_suppresses_a_4xx_is_tried_on_a_later_pass(
    runner, tmp_path, app_factory, set_clock
):
    from tracker.db import get_storage
    from tracker.mail import sends

    jussi = "jussi@example.com"
    refuse = {AINO: "550 5.1.1 No such mailbox", jussi: "451 4.2.2 Mailbox full"}
    set_clock("2026-06-01T07:00:00+00:00")
    with mail_server(smtputf8=True, refuse=refuse) as (server, port):
        site = Site(tmp_path, app_factory, port)
        site.polku(runner, "run", "--send")
        site.subscriber(AINO)
        site.subscriber(jussi, first_name="Jussi")
        first = site.polku(runner, "run", "--send", "--now", "2026-06-01T07:05:00Z")
        assert "0 emails sent" in first.output
        assert "550 5.1.1" in first.output and "451 4.2.2" in first.output
        aino = site.export(runner, AINO)["contact"]
        assert aino["suppressed"]["reason"] == "hard_bounce"
        assert aino["sequences"]["welcome"]["steps"]["01-hello"]["state"] == "failed"
        server.refuse.pop(jussi)  # the mailbox has room again
        soon = site.polku(runner, "run", "--send", "--now", "2026-06-01T07:10:00Z")
        assert "0 emails sent" in soon.output  # it waits for its retry time
        later = site.polku(runner, "run", "--send", "--now", "2026-06-01T08:00:00Z")
        assert "1 email sent" in later.output, later.output
        assert [d.message["Subject"] for d in server.to(jussi)] == [
            "Welcome: here is what the Kettu letter is"
        ]
        assert server.to(AINO) == []
        with site.app.app_context():
            counted = sends.read(get_storage())["seq:welcome:01-hello"]
        assert counted["sent"] == 1 and counted["failed"] == 1
