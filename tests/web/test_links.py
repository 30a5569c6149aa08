"""The emailed links (confirm, unsubscribe, click, feedback), as a reader meets them."""

from __future__ import annotations

import pytest

from tracker.db import get_storage

from ..conftest import SITE
from .stored import contact, timeline


def test_confirm_get_changes_nothing_and_post_confirms(reader, app):
    reader.subscribe(first_name="Aino", consent_ads="yes")
    path = reader.link("confirm")
    page = reader.client.get(path)
    assert page.status_code == 200 and b'<form method="post"' in page.data
    assert b'name="consent_ads" value="yes">' in page.data  # its own, unticked
    assert b"checked" not in page.data
    assert contact(app)["status"] == "pending"
    response = reader.post(path, data={"consent_ads": "yes"})
    assert response.status_code == 303
    assert response.headers["Location"] == SITE + "/thanks-confirmed/"
    c = contact(app)
    assert c["status"] == "confirmed" and c["first_name"] == "Aino" and c["lead_at"]
    proof = c["consent"]["newsletter"]
    assert proof["wording"] == "Send me the letter." and proof["version"] == "v1"
    assert proof["form"] == "article-signup" and proof["page"] == "/posts/one/"
    assert len(proof["ip_hash"]) == 64 and proof["confirmed_at"]
    assert c["consent"]["ads"]["wording"] == "Ads are fine."
    assert c["consent"]["ads"]["form"] == "confirm-page"
    assert [e["type"] for e in timeline(app) if e["type"] in ("signup", "confirm")] == [
        "signup",
        "confirm",
    ]


def test_a_confirm_link_works_once(reader):
    reader.subscribe()
    path = reader.link("confirm")
    assert reader.post(path).status_code == 303
    replay = reader.post(path)
    assert replay.status_code == 410
    assert b"You are already subscribed" in replay.data  # not "invalid link"
    assert "Location" not in replay.headers
    opened_again = reader.client.get(path)
    assert opened_again.status_code == 410
    assert b"You are already subscribed" in opened_again.data


def test_the_tracker_pages_belong_to_the_site(reader, app):
    """A confirm page is no lone button: it carries the site's name and a way back."""
    reader.subscribe()
    page = reader.client.get(reader.link("confirm")).get_data(as_text=True)
    assert '<header><a href="https://kettu.example/">Kettu Studio</a></header>' in page
    assert "Back to Kettu Studio" in page
    error = reader.client.get("/confirm/forged.token.value").get_data(as_text=True)
    assert "Kettu Studio" in error and "not valid" in error


@pytest.mark.parametrize("route", ["confirm", "unsubscribe", "download"])
def test_forged_tokens_get_a_readable_4xx_page(reader, route):
    methods = [reader.client.get] + (
        [reader.client.post] if route != "download" else []
    )
    for method in methods:
        response = method(f"/{route}/forged.token.value")
        assert 400 <= response.status_code < 500
        assert "Location" not in response.headers
        assert b"not valid" in response.data


def test_expired_confirm_link(reader, app):
    from itsdangerous import URLSafeTimedSerializer

    reader.subscribe()
    c = contact(app)
    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="polku-confirm")
    token = old.dumps({"c": c["id"], "r": next(iter(c["requests"]))})
    app.config["CONFIRM_DAYS"] = -1  # every token is older than that
    response = reader.post(f"/confirm/{token}")
    assert response.status_code == 410 and b"expired" in response.data
    assert contact(app)["status"] == "pending"


def test_unsubscribe_page_then_one_click(reader, app):
    reader.confirm()
    token = _unsubscribe_token(app)
    page = reader.client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and contact(app)["status"] == "confirmed"
    one_click = reader.client.post(
        f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    )  # as a mail provider sends it: no Origin, no cookie
    assert one_click.status_code == 200
    c = contact(app)
    assert c["status"] == "unsubscribed"
    assert c["consent"]["newsletter"]["withdrawn_at"]
    again = reader.post(f"/unsubscribe/{token}")
    assert again.status_code == 303
    assert again.headers["Location"] == SITE + "/thanks-unsubscribed/"


def _unsubscribe_token(app):
    from tracker.web import tokens

    with app.test_request_context():
        return tokens.make("unsubscribe", {"c": contact(app)["id"]})


def _click_token(app, contact_id, url):
    from tracker.web import tokens

    with app.test_request_context():
        return tokens.make("click", {"c": contact_id, "u": url})


