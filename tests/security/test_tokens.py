"""Signed links and the dashboard's session: forged, expired and replayed
tokens are refused with a readable 4xx (never a redirect) and change nothing.

Expiry is tested by signing tokens in the past (the signer's timestamp), not
by waiting. The basic cases (a forged string, an expired confirmation, a
confirmation or a feedback answer used twice) live in tests/web/test_links.py.
"""

from __future__ import annotations

import base64
import json

import pytest
from itsdangerous import URLSafeTimedSerializer

from tracker.db import get_storage
from tracker.web import tokens

from ..conftest import SITE
from .conftest import (
    PASSWORD,
    Stored,
    Visitor,
    backdated,
    changed_files,
    embedded_tracker,
    log_in,
    make_token,
    seed,
)

DAY = 86400
# What each link does when its token is good: the route and its method.
LINKS = {
    "confirm": ("/confirm/{}", "POST"),
    "download": ("/download/{}", "GET"),
    "unsubscribe": ("/unsubscribe/{}", "POST"),
    "feedback": ("/feedback/{}?score=9", "GET"),
    "click": ("/click/{}", "GET"),
    "preferences": ("/preferences/{}", "GET"),
}


@pytest.fixture
def world(tmp_path):
    return seed(embedded_tracker(tmp_path / "var"), SITE)


def follow(world, purpose: str, token: str):
    path, method = LINKS[purpose]
    reader = Visitor(world.app, SITE)
    if method == "POST":
        return reader.post(path.format(token), data={"score": "9"})
    return reader.client.get(path.format(token), headers=reader.headers)


def payload_of(world, purpose: str) -> dict:
    with world.app.test_request_context():
        return tokens.read(purpose, world.tokens[purpose][0])


def assert_refused(response, status: int, words: str) -> None:
    """A readable page with a 4xx, never a redirect."""
    assert response.status_code == status, response.data[:300]
    assert "Location" not in response.headers
    assert words in response.get_data(as_text=True)


def refused_and_nothing_stored(world, purpose, token, status, words):
    stored = Stored(world.data_dir)
    before = stored.now()
    assert_refused(follow(world, purpose, token), status, words)
    assert changed_files(before, stored.now()) == []


@pytest.mark.parametrize("purpose", sorted(LINKS))
def test_a_token_for_one_link_opens_no_other(world, purpose):
    for other, minted in world.tokens.items():
        if other != purpose:
            refused_and_nothing_stored(world, purpose, minted[0], 400, "not valid")


@pytest.mark.parametrize("purpose", sorted(LINKS))
def test_a_token_signed_with_another_key(world, purpose):
    forged = URLSafeTimedSerializer("not our key", salt=f"polku-{purpose}")
    token = forged.dumps(payload_of(world, purpose))
    refused_and_nothing_stored(world, purpose, token, 400, "not valid")


@pytest.mark.parametrize("purpose", sorted(LINKS))
def test_a_token_with_a_changed_payload(world, purpose):
    """Someone else's contact id pasted into a real token's payload."""
    body, stamp, signature = world.tokens[purpose][0].split(".")
    other = {**payload_of(world, purpose), "c": world.contact_ids[2]}
    forged = base64.urlsafe_b64encode(json.dumps(other).encode()).rstrip(b"=")
    token = ".".join([forged.decode(), stamp, signature])
    refused_and_nothing_stored(world, purpose, token, 400, "not valid")


@pytest.mark.parametrize("purpose", sorted(LINKS))
def test_a_link_works_until_it_expires(world, purpose):
    with world.app.test_request_context():
        limit = tokens.max_age(purpose)
    payload = payload_of(world, purpose)
    old = make_token(world.app, purpose, payload, age=limit + 60)
    refused_and_nothing_stored(world, purpose, old, 410, "expired")
    fresh_enough = make_token(world.app, purpose, payload, age=limit - 60)
    response = follow(world, purpose, fresh_enough)
    response.close()  # the guide is sent as an open file
    assert response.status_code in (200, 302, 303)


