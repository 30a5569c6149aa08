"""`--reconfirm`: each address of a list whose consent cannot be shown gets the
signup form's confirmation email, and only those who confirm are subscribed."""

from __future__ import annotations

from tracker import contacts as people_service
from tracker.cli import cli
from tracker.db import get_storage

from .test_subscribers import (
    CLEANED,
    NOW,
    SUBSCRIBED,
    exported,
    import_list,
    on_the_list,
    polku,
    stored,
)

ASKED = [
    "aino.virtanen@example.com",
    "juha@example.org",  # no time of consent is needed to be asked
    "mikko.laine@example.com",
    "sanna.koski@example.net",
]


def test_each_address_gets_one_confirmation_and_a_click_subscribes(
    runner, app, reader, set_clock
):
    set_clock(NOW)
    output = import_list(runner, app, SUBSCRIBED, "--reconfirm")
    assert "asked to confirm by email: 4" in output
    assert sorted(m["To"] for m in reader.outbox()) == ASKED
    assert on_the_list(app) == set()
    aino = exported(runner, app, "aino.virtanen@example.com")["contact"]
    assert aino["status"] == "pending" and aino["first_name"] is None
    reader.post(reader.link("confirm", to="aino.virtanen@example.com"))
    assert on_the_list(app) == {"aino.virtanen@example.com"}
    proof = exported(runner, app, "aino.virtanen@example.com")["contact"]["consent"]
    assert proof["newsletter"]["form"] == "reconfirm"
    assert proof["newsletter"]["wording"] == "Send me the letter."
    assert proof["newsletter"]["confirmed_at"].startswith("2026-03-01")
    # Asked once: a second run, even days later, mails no one again.
    before = stored(app)
    set_clock("2026-03-05T12:00:00+00:00")
    again = import_list(runner, app, SUBSCRIBED, "--reconfirm")
    assert "asked to confirm by email: 0" in again and "already there: 4" in again
    assert len(reader.outbox()) == 4
    assert stored(app) == before


def test_suppressed_unsubscribed_and_limited_addresses_get_nothing(
    runner, app, reader, tmp_path, set_clock
):
    set_clock(NOW)
    reader.confirm("mikko.laine@example.com")  # subscribed here already
    reader.confirm("juha@example.org")
    with app.app_context():
        juha = get_storage().find_contact("juha@example.org")
        people_service.unsubscribe(juha["id"])  # and left
    reader.subscribe("sanna.koski@example.net")  # just mailed by the form
    output = import_list(runner, app, CLEANED, "--reconfirm")
    assert "suppressed (bounced or complained): 2" in output
    # No consent to keep a person for: the address alone is suppressed.
    unknown = polku(runner, app, "contacts", "export", "olli.makela@example.com")
    assert "No contact" in unknown.output
    path = tmp_path / "list.csv"
    olli = ",".join(["olli.makela@example.com", "Olli"] + [""] * 20)
    path.write_text(SUBSCRIBED.read_text() + olli + "\n")
    mailed = len(reader.outbox())
    output = import_list(runner, app, path, "--reconfirm")
    assert [m["To"] for m in reader.outbox()[mailed:]] == ["aino.virtanen@example.com"]
    assert "over the per-address limit of confirmation emails: 1" in output
    assert "the address is suppressed (it bounced or complained): 1" in output
    assert "unsubscribed in Polku: 1" in output
    assert "already there: 1" in output


def test_over_smtp(runner, app, smtp, set_clock):
    set_clock(NOW)
    inbox, port = smtp
    env = {
        "POLKU_DATA_DIR": app.config["DATA_DIR"],
        "POLKU_SECRET_KEY": "test-secret-key",
        "POLKU_SMTP_HOST": "127.0.0.1",
        "POLKU_SMTP_PORT": str(port),
    }
    args = ["contacts", "import", str(SUBSCRIBED), "--subscribers", "--reconfirm"]
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert sorted(m["To"] for m in inbox.messages) == ASKED
    for address in ASKED:
        (message,) = inbox.to(address)
        assert "/confirm/" in message.get_body(("plain",)).get_content()
    assert on_the_list(app) == set()