def test_email_click_lands_on_the_journey(reader, app):
    from .test_collect import GOOD, send

    reader.confirm()
    c = contact(app)
    target = SITE + "/posts/one/?utm_source=newsletter&utm_medium=email"
    response = reader.client.get(
        f"/click/{_click_token(app, c['id'], target)}", headers=reader.headers
    )
    assert response.status_code == 302 and response.headers["Location"] == target
    send(reader.client, {**GOOD, "url": SITE + "/posts/two/"})  # reads on, same browser
    kinds = [(e["type"], e.get("path")) for e in timeline(app)]
    assert ("click", "/posts/one/") in kinds and ("pageview", "/posts/two/") in kinds


def test_a_click_after_erasure_stays_anonymous(reader, app):
    reader.confirm()
    c = contact(app)
    token = _click_token(app, c["id"], SITE + "/posts/one/")
    with app.app_context():
        assert get_storage().erase_contact(c["id"])
    assert reader.client.get(f"/click/{token}").status_code == 302
    with app.app_context():
        clicks = [e for e in get_storage().iter_events() if e["type"] == "click"]
    assert len(clicks) == 1 and "contact" not in clicks[0]


@pytest.mark.parametrize("target", ["https://evil.example/", "javascript:alert(1)"])
def test_click_never_redirects_off_site(reader, app, target):
    response = reader.client.get(f"/click/{_click_token(app, 'x', target)}")
    assert 400 <= response.status_code < 500 and "Location" not in response.headers


def test_forged_click_token(reader):
    response = reader.client.get("/click/forged")
    assert response.status_code == 400 and "Location" not in response.headers


def _feedback_token(app, contact_id, ask="digest-1"):
    from tracker.web import tokens

    with app.test_request_context():
        return tokens.make("feedback", {"c": contact_id, "k": ask})


def test_feedback_get_changes_nothing_and_post_records_once(reader, app):
    reader.confirm()
    c = contact(app)
    path = f"/feedback/{_feedback_token(app, c['id'])}"
    page = reader.client.get(path + "?score=10")
    assert page.status_code == 200 and b"10 out of 10" in page.data
    assert contact(app).get("feedback") is None
    response = reader.post(path, data={"score": "10", "comment": "Great help!"})
    assert response.status_code == 303
    assert response.headers["Location"] == SITE + "/thanks-feedback/"
    after = contact(app)
    assert after["feedback"]["score"] == 10 and after["advocate_at"]
    assert reader.post(path, data={"score": "0"}).status_code == 410
    assert contact(app)["feedback"]["score"] == 10
    assert [e["type"] for e in timeline(app)].count("feedback") == 1


@pytest.mark.parametrize("score", ["11", "-1", "x", ""])
def test_feedback_score_must_be_0_to_10(reader, app, score):
    reader.confirm()
    path = f"/feedback/{_feedback_token(app, contact(app)['id'])}"
    assert reader.client.get(f"{path}?score={score}").status_code == 400
    assert reader.post(path, data={"score": score}).status_code == 400
    assert contact(app).get("feedback") is None


def test_a_detractor_is_not_an_advocate(reader, app):
    reader.confirm()
    path = f"/feedback/{_feedback_token(app, contact(app)['id'])}"
    reader.post(path, data={"score": "3"})
    assert contact(app)["feedback"]["score"] == 3 and not contact(app)["advocate_at"]


def test_referral_that_becomes_a_lead_makes_an_advocate(reader, app):
    reader.confirm("friend@example.com")
    friend = contact(app, "friend@example.com")
    assert not friend["advocate_at"]
    reader.subscribe("new@example.com", ref=friend["ref_code"])
    assert not contact(app, "friend@example.com")["advocate_at"]  # not a lead yet
    reader.post(reader.link("confirm", to="new@example.com"))
    assert contact(app, "friend@example.com")["advocate_at"]
    kinds = [e["type"] for e in timeline(app, "friend@example.com")]
    assert kinds.count("referral") == 1
    reader.post(
        "/api/conversion",
        json_body={"email": "new@example.com", "value": 50},
        Authorization="Bearer test-api-key",
    )
    kinds = [e["type"] for e in timeline(app, "friend@example.com")]
    assert kinds.count("referral") == 2  # the signup, then the purchase


def test_head_requests_from_link_scanners_change_nothing(reader, app):
    """A HEAD on an emailed link (as mail scanners send) once confirmed or
    unsubscribed the reader: it only shows the page, like a GET."""
    reader.subscribe()
    confirm = reader.link("confirm")
    assert reader.client.head(confirm).status_code == 200
    assert contact(app)["status"] == "pending"
    reader.post(confirm)
    unsubscribe = f"/unsubscribe/{_unsubscribe_token(app)}"
    assert reader.client.head(unsubscribe).status_code == 200
    feedback = f"/feedback/{_feedback_token(app, contact(app)['id'])}?score=9"
    assert reader.client.head(feedback).status_code == 200
    after = contact(app)
    assert after["status"] == "confirmed" and after.get("feedback") is None
