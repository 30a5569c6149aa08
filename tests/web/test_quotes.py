"""The quote request form, as a visitor and the owner meet it: kept as the request
of an unproven address, the owner emailed at once with the visitor's pages,
within limits; bad input refused with its reason and nothing stored."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tracker.db import get_storage

from ..conftest import BROWSER_UA, SITE, TEST_MANIFEST, Reader, raw_data, write_manifest
from .stored import contacts, timeline
from .test_collect import GOOD, send

OWNER = "owner@kettu.example"
MANIFEST = {
    **TEST_MANIFEST,
    "status_pages": {**TEST_MANIFEST["status_pages"], "quote": "thanks-quote/"},
    "consent": {**TEST_MANIFEST["consent"], "quote": "Keep it to answer me."},
}
FORM = {
    "name": "Aino Virtanen",
    "email": "aino@example.com",
    "phone": "+358 40 123 4567",
    "message": "A new website for our clinic,\nbefore March.",
    "consent_quote": "yes",
    "consent_version": "v1",
    "form": "quote",
    "source": "/quote/",
}


@pytest.fixture
def quote_app(app_factory):
    app = app_factory(OWNER_EMAIL=OWNER, PHONE_REGION="FI")
    write_manifest(Path(app.config["DATA_DIR"]), MANIFEST)
    return app


@pytest.fixture
def visitor(quote_app):
    return Reader(quote_app.test_client(), quote_app)


def ask(visitor, **changes):
    data = {k: v for k, v in {**FORM, **changes}.items() if v is not None}
    return visitor.post("/quote", data=data)


def to_owner(visitor) -> list:
    return [m for m in visitor.outbox() if m["To"] == OWNER]


def test_a_request_thanks_the_visitor_and_is_kept_unproven(visitor, quote_app):
    send(visitor.client, GOOD)  # the visitor read a post first
    response = ask(visitor)
    assert response.status_code == 303
    assert response.headers["Location"] == SITE + "/thanks-quote/"
    (kept,) = contacts(quote_app)
    assert kept["email"] == "aino@example.com"
    assert kept["status"] == "none" and kept["lead_at"] is None
    assert kept["visitors"] == []  # the posting browser is joined to no one
    (request,) = kept["quotes"].values()
    assert request["name"] == "Aino Virtanen"
    assert request["phone"] == "+358401234567"
    assert request["message"] == FORM["message"]
    assert request["proof"]["wording"] == {"quote": "Keep it to answer me."}
    assert request["answered_at"] is None
    types = [e["type"] for e in timeline(quote_app, "aino@example.com")]
    assert types == ["quote_request"]


def test_the_owner_gets_the_request_and_the_pages_read_before(visitor, quote_app):
    send(visitor.client, GOOD)
    send(
        visitor.client,
        {**GOOD, "url": SITE + "/quote/", "title": "Ask for a quote"},
        Referer=SITE + "/posts/one/",
    )
    ask(visitor)
    (message,) = to_owner(visitor)
    assert message["Reply-To"] == "aino@example.com"
    assert "Aino Virtanen" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "+358401234567" in text and "> before March." in text
    assert "from facebook (spring)" in text  # the visit that brought them
    assert "One (/posts/one/)" in text and "Ask for a quote (/quote/)" in text
    assert "not verified" in text
    assert "/admin/quotes" in text
    html = message.get_body(("html",)).get_content()
    assert "Ask for a quote" in html and "tel:+358401234567" in html
    assert not [m for m in visitor.outbox() if m["To"] == "aino@example.com"]


def test_a_browser_that_asks_not_to_be_tracked_shows_no_pages(visitor):
    send(visitor.client, GOOD, DNT="1")
    visitor.post("/quote", data=FORM, DNT="1")
    text = to_owner(visitor)[0].get_body(("plain",)).get_content()
    assert "asks not to be tracked" in text and "/posts/one/" not in text


def test_json_callers_get_json(visitor):
    response = visitor.post(
        "/quote", json_body={**FORM, "consent_quote": True}, Accept="application/json"
    )
    assert response.status_code == 200
    assert response.json == {
        "ok": True,
        "message": "Thank you! We have your request and will be in touch soon.",
    }


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"name": None}, "name", "Please give your name."),
        ({"name": "https://spam.example"}, "name", "Please give your name."),
        ({"email": "not-an-address"}, "email", "That email address does not look"),
        ({"phone": "12"}, "phone", "That phone number does not look right."),
        ({"message": "  "}, "message", "Please tell us what you would like."),
        ({"message": "x" * 2001}, "message", "under 2000 characters"),
        ({"consent_quote": None}, "consent_quote", "Please tick the box"),
    ],
)
def test_bad_input_is_refused_with_its_reason_and_nothing_stored(
    visitor, quote_app, changes, field, reason
):
    assert contacts(quote_app) == []  # the storage is open (its schema made)
    before = raw_data(quote_app)
    response = ask(visitor, **changes)
    assert response.status_code == 303
    again = visitor.client.get(urlsplit(response.headers["Location"]).path)
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and reason in page
    assert f'id="{field}" ' in page and 'aria-invalid="true"' in page
    assert "Aino" in page or field == "name"  # what was typed comes back
    as_json = visitor.post(
        "/quote",
        json_body={k: v for k, v in {**FORM, **changes}.items() if v is not None},
        Accept="application/json",
    )
    assert as_json.status_code == 400 and reason in as_json.json["error"]
    assert contacts(quote_app) == [] and to_owner(visitor) == []
    assert raw_data(quote_app) == before


def test_the_honeypot_and_another_sites_origin_store_nothing(visitor, quote_app):
    assert ask(visitor, website="http://spam.example").status_code == 303
    evil = {"Origin": "https://evil.example"}
    assert visitor.post("/quote", data=FORM, **evil).status_code == 303  # a page
    other = visitor.post("/quote", data=FORM, Accept="application/json", **evil)
    assert other.status_code == 403
    assert contacts(quote_app) == [] and to_owner(visitor) == []


def test_a_number_without_its_country_code_is_read_in_the_sites_country(
    visitor, quote_app
):
    ask(visitor, phone="040 123 4567")  # POLKU_PHONE_REGION=FI
    (kept,) = contacts(quote_app)
    assert [q["phone"] for q in kept["quotes"].values()] == ["+358401234567"]


def test_the_owner_is_not_mail_bombed(app_factory):
    app = app_factory(
        OWNER_EMAIL=OWNER, MAIL_LIMIT_QUOTE="2/hour", MAIL_LIMIT_QUOTE_IP="3/hour"
    )
    write_manifest(Path(app.config["DATA_DIR"]), MANIFEST)
    visitor = Reader(app.test_client(), app)
    for _ in range(4):  # one address, again and again
        assert ask(visitor).status_code == 303
    assert len(to_owner(visitor)) == 2
    for n in range(4):  # other addresses from the same IP address
        ask(visitor, email=f"someone{n}@example.com")
    assert len(to_owner(visitor)) == 3
    with app.app_context():  # every request still waits on the dashboard
        kept = [q for c in get_storage().iter_contacts() for q in c["quotes"].values()]
    assert len(kept) == 8


def test_posts_from_one_ip_address_are_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_FORMS="2/minute")
    visitor = Reader(app.test_client(), app)
    codes = [ask(visitor, email=f"r{n}@example.com").status_code for n in range(3)]
    assert codes == [303, 303, 303]
    assert len(contacts(app)) == 2
    limited = visitor.post("/quote", data=FORM, Accept="application/json")
    assert limited.status_code == 429


def test_a_request_without_an_owner_address_waits_on_the_dashboard(app_factory):
    app = app_factory()
    visitor = Reader(app.test_client(), app)
    assert ask(visitor).status_code == 303
    assert visitor.outbox() == []
    assert len(contacts(app)) == 1


def test_an_open_request_keeps_an_unproven_address_from_pruning(
    visitor, quote_app, set_clock
):
    from tracker import privacy

    set_clock("2026-03-02T10:00:00Z")
    ask(visitor)
    set_clock("2026-06-02T10:00:00Z")
    with quote_app.app_context():
        privacy.prune_daily(
            get_storage(),
            quote_app.config["DATA_DIR"],
            14,
            quote_app.config["SECRET_KEY"],
        )
    assert len(contacts(quote_app)) == 1


def test_the_form_posts_from_a_browser_of_its_own(visitor, quote_app):
    """Another browser's pages are never in the owner's email."""
    other = Reader(quote_app.test_client(), quote_app)
    agent = BROWSER_UA.replace("Chrome/126.0", "Chrome/127.0")
    send(other.client, {**GOOD, "url": SITE + "/secret/"}, **{"User-Agent": agent})
    ask(visitor)
    text = to_owner(visitor)[0].get_body(("plain",)).get_content()
    assert "/secret/" not in text and "No pages recorded" in text


def test_many_addresses_from_many_ip_addresses_do_not_flood_the_owner(app_factory):
    """A stranger with many addresses and many IPs posts the form over and over:
    the owner gets at most POLKU_MAIL_LIMIT_QUOTE_ALL emails; every request
    still waits on the dashboard."""
    app = app_factory(OWNER_EMAIL=OWNER, MAIL_LIMIT_QUOTE_ALL="4/hour")
    write_manifest(Path(app.config["DATA_DIR"]), MANIFEST)
    for n in range(10):
        stranger = Reader(app.test_client(), app)
        stranger.client.environ_base["REMOTE_ADDR"] = f"127.0.0.{n + 2}"
        assert ask(stranger, email=f"someone{n}@example.com").status_code == 303
    assert len(to_owner(Reader(app.test_client(), app))) == 4
    assert len(contacts(app)) == 10
