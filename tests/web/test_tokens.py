"""Signed links: make() writes itsdangerous's format and every token reads,
the ones emailed before make() wrote it itself included."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from tracker.errors import BadToken
from tracker.web import tokens

SECRET = "s" * 40
CLICK = {
    "c": "c0123456789abcdef",
    "u": "https://example.org/posts/one/?utm_source=newsletter&utm_medium=email"
    "&utm_campaign=digest-2026-12-06",
    "e": "digest-2026-12-06-a1b2c3",
}


@pytest.fixture
def app():
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, CONFIRM_DAYS=7, DOWNLOAD_DAYS=30)
    with app.app_context():
        yield app


def itsdangerous(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(SECRET, salt=f"polku-{purpose}")


@pytest.mark.parametrize("purpose", sorted(tokens.PURPOSES))
@pytest.mark.parametrize("payload", [{"c": "c1"}, CLICK, {"c": "jörg", "k": "d"}])
def test_a_made_token_reads_here_and_with_itsdangerous(app, purpose, payload):
    token = tokens.make(purpose, payload)
    assert tokens.read(purpose, token) == payload
    assert itsdangerous(purpose).loads(token) == payload
    assert set(token) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
    )


def test_a_short_payload_is_itsdangerous_token_byte_for_byte(app, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_780_000_000.7)
    payload = {"c": "c1", "r": "r2"}
    assert tokens.make("confirm", payload) == itsdangerous("confirm").dumps(payload)


def test_a_long_payload_is_compressed_and_about_as_short(app):
    ours = tokens.make("click", CLICK)
    theirs = itsdangerous("click").dumps(CLICK)
    assert ours.startswith(".") and theirs.startswith(".")  # zlib, marked
    assert len(ours) <= len(theirs) + 8


@pytest.mark.parametrize("payload", [{"c": "c1"}, CLICK])
def test_links_signed_before_still_work(app, payload):
    for purpose in tokens.PURPOSES:
        old = itsdangerous(purpose).dumps(payload)
        assert tokens.read(purpose, old) == payload


def test_a_token_opens_only_its_own_purpose(app):
    token = tokens.make("unsubscribe", {"c": "c1"})
    with pytest.raises(BadToken, match="not valid"):
        tokens.read("preferences", token)
    with pytest.raises(BadToken, match="not valid"):
        tokens.read("unsubscribe", token[:-2])
    app.config["SECRET_KEY"] = "another key, another signature" * 2
    with pytest.raises(BadToken, match="not valid"):
        tokens.read("unsubscribe", token)
    with pytest.raises(ValueError):
        tokens.make("everything", {"c": "c1"})


def test_an_old_token_expires(app, monkeypatch):
    then = time.time() - 8 * tokens.DAY
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: then)
        token = tokens.make("confirm", {"c": "c1"})
    with pytest.raises(BadToken) as refused:
        tokens.read("confirm", token)
    assert refused.value.status == 410
