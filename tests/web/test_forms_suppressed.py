"""A form signup by a suppressed address: refused without a word to the reader
(the usual answer, nothing sent) and with the reason on the person's timeline,
until the suppression is older than its setting; then a fresh confirmation,
and confirming lifts the suppression."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tracker import clock
from tracker.db import get_storage
from tracker.mail import bounces
from tracker.mail import digest as newsletter

from ..conftest import Reader

GONE = "gone@example.com"
T0 = "2026-03-01T12:00:00+00:00"


@pytest.fixture
def reader(app, set_clock):
    set_clock(T0)
    reader = Reader(app.test_client(), app)
    reader.confirm(GONE)
    return reader


def contact(app, address=GONE) -> dict:
    with app.app_context():
        return get_storage().find_contact(address)


def timeline(app) -> list[dict]:
    with app.app_context():
        return get_storage().timeline(contact(app)["id"])


def suppress(app, kind: str) -> None:
    with app.app_context():
        storage = get_storage()
        if kind == "complaint":
            report = bounces.Report(
                kind="complaint", id="r1", source="test", email=GONE
            )
            assert bounces.apply(storage, "x", report) == bounces.APPLIED
        else:
            bounces.record_bounce(
                storage, contact(app)["id"], "hard", "digest-1", "550 5.1.1 Gone"
            )


def at(set_clock, days: float) -> None:
    set_clock(datetime.fromisoformat(T0) + timedelta(days=days))


def sent_to(reader, address=GONE) -> int:
    return sum(1 for m in reader.outbox() if m["To"] == address)


def json_signup(reader, address):
    return reader.post(
        "/subscribe",
        data={"email": address, "consent_newsletter": "yes"},
        Accept="application/json",
    )


@pytest.mark.parametrize(
    ("kind", "days", "reason"),
    [("hard", 30, "hard_bounce"), ("complaint", 365, "complaint")],
)
def test_a_signup_before_the_days_is_refused_silently_and_the_owner_sees_why(
    app, reader, set_clock, kind, days, reason
):
    suppress(app, kind)
    before = sent_to(reader)
    at(set_clock, days - 1)
    answer = json_signup(reader, GONE)
    stranger = json_signup(reader, "new@example.com")
    assert (answer.status_code, answer.json) == (stranger.status_code, stranger.json)
    assert sent_to(reader) == before  # nothing sent
    found = contact(app)
    assert found["suppressed"]["reason"] == reason and not found.get("requests")
    (refused,) = [e for e in timeline(app) if e["type"] == "signup_suppressed"]
    assert refused["reason"] == reason
    assert refused["until"] > clock.now().isoformat()


@pytest.mark.parametrize(("kind", "days"), [("hard", 30), ("complaint", 365)])
def test_after_the_days_a_fresh_confirmation_and_confirming_lifts_it(
    app, reader, set_clock, kind, days
):
    suppress(app, kind)
    before = sent_to(reader)
    at(set_clock, days + 1)
    assert reader.subscribe(GONE).status_code == 303
    assert sent_to(reader) == before + 1  # even to a confirmed subscriber
    assert contact(app)["suppressed"]  # not until the link is used
    assert reader.post(reader.link("confirm", to=GONE)).status_code == 303
    found = contact(app)
    assert not found.get("suppressed") and found["status"] == "confirmed"
    (confirmed,) = [e for e in timeline(app) if e["type"] == "confirm"][-1:]
    assert confirmed["lifted"] == (
        "complaint" if kind == "complaint" else "hard_bounce"
    )
    with app.app_context():
        chosen = [c["email"] for c in newsletter.recipients(get_storage())]
    assert GONE in chosen  # the digest mails them again


def test_the_refusals_on_the_timeline_are_limited_like_the_emails(
    app, reader, set_clock
):
    suppress(app, "hard")
    at(set_clock, 1)
    for _ in range(10):
        reader.subscribe(GONE)
    refused = [e for e in timeline(app) if e["type"] == "signup_suppressed"]
    assert 1 <= len(refused) <= 3  # POLKU_MAIL_LIMIT_CONFIRM's daily quota


def test_a_guide_is_sent_to_a_suppressed_address_but_not_the_newsletter(
    app, reader, set_clock
):
    """The guide is a link the person asks for; the newsletter's confirmation
    is not sent, and the owner sees why."""
    suppress(app, "hard")
    at(set_clock, 1)
    response = reader.download(GONE, consent_newsletter="yes")
    assert response.status_code == 303
    guide = reader.outbox()[-1]
    text = guide.get_body(("plain",)).get_content()
    assert guide["To"] == GONE and "/download/" in text and "/confirm/" not in text
    assert [e for e in timeline(app) if e["type"] == "signup_suppressed"]


def test_a_confirmation_that_bounces_again_starts_the_wait_again(
    app_factory, set_clock
):
    """The address was proved dead once more: no new confirmation for another
    POLKU_BOUNCE_REPROVE_DAYS, however often the form is posted."""
    from ..mailserver import mail_server

    with mail_server(smtputf8=True) as (server, port):
        app = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        set_clock(T0)
        reader = Reader(app.test_client(), app)
        reader.subscribe(GONE)
        (first,) = server.deliveries
        text = first.message.get_body(("plain",)).get_content()
        link = next(w for w in text.split() if "/confirm/" in w)
        assert reader.post(link.split("kettu.example")[1]).status_code == 303
        suppress(app, "hard")
        server.refuse[GONE] = "550 5.1.1 Still gone"
        at(set_clock, 31)
        assert json_signup(reader, GONE).status_code == 400  # bounced again
        at(set_clock, 32)
        assert json_signup(reader, GONE).status_code == 200  # the usual answer
        assert len(server.deliveries) == 1
    (refused,) = [e for e in timeline(app) if e["type"] == "signup_suppressed"]
    assert refused["until"] > clock.now().isoformat()
    assert contact(app)["suppressed"]["evidence"][0]["status"] == "550 5.1.1 Still gone"


def test_a_pending_signup_whose_confirmation_bounced_stays_suppressed_when_pruned(
    app_factory, set_clock
):
    """Pruning unconfirmed signups erases them; an address whose confirmation
    bounced for good must not come back mailable by that erasure."""
    from tracker import privacy

    from ..mailserver import mail_server

    with mail_server(smtputf8=True, refuse={GONE: "550 5.1.1 No such user"}) as (
        _server,
        port,
    ):
        app = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        set_clock(T0)
        reader = Reader(app.test_client(), app)
        reader.subscribe(GONE)
        assert contact(app)["suppressed"]["reason"] == "hard_bounce"
        set_clock(datetime.fromisoformat(T0) + timedelta(days=15))
        with app.app_context():
            storage = get_storage()
            days, secret = 14, app.config["SECRET_KEY"]
            assert privacy.prune_pending(storage, app.config["DATA_DIR"], days, secret)
            assert storage.find_contact(GONE) is None
            assert privacy.still_suppressed(storage, secret, GONE)