@pytest.mark.parametrize("purpose", sorted(LINKS))
def test_no_link_works_for_an_erased_person(world, purpose):
    payload = payload_of(world, purpose)
    with world.app.app_context():
        get_storage().erase_contact(payload["c"])
    if purpose == "click":  # a click names a page, not a decision: it still lands
        assert follow(world, purpose, world.tokens[purpose][0]).status_code == 302
        return
    refused_and_nothing_stored(world, purpose, world.tokens[purpose][0], 410, "")


def test_the_guide_link_works_again_until_it_expires(world):
    """By design a download link is not single-use: a reader may fetch the
    guide again (on another device) within DOWNLOAD_DAYS."""
    token = world.tokens["download"][0]
    for _ in range(2):
        response = follow(world, "download", token)
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
        response.close()


def test_a_replayed_unsubscribe_changes_nothing_more(world):
    token = world.tokens["unsubscribe"][0]
    assert follow(world, "unsubscribe", token).status_code == 303
    stored = Stored(world.data_dir)
    before = stored.now()
    assert follow(world, "unsubscribe", token).status_code == 303
    assert changed_files(before, stored.now()) == []


def test_a_confirmation_from_before_a_new_signup_is_spent(world):
    """Signing up again mints a new link; using the new one spends the old."""
    old = world.tokens["confirm"][0]
    reader = Visitor(world.app, SITE)
    reader.subscribe("pending@example.com")
    assert reader.post(reader.link("confirm", to="pending@example.com")).status_code
    refused_and_nothing_stored(world, "confirm", old, 410, "already subscribed")


# -- the dashboard's session and CSRF token ------------------------------------


def session_cookie(app, data: dict, age: int = 0, key: str | None = None) -> str:
    """A dashboard session cookie signed `age` seconds ago (with another key)."""
    serializer = app.session_interface.get_signing_serializer(app)
    if key is not None:
        serializer = URLSafeTimedSerializer(
            key,
            salt=serializer.salt,
            serializer=serializer.serializer,
            signer_kwargs=serializer.signer_kwargs,
        )
    return backdated(serializer, age).dumps(data)


def dashboard_as(world, cookie: str):
    client = world.app.test_client(use_cookies=False)
    header = {"Cookie": f"{world.session_name}={cookie}"}
    page = client.get("/admin/contacts", headers=header)
    erase = client.post(
        f"/admin/contacts/{world.contact_ids[0]}/erase",
        data={"csrf": "token", "confirm": "yes"},
        headers=header,
    )
    return page, erase


@pytest.mark.parametrize(
    "age, key",
    [
        (0, "not our key"),  # forged
        (13 * 3600, None),  # expired: sessions last 12 hours
    ],
)
def test_a_forged_or_expired_session_is_sent_to_the_login(world, age, key):
    data = {"admin": True, "csrf": "token", "_permanent": True}
    page, erase = dashboard_as(world, session_cookie(world.app, data, age, key))
    for response in (page, erase):
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/admin/login")
    with world.app.app_context():
        assert get_storage().get_contact(world.contact_ids[0])


def test_a_session_within_its_12_hours_is_accepted(world):
    with world.app.app_context():
        epoch = get_storage().get_meta("admin_session_epoch")
    data = {"admin": True, "csrf": "token", "_permanent": True, "epoch": epoch}
    page, erase = dashboard_as(world, session_cookie(world.app, data, 11 * 3600))
    assert page.status_code == 200 and erase.status_code == 303
    assert erase.headers["Location"] == "/admin/contacts"


def test_a_csrf_token_from_another_session_is_refused(world):
    owner, _ = log_in(world.app, PASSWORD)
    _, other_token = log_in(world.app, PASSWORD)
    url = f"/admin/contacts/{world.contact_ids[0]}/erase"
    response = owner.post(url, data={"csrf": other_token, "confirm": "yes"})
    assert response.status_code == 400
    with world.app.app_context():
        assert get_storage().get_contact(world.contact_ids[0])


def test_a_csrf_token_is_spent_by_logging_out(world):
    owner, token = log_in(world.app, PASSWORD)
    assert owner.post("/admin/logout", data={"csrf": token}).status_code == 303
    again, _ = log_in(world.app, PASSWORD)
    url = f"/admin/contacts/{world.contact_ids[0]}/erase"
    response = again.post(url, data={"csrf": token, "confirm": "yes"})
    assert response.status_code == 400
