"""Without JavaScript, a refused form comes back filled in, with the reason."""

from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer

from ..conftest import SITE
from .stored import contacts


def follow(reader, response):
    assert response.status_code == 303, response.data[:300]
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}" == SITE
    assert target.path.startswith("/form/")
    return reader.client.get(target.path, headers=reader.headers)


def value_of(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    if not tag:
        return None
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return unescape(value.group(1)) if value else ""


def ticked(page: str, name: str) -> bool:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    return bool(tag) and " checked" in tag.group(0)


def assert_honeypot(page: str) -> None:
    tag = re.search(r'<input[^>]*name="website"[^>]*>', page).group(0)
    for attribute in ('value=""', 'tabindex="-1"', 'autocomplete="off"'):
        assert attribute in tag
    assert 'class="polku-hp" aria-hidden="true"' in page


@pytest.mark.parametrize(
    "fields, reason, field",
    [
        ({"email": "not-an-address"}, "does not look right", "email"),
        ({"email": ""}, "required", "email"),
        ({"consent_newsletter": ""}, "tick the box", "consent_newsletter"),
    ],
)
def test_a_bad_signup_returns_to_the_form_filled_in(reader, app, fields, reason, field):
    typed = {"first_name": "Aino <b>", "consent_ads": "yes", "ref": "abc123"}
    typed |= {"utm_source": "news", **fields}
    page = follow(reader, reader.subscribe(**typed))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert reason in html and "Kettu" in html  # the site's name, a way back
    error = re.search(rf'<p class="form-error" id="{field}-error">([^<]*)</p>', html)
    assert error and reason in error.group(1)
    assert 'action="/subscribe"' in html and 'method="post"' in html
    assert value_of(html, "email") == typed.get("email", "reader@example.com")
    assert value_of(html, "first_name") == "Aino <b>" and "<b>" not in html
    assert ticked(html, "consent_ads")
    sent_ticked = bool(typed.get("consent_newsletter", "yes"))  # subscribe() ticks it
    assert ticked(html, "consent_newsletter") is sent_ticked
    for name, value in [
        ("form", "article-signup"),
        ("source", "/posts/one/"),
        ("ref", "abc123"),
        ("utm_source", "news"),
        ("consent_version", "v1"),
    ]:
        assert value_of(html, name) == value
    assert_honeypot(html)
    assert contacts(app) == [] and reader.outbox() == []


def test_the_corrected_form_works(reader, app):
    page = follow(reader, reader.subscribe(email="aino@", first_name="Aino"))
    html = page.get_data(as_text=True)
    names = re.findall(r'<input[^>]*name="([^"]+)"', html)
    data = {n: value_of(html, n) for n in names if n not in ("consent_newsletter",)}
    data |= {"email": "aino@example.com", "consent_newsletter": "yes"}
    response = reader.post("/subscribe", data=data)
    assert response.headers["Location"] == SITE + "/thanks-signup/"
    (person,) = contacts(app)
    assert person["email"] == "aino@example.com"
    (message,) = reader.outbox()
    assert "Aino" in message.get_body(("plain",)).get_content()  # greeted by name


def test_an_unknown_guide_returns_to_the_download_form(reader, app):
    page = follow(reader, reader.download(guide="nope", consent_newsletter="yes"))
    html = page.get_data(as_text=True)
    assert "do not have that guide" in html and 'action="/download"' in html
    assert value_of(html, "guide") == "nope" and value_of(html, "email")
    assert ticked(html, "consent_newsletter")
    assert_honeypot(html)
    assert contacts(app) == [] and reader.outbox() == []


def test_json_callers_still_get_json(reader):
    data = {"email": "nope", "consent_newsletter": "yes"}
    response = reader.post("/subscribe", data=data, Accept="application/json")
    assert response.status_code == 400 and response.json["ok"] is False


def test_a_forged_or_expired_form_is_refused_readably(reader, app, monkeypatch):
    forged = URLSafeTimedSerializer("not our key", salt="polku-form").dumps({})
    response = reader.client.get(f"/form/{forged}", headers=reader.headers)
    assert response.status_code == 400 and "Location" not in response.headers
    assert "not valid" in response.get_data(as_text=True)
    key = app.config["SECRET_KEY"]
    with monkeypatch.context() as m:
        then = time.time() - 3700  # an hour and a bit ago
        m.setattr("itsdangerous.timed.time.time", lambda: then)
        old = URLSafeTimedSerializer(key, salt="polku-form").dumps({"k": "signup"})
    response = reader.client.get(f"/form/{old}", headers=reader.headers)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)


def test_the_form_in_finnish(reader, app):
    from .test_reader_i18n import set_lang

    set_lang(app, "fi")
    html = follow(reader, reader.subscribe(email="x")).get_data(as_text=True)
    assert '<html lang="fi">' in html and "Sähköpostiosoite" in html
    assert "Tarkista" in html
