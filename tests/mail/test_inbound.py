"""What one message in the bounce mailbox reports: DSNs (RFC 3464), abuse reports
(ARF, RFC 5965) and non-standard bounces become reports about the person the
attached Polku email names; delays, policy blocks, automatic replies and other
mail report no bounce."""

from __future__ import annotations

import pytest

from tracker.mail import inbound
from tracker.mail.message import read_reference

from .fixtures import SECRET, bounce_mail, polku_email

READER = "reader@example.com"


def person(report) -> tuple[str, str] | None:
    """(contact, send) the report's X-Polku-Ref names, if genuine."""
    return read_reference(SECRET, report.ref)


def test_a_dsn_for_an_unknown_mailbox_is_a_hard_bounce_naming_the_person():
    raw = bounce_mail("dsn-unknown-user.eml", original=polku_email("c1", "d-1"))
    reading = inbound.read(raw)
    (report,) = reading.reports
    assert report.kind == "hard"
    assert report.email == READER
    assert person(report) == ("c1", "d-1")
    assert report.id == "<20260105070011.4Q2x1@mail.kettu.example>"
    assert report.status.startswith("5.1.1")
    assert report.source == "imap"
    assert reading.blocked == ()


def test_a_failed_dsn_with_a_4xx_status_is_a_soft_bounce():
    """RFC 3464 C.2: Action failed, Status 4.x.x; the original's headers only."""
    raw = bounce_mail(
        "dsn-failed-4xx.eml", original=polku_email("c1", "d-2"), status="4.2.2"
    )
    (report,) = inbound.read(raw).reports
    assert report.kind == "soft"
    assert report.status.startswith("4.2.2")
    assert person(report) == ("c1", "d-2")


def test_a_policy_block_is_no_bounce_but_an_alert():
    raw = bounce_mail("dsn-unknown-user.eml", original=polku_email(), status="5.7.1")
    reading = inbound.read(raw)
    assert reading.reports == ()
    (alert,) = reading.blocked
    assert "5.7.1" in alert


def test_a_delay_warning_is_no_bounce():
    reading = inbound.read(bounce_mail("dsn-delayed.eml", original=polku_email()))
    assert (reading.kind, reading.reports, reading.blocked) == ("dsn", (), ())


def test_a_multi_recipient_dsn_reports_each_failed_recipient_once():
    """RFC 3464 C.3: two failed, one delayed, and no Message-ID: each failed
    recipient gets its own id, the same however often the DSN is read; the
    attached original names only the person it was addressed to."""
    raw = bounce_mail("dsn-multi-recipient.eml", original=polku_email("c1", "d-3"))
    reports = inbound.read(raw).reports
    assert [r.email for r in reports] == ["arathib@vnet.ibm.com", READER]
    assert all(r.kind == "hard" for r in reports)
    assert len({r.id for r in reports}) == 2
    assert [r.id for r in inbound.read(raw).reports] == [r.id for r in reports]
    assert [person(r) for r in reports] == [None, ("c1", "d-3")]


def test_an_abuse_report_with_the_recipient_redacted_names_the_person_by_ref():
    original = polku_email("c1", "d-4").replace(READER.encode(), b"xxxx@xxxx.xxx")
    raw = bounce_mail("arf-abuse-redacted.eml", original=original)
    assert READER.encode() not in raw
    (report,) = inbound.read(raw).reports
    assert report.kind == "complaint"
    assert report.email is None
    assert person(report) == ("c1", "d-4")


@pytest.mark.parametrize("feedback", ["not-spam", "auth-failure", "virus"])
def test_feedback_other_than_abuse_is_no_complaint(feedback):
    raw = bounce_mail(
        "arf-abuse-redacted.eml", original=polku_email(), feedback=feedback
    )
    assert inbound.read(raw).reports == ()


def test_a_qmail_bounce_is_a_hard_bounce_with_the_copied_originals_ref():
    raw = bounce_mail("qmail-bounce.eml", original=polku_email("c1", "d-5"))
    (report,) = inbound.read(raw).reports
    assert (report.kind, report.email, report.status) == ("hard", READER, "5.1.1")
    assert person(report) == ("c1", "d-5")


def test_a_qmail_policy_refusal_is_an_alert():
    raw = bounce_mail("qmail-bounce.eml", original=polku_email(), status="5.7.1")
    reading = inbound.read(raw)
    assert reading.reports == () and len(reading.blocked) == 1


@pytest.mark.parametrize(
    "name", ["out-of-office.eml", "automatic-reply.eml", "owners-mail.eml"]
)
def test_automatic_replies_and_other_mail_report_nothing(name):
    reading = inbound.read(bounce_mail(name))
    assert (reading.reports, reading.blocked) == ((), ())


@pytest.mark.parametrize("raw", [b"", b"\x00\xff not mail at all", b"Subject: x\n\n"])
def test_what_is_not_mail_reports_nothing(raw):
    assert inbound.read(raw).reports == ()


def test_a_forged_ref_names_no_one():
    raw = bounce_mail(
        "dsn-unknown-user.eml", original=polku_email("c1", "d-1", secret="t" * 32)
    )
    (report,) = inbound.read(raw).reports
    assert person(report) is None  # apply then goes by the address alone
