"""The signup and download forms, as a reader meets them."""

from __future__ import annotations

import pytest

from tracker.db import get_storage

from ..conftest import SITE
from .stored import contact, contacts, timeline


def test_signup_redirects_to_thank_you_and_emails_a_confirmation(reader, app):
    response = reader.subscribe(first_name="Aino")
    assert response.status_code == 303
    assert response.headers["Location"] == SITE + "/thanks-signup/"
    (message,) = reader.outbox()
    assert message["To"] == "reader@example.com"
    assert message.get_body(("html",)) is not None
    assert "/confirm/" in reader.link("confirm")
    c = contact(app)
    assert c["status"] == "pending" and c["consent"]["newsletter"] is None


def test_signup_as_json(reader):
    response = reader.post(
        "/subscribe",
        json_body={"email": "j@example.com", "consent_newsletter": True},
        Accept="application/json",
    )
    assert response.status_code == 200 and response.json["ok"] is True


def test_signing_up_again_never_duplicates_or_downgrades(reader, app):
    reader.confirm()
    before = contact(app)
    response = reader.subscribe(first_name="Someone else")
    assert response.status_code == 303  # the same answer: nothing revealed
    assert len(contacts(app)) == 1
    after = contact(app)
    assert (
        after["status"] == "confirmed" and after["first_name"] == before["first_name"]
    )
    assert len(reader.outbox()) == 1  # nothing new to confirm, nothing sent


def test_pending_address_gets_the_confirmation_again_after_a_while(
    reader, app, set_clock
):
    set_clock("2026-03-02T10:00:00Z")
    reader.subscribe()
    reader.subscribe()  # within ten minutes: the same email is on its way
    assert len(reader.outbox()) == 1
    set_clock("2026-03-02T10:11:00Z")
    reader.subscribe()
    assert len(contacts(app)) == 1
    assert len(reader.outbox()) == 2


def test_adding_ads_consent_needs_a_new_confirmation(reader, app, set_clock):
    set_clock("2026-03-02T10:00:00Z")
    reader.confirm()
    set_clock("2026-03-02T11:00:00Z")
    reader.subscribe(consent_ads="yes")
    assert contact(app)["consent"]["ads"] is None
    reader.post(reader.link("confirm"), data={"consent_ads": "yes"})
    assert contact(app)["consent"]["ads"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"email": "not-an-address"}, "does not look right"),
        ({"email": ""}, "required"),
        ({"consent_newsletter": ""}, "tick the box"),
    ],
)
def test_bad_signups_store_nothing(reader, app, fields, message):
    html = reader.subscribe(**fields)
    assert html.status_code == 303  # the form again, filled in: test_form_again.py
    assert html.headers["Location"].startswith(SITE + "/form/")
    data = {"email": "reader@example.com", "consent_newsletter": "yes", **fields}
    as_json = reader.post("/subscribe", data=data, Accept="application/json")
    assert as_json.status_code == 400 and message in as_json.json["error"]
    assert contacts(app) == [] and reader.outbox() == []


def test_honeypot_is_silently_dropped(reader, app):
    response = reader.subscribe(website="http://spam.example")
    assert response.status_code == 303
    assert response.headers["Location"] == SITE + "/thanks-signup/"
    assert contacts(app) == [] and reader.outbox() == []


def test_foreign_origin_is_refused(reader, app):
    response = reader.post(
        "/subscribe",
        data={"email": "a@example.com", "consent_newsletter": "yes"},
        Origin="https://evil.example",
        Accept="application/json",
    )
    assert response.status_code == 403
    assert contacts(app) == []


def test_oversized_body_is_refused(reader, app):
    response = reader.post(
        "/subscribe",
        data={
            "email": "a@example.com",
            "consent_newsletter": "yes",
            "x": "y" * 100_000,
        },
        Accept="application/json",
    )
    assert response.status_code == 413 and response.json["ok"] is False
    assert contacts(app) == []


def test_rate_limit_holds(app_factory):
    from ..conftest import Reader

    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_FORMS="3/minute")
    reader = Reader(app.test_client(), app)
    codes = [reader.subscribe(f"r{n}@example.com").status_code for n in range(5)]
    assert codes[:3] == [303, 303, 303]
    assert codes[3:] == [303, 303]  # an HTML form gets the error page…
    assert len(contacts(app)) == 3  # …and nothing is stored
    limited = reader.post(
        "/subscribe", data={"email": "x@example.com"}, Accept="application/json"
    )
    assert limited.status_code == 429


