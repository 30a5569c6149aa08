"""Each reader's digest is the email it was before the digest was made fast:
the same headers and bodies, built the way it was built (links with url_for
per token, the templates rendered and the CSS inlined per reader, the bodies
by email.mime); and every link in it opens what it says."""

from __future__ import annotations

import hashlib
import json
import re
from email.mime.text import MIMEText

import pytest
from pelican.plugins.polku import digest as content

from tracker import mail
from tracker.mail import digest as newsletter
from tracker.mail import variants
from tracker.mail.lists import list_headers
from tracker.web import site as sitemeta
from tracker.web import tokens
from tracker.web.site import link

from ..conftest import ROOT, TEST_MANIFEST

RUN = {"id": "digest-2026-03-10-abc123", "date": "2026-03-10"}
CONTACTS = [
    {"id": "c1", "email": "a@example.com", "first_name": 'Aino & "Bo"'},
    {"id": "c2", "email": "jörg@exämple.fi", "customer_at": "2026-01-01", "lang": "fi"},
    {"id": "c3", "email": "b@example.com", "ref_code": "R3", "first_name": "Åsa"},
]


def fake_make(purpose: str, payload: dict) -> str:
    """A token that is the same in both builds (real ones carry the time)."""
    body = json.dumps(payload, sort_keys=True).encode()
    return f"{purpose}.{hashlib.sha1(body).hexdigest()}"


def before(contact, posts, more, run, env, settings, interests, ask):
    """(headers, text, html) as message_for built them before."""

    def click(url):
        token = tokens.make("click", {"c": contact["id"], "u": url, "e": run["id"]})
        return link("forms.click", token=token)

    feedback = None
    if ask:
        question = tokens.make("feedback", {"c": contact["id"], "k": run["id"]})
        base = link("forms.feedback", token=question)

        def feedback(score):
            return f"{base}?score={score}"

    unsubscribe = tokens.make("unsubscribe", {"c": contact["id"]})
    links = content.Links(
        click_url=click,
        unsubscribe_url=link("forms.unsubscribe", token=unsubscribe),
        preferences_url=link(
            "preferences.page", token=tokens.make("preferences", {"c": contact["id"]})
        ),
        referral_url=contact.get("ref_code")
        and f"{sitemeta.public_base()}/?ref={contact['ref_code']}",
        feedback_url=feedback,
        site_url=sitemeta.public_base() + "/",
    )
    settings = newsletter.in_their_language(settings, contact)
    settings = variants.digest_settings(settings, contact["id"])
    site = {
        "name": (sitemeta.manifest().get("site") or {}).get("name"),
        "url": sitemeta.public_base(),
    }
    subject, text, html = content.render(
        posts,
        more,
        {"first_name": contact.get("first_name"), "interests": interests},
        site=site,
        links=links,
        settings=settings,
        env=env,
        campaign_date=run["date"],
    )
    return list_headers(links.unsubscribe_url), subject, text, html


def build(app, contact, monkeypatch):
    """(the message now, the message as before) for contact."""
    env = content.make_env(str(ROOT / "theme"))
    settings = content.DigestSettings(footer="Kettu Oy\nKatu 1", lang="en")
    ask = bool(contact.get("customer_at"))
    args = (contact, TEST_MANIFEST["posts"], 1, RUN, env, settings, {}, ask)
    with app.test_request_context():
        for _ in range(2):  # the second from the shape the first left
            now = newsletter.message_for(*args)
        with monkeypatch.context() as m:  # the templates rendered in full
            m.setattr(content, "TEMPLATES", "/not/the/plugins/templates")
            headers, subject, text, html = before(*args)
        then = mail.build(
            app.config,
            contact["email"],
            subject,
            text,
            html,
            headers=headers,
            inline_css=False,
            key=f"{RUN['id']}:{contact['id']}",
            send=RUN["id"],
            contact=contact["id"],
        )
    return now, then, text, html


@pytest.mark.parametrize("contact", CONTACTS, ids=lambda c: c["id"])
def test_every_email_is_what_it_was(app, contact, set_clock, monkeypatch):
    set_clock("2026-03-10T12:00:00+00:00")
    monkeypatch.setattr(tokens, "make", fake_make)
    now, then, text, html = build(app, contact, monkeypatch)
    assert [(k, str(v)) for k, v in now.items()] == [
        (k, str(v)) for k, v in then.items()
    ]
    assert now.envelope == then.envelope
    plain, rich = now.get_payload()
    assert mail.as_bytes(plain) == mail.as_bytes(MIMEText(text, "plain", "utf-8"))
    assert mail.as_bytes(rich) == mail.as_bytes(MIMEText(html, "html", "utf-8"))


def test_every_link_opens_what_it_says(app, monkeypatch):
    contact = CONTACTS[1]
    now, *_ = build(app, contact, monkeypatch)
    bodies = [part.get_payload(decode=True).decode() for part in now.get_payload()]
    found = re.findall(
        r"/(click|unsubscribe|preferences|feedback)/([A-Za-z0-9_.-]+)", "".join(bodies)
    )
    purposes = {purpose for purpose, _ in found}
    assert purposes == {"click", "unsubscribe", "preferences", "feedback"}
    with app.test_request_context():
        for purpose, token in found:
            payload = tokens.read(purpose, token)
            assert payload["c"] == contact["id"]
            if purpose == "click":
                assert payload["e"] == RUN["id"] and payload["u"].startswith("http")
            if purpose == "feedback":
                assert payload["k"] == RUN["id"]
