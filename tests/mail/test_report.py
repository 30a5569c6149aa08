"""The owner's report by email keeps the mail server's answer like every other
send, against a real SMTP server (aiosmtpd): a 4xx waits in the retry queue."""

from __future__ import annotations

from datetime import timedelta

from tracker import clock
from tracker.cli import cli
from tracker.db import get_storage
from tracker.mail import retry, sends

from ..mailserver import mail_server

OWNER = "owner@example.com"


def email_report(runner, app, port):
    env = {
        "POLKU_DATA_DIR": app.config["DATA_DIR"],
        "POLKU_SECRET_KEY": "test-secret-key",
        "POLKU_SMTP_HOST": "127.0.0.1",
        "POLKU_SMTP_PORT": str(port),
    }
    return runner.invoke(cli, ["report", "--email", OWNER], env=env)


def test_a_report_refused_for_now_goes_out_from_the_retry_queue(runner, app, set_clock):
    with mail_server(smtputf8=True, refuse={OWNER: "451 4.7.1 Greylisted"}) as (
        server,
        port,
    ):
        result = email_report(runner, app, port)
        assert result.exit_code == 1
        assert "delayed the report (451 4.7.1 Greylisted)" in result.output
        assert "retry queue" in result.output
        server.refuse.clear()
        set_clock(clock.now() + timedelta(minutes=16))
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        with app.app_context():
            assert retry.flush(get_storage(), app.config).sent == 1
            assert retry.flush(get_storage(), app.config).sent == 0
    (delivery,) = server.to(OWNER)
    assert "journey report" in str(delivery.message["Subject"])
    with app.app_context():
        assert sends.read(get_storage())["report"]["sent"] == 1


def test_a_report_refused_for_good_says_so_and_is_counted(runner, app):
    with mail_server(smtputf8=True, refuse={OWNER: "550 5.1.1 No such user"}) as (
        server,
        port,
    ):
        result = email_report(runner, app, port)
    assert result.exit_code == 1 and "550 5.1.1 No such user" in result.output
    assert server.deliveries == []
    with app.app_context():
        assert sends.read(get_storage())["report"]["failed"] == 1