def test_download_makes_a_lead_when_its_link_is_used(reader, app):
    response = reader.download(first_name="Jari")
    assert response.status_code == 303
    assert response.headers["Location"] == SITE + "/thanks-download/"
    c = contact(app)
    assert not c["lead_at"] and c["status"] == "none" and not c["first_name"]
    file = reader.client.get(reader.link("download"), buffered=True)
    c = contact(app)
    assert c["lead_at"] and c["first_name"] == "Jari"
    assert file.status_code == 200 and file.data == b"%PDF-1.4 the guide"
    assert "attachment" in file.headers["Content-Disposition"]
    kinds = [e.get("name") or e["type"] for e in timeline(app)]
    assert "download" in kinds and "guide-fetched" in kinds


def test_download_with_newsletter_consent_includes_the_confirmation(reader, app):
    reader.download(consent_newsletter="yes")
    reader.post(reader.link("confirm"))
    assert contact(app)["status"] == "confirmed"


@pytest.mark.parametrize(
    "guide", ["nope", "../manifest", "..%2Fmanifest", "website-checklist/../x"]
)
def test_unknown_or_traversing_guides_are_refused(reader, app, guide):
    response = reader.post(
        "/download",
        data={"email": "a@example.com", "guide": guide},
        Accept="application/json",
    )
    assert response.status_code == 404
    assert contacts(app) == [] and reader.outbox() == []


def test_signup_stitches_earlier_visits(reader, app):
    from .test_collect import GOOD, send

    send(reader.client, GOOD)  # the same browser, earlier, from a campaign
    reader.confirm()
    visits = [e for e in timeline(app) if e["type"] == "pageview"]
    assert visits and visits[0]["utm"]["campaign"] == "spring"


def test_referral_code_credits_the_referrer(reader, app):
    reader.confirm("friend@example.com")
    code = contact(app, "friend@example.com")["ref_code"]
    reader.subscribe("new@example.com", ref=code)
    assert contact(app, "new@example.com")["referred_by"] is None  # not yet proven
    reader.post(reader.link("confirm", to="new@example.com"))
    assert (
        contact(app, "new@example.com")["referred_by"]
        == contact(app, "friend@example.com")["id"]
    )


def test_own_referral_code_credits_no_one(reader, app):
    reader.confirm("friend@example.com")
    code = contact(app, "friend@example.com")["ref_code"]
    reader.subscribe("friend@example.com", ref=code)
    assert not contact(app, "friend@example.com")["referred_by"]


def test_smtp_failure_keeps_the_signup_and_says_try_again(app_factory):
    from ..conftest import Reader, free_port

    app = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    reader = Reader(app.test_client(), app)
    response = reader.post(
        "/subscribe",
        data={"email": "a@example.com", "consent_newsletter": "yes"},
        Accept="application/json",
    )
    assert response.status_code == 503 and "try again" in response.json["error"]
    assert contact(app, "a@example.com")["status"] == "pending"


def test_unconfirmed_signups_are_pruned_daily(app_factory):
    from ..conftest import Reader

    app = app_factory(PENDING_DAYS=-1)  # every pending signup is already too old
    reader = Reader(app.test_client(), app)
    reader.subscribe("first@example.com")  # today's prune ran before this one existed
    with app.app_context():
        get_storage().update_meta("pruned_on", lambda _: "2000-01-01")
    reader.subscribe("second@example.com")  # a new day: the prune runs again
    assert contact(app, "first@example.com") is None
    assert all(m["To"] != "first@example.com" for m in reader.outbox())


def test_json_nested_past_the_recursion_limit_is_refused(reader, app):
    """A JSON body of 5,000 `[` made json.loads raise RecursionError: a 500."""
    response = reader.post(
        "/subscribe",
        data=b"[" * 5000,
        Accept="application/json",
        **{"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and "JSON object" in response.json["error"]
    assert contacts(app) == []


def test_json_with_half_a_surrogate_pair_is_refused(reader, app):
    """`"utm_source": "\\ud800"` in a JSON signup could not be written: a 500."""
    body = b'{"email": "a@example.com", "consent_newsletter": true, "utm_source": '
    response = reader.post(
        "/subscribe",
        data=body + b'"\\ud800"}',
        Accept="application/json",
        **{"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert contacts(app) == [] and reader.outbox() == []
