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
