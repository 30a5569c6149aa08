"""The reader's emails and pages speak the site's language (`site.lang`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tracker import errors, i18n
from tracker.db import get_storage
from tracker.web import tokens

from ..conftest import ROOT, SITE, TEST_MANIFEST, Reader, write_manifest


def set_lang(app, lang: str) -> None:
    """Rewrite the test manifest with another site language."""
    data_dir = Path(app.config["DATA_DIR"])
    write_manifest(
        data_dir, {**TEST_MANIFEST, "site": {**TEST_MANIFEST["site"], "lang": lang}}
    )
    path = data_dir / "manifest.json"
    later = path.stat().st_mtime + 1
    os.utime(path, (later, later))  # a new mtime: a cached manifest is read again


@pytest.fixture
def finnish(app_factory):
    app = app_factory()
    set_lang(app, "fi-FI")
    return app


@pytest.fixture
def fi_reader(finnish):
    return Reader(finnish.test_client(), finnish)


def words(text: str) -> str:
    """The text with its line breaks and runs of spaces folded, as a reader sees it."""
    return " ".join(text.split())


def parts(message) -> tuple[str, str]:
    """The decoded plain-text and HTML parts of an email."""
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return plain, html


def contact_id(app, email="reader@example.com") -> str:
    with app.app_context():
        return get_storage().find_contact(email)["id"]


def token(app, purpose: str, payload: dict) -> str:
    with app.test_request_context():
        return tokens.make(purpose, payload)


def page_text(response) -> str:
    return words(response.get_data(as_text=True))


def subscribe_json(reader, email="reader@example.com", **headers):
    """Sign up as the site's script does: the answer is JSON, shown on the page."""
    data = {"email": email, "consent_newsletter": "yes"}
    return reader.post("/subscribe", data=data, Accept="application/json", **headers)


# -- Finnish -----------------------------------------------------------------------


def test_confirmation_email_in_finnish(fi_reader):
    answer = fi_reader.subscribe(first_name="Aino")  # a name that passes the filter
    assert answer.status_code == 303
    (message,) = fi_reader.outbox()
    assert message["Subject"] == "Vahvista uutiskirjeen tilaus"
    plain, html = parts(message)
    text = words(plain)
    assert text.startswith("Hei Aino, Vahvista vielä,")
    assert "Vahvistamalla hyväksyt tämän:" in text
    assert "haluat tilata uutiskirjeen sivustolta Kettu Studio:" in text
    assert "Poistamme osoitteen 14 päivän kuluessa." in text
    assert '<html lang="fi">' in html
    assert "<title>Vahvista uutiskirjeen tilaus</title>" in html
    assert ">Vahvista tilaus</a>" in words(html)
    for english in ("Hello", "Please confirm", "newsletter", "days"):
        assert english not in plain and english not in html, english


def test_confirmation_email_in_finnish_over_smtp(app_factory, smtp):
    """The same email through a real SMTP server, decoded from its MIME parts."""
    inbox, port = smtp
    app = app_factory(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    set_lang(app, "fi")
    Reader(app.test_client(), app).subscribe("smtp@example.com")
    (message,) = inbox.to("smtp@example.com")
    assert message["Subject"] == "Vahvista uutiskirjeen tilaus"
    plain, html = parts(message)
    assert words(plain).startswith("Hei, Vahvista vielä, että haluat tilata")
    assert '<html lang="fi">' in html and "Mitään ei tapahdu" in words(html)


def test_confirm_page_in_finnish(fi_reader, finnish):
    fi_reader.subscribe()
    path = fi_reader.link("confirm")
    page = fi_reader.client.get(path)
    assert page.status_code == 200
    text = page_text(page)
    assert '<html lang="fi">' in text
    assert "<h1>Vahvista uutiskirjeen tilaus</h1>" in text
    assert "Vahvista uutiskirjeen tilaus osoitteelle reader@example.com" in text
    assert '<button type="submit">Vahvista tilaus</button>' in text
    assert "Confirm" not in text and "Sorry" not in text
    done = fi_reader.post(path)
    assert done.status_code == 303
    assert done.headers["Location"] == SITE + "/thanks-confirmed/"
    replay = fi_reader.post(path)
    assert replay.status_code == 410
    assert '<html lang="fi">' in page_text(replay)
    assert "Olet jo tilaaja" in page_text(replay)


def test_unsubscribe_page_in_finnish(fi_reader, finnish):
    fi_reader.confirm()
    path = f"/unsubscribe/{token(finnish, 'unsubscribe', {'c': contact_id(finnish)})}"
    page = fi_reader.client.get(path)
    assert page.status_code == 200
    text = page_text(page)
    assert '<html lang="fi">' in text and "<title>Peru tilaus</title>" in text
    assert "emme lähetä enää viestejä osoitteeseen reader@example.com" in text
    assert '<button type="submit">Peru tilaus</button>' in text
    assert "Unsubscribe" not in text
    one_click = fi_reader.client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert one_click.json == {"ok": True, "message": "Tilaus peruttu."}


def test_feedback_page_in_finnish(fi_reader, finnish):
    fi_reader.confirm()
    ask = token(finnish, "feedback", {"c": contact_id(finnish), "k": "2026-11"})
    text = page_text(fi_reader.client.get(f"/feedback/{ask}?score=9"))
    assert '<html lang="fi">' in text and "Arviosi: 9 / 10." in text
    assert "Haluatko kertoa meille vielä jotain? (vapaaehtoinen)" in text
    assert '<button type="submit">Lähetä vastaus</button>' in text
    answer = fi_reader.post(
        f"/feedback/{ask}", data={"score": "9"}, Accept="application/json"
    )
    assert answer.json["message"] == "Kiitos vastauksestasi!"


def test_download_email_in_finnish(fi_reader):
    fi_reader.download(first_name="Aino", consent_newsletter="yes")
    (message,) = fi_reader.outbox()
    assert message["Subject"] == "Oppaasi: The checklist"
    plain, html = parts(message)
    text = words(plain)
    assert "Tässä pyytämäsi opas ”The checklist”:" in text
    assert "Linkki toimii 7 päivää." in text
    assert "Pyysit myös uutiskirjettämme. Vahvista tilaus tästä:" in text
    assert '<html lang="fi">' in html
    assert "Tässä pyytämäsi opas <strong>The checklist</strong>." in html
    assert "guide" not in text.lower() and "Download" not in html


def test_form_answers_and_errors_in_finnish(fi_reader):
    signed_up = subscribe_json(fi_reader)
    assert signed_up.json["message"] == "Kiitos! Katso sähköpostisi ja vahvista tilaus."
    bad = subscribe_json(fi_reader, "not-an-address")
    assert bad.status_code == 400
    assert bad.json["error"] == "Sähköpostiosoite ei näytä oikealta."
    for route in ("confirm", "unsubscribe", "download"):
        forged = fi_reader.client.get(f"/{route}/forged.token.value")
        text = page_text(forged)
        assert 400 <= forged.status_code < 500 and '<html lang="fi">' in text
        assert "<h1>Pahoittelut</h1>" in text and "Linkki ei kelpaa." in text
    missing = page_text(fi_reader.client.get("/no-such-page"))
    assert "Sivua ei löytynyt." in missing


FOREIGN = "Requests are accepted only from the site's own pages."


def test_the_api_answers_in_english_on_a_finnish_site(fi_reader):
    """Developers call /api/*: their errors stay as raised."""
    beacon = {"type": "pageview", "url": SITE + "/posts/one/"}
    response = fi_reader.post(
        "/api/event", json_body=beacon, Origin="https://x.example"
    )
    assert response.status_code == 403
    assert response.json["error"] == FOREIGN
    signup = subscribe_json(fi_reader, Origin="https://x.example")
    assert signup.status_code == 403
    assert signup.json["error"] == i18n.gettext("fi", FOREIGN)


def test_untranslated_messages_take_the_generic_sentence(finnish):
    disk_full = "Cannot store data now: the disk is full. Try again shortly."
    with finnish.test_request_context("/subscribe"):
        assert errors.translate(disk_full, 503) == i18n.gettext(
            "fi", errors.GENERIC[503]
        )
        assert errors.translate("10 per 1 minute", 429).startswith("Liian monta")
        assert errors.translate("Something else.", 400) == "Something else."


# -- English, the default ----------------------------------------------------------


def test_default_site_stays_english(reader, app):
    reader.subscribe(first_name="Aino")
    (message,) = reader.outbox()
    assert message["Subject"] == "Please confirm your subscription"
    plain, html = parts(message)
    assert words(plain).startswith(
        "Hello Aino, Please confirm that you want the Kettu Studio newsletter:"
    )
    assert 'Confirming means you agree to this: "Send me the letter."' in words(plain)
    assert "forget the address within 14 days." in words(plain)
    assert '<html lang="en">' in html and ">Confirm my subscription</a>" in html
    confirm = page_text(reader.client.get(reader.link("confirm")))
    assert '<html lang="en">' in confirm
    assert "Press the button to confirm the newsletter for reader@example.com." in (
        confirm
    )
    reader.post(reader.link("confirm"))
    path = f"/unsubscribe/{token(app, 'unsubscribe', {'c': contact_id(app)})}"
    unsubscribe = page_text(reader.client.get(path))
    assert '<html lang="en">' in unsubscribe and "<title>Unsubscribe</title>" in (
        unsubscribe
    )
    expired = page_text(reader.client.get("/confirm/forged.token.value"))
    assert "<h1>Sorry</h1>" in expired and "This link is not valid." in expired


def test_the_guide_email_stays_english(reader):
    reader.download(first_name="Aino")
    (message,) = reader.outbox()
    assert message["Subject"] == "Your guide: The checklist"
    plain, html = parts(message)
    assert plain.startswith('Hello Aino,\n\nHere is your copy of "The checklist":')
    assert "Here is your copy of <strong>The checklist</strong>." in html


def test_a_language_the_tracker_does_not_speak_is_english(app_factory):
    app = app_factory()
    set_lang(app, "sv-SE")
    reader = Reader(app.test_client(), app)
    reader.subscribe()
    assert reader.outbox()[0]["Subject"] == "Please confirm your subscription"


# -- fallback and the catalogue ----------------------------------------------------


SIGNED_UP = "Thanks! Please check your inbox and confirm your subscription."


def test_a_string_missing_in_finnish_falls_back_to_english(fi_reader, monkeypatch):
    finnish = i18n.translations("fi-FI")._catalog  # the site says fi-FI
    monkeypatch.delitem(finnish, "Confirm my subscription")
    monkeypatch.delitem(finnish, SIGNED_UP)
    answer = subscribe_json(fi_reader)
    assert answer.json["message"] == SIGNED_UP
    text = page_text(fi_reader.client.get(fi_reader.link("confirm")))
    assert '<button type="submit">Confirm my subscription</button>' in text
    assert "<h1>Vahvista uutiskirjeen tilaus</h1>" in text


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%(?:\(\w+\))?[sd]", text))


READER_PO = Path(i18n.FOLDER) / "fi" / "LC_MESSAGES" / "reader.po"


def finnish_catalogue():
    with READER_PO.open("rb") as f:
        return read_po(f, locale="fi")


def test_finnish_has_every_string_with_the_same_placeholders():
    catalog = finnish_catalogue()
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    for message in catalog:
        if not message.id:
            continue  # the header
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        finnish = (
            message.string if isinstance(message.string, tuple) else (message.string,)
        )
        assert all(finnish), english  # no empty msgstr
        for text in finnish:
            assert placeholders(text) == placeholders(english[-1]), english


def test_every_message_the_reader_sees_is_in_the_finnish_catalogue():
    """What the reader's pages, emails and views ask gettext for, read from the code."""
    from babel.messages.extract import extract_from_dir

    known = {m.id if isinstance(m.id, str) else m.id[0] for m in finnish_catalogue()}
    asked = set()
    methods = [
        ("templates/*.html", "jinja2"),
        ("templates/email/_layout.*", "jinja2"),
        ("templates/email/confirm.*", "jinja2"),
        ("templates/email/download.*", "jinja2"),
        ("web/**.py", "python"),
        ("contacts.py", "python"),
        ("errors.py", "python"),
    ]
    for _, _, message, _, _ in extract_from_dir(str(ROOT / "tracker"), methods):
        asked.add(message if isinstance(message, str) else message[0])
    assert asked, "nothing extracted"
    assert not sorted(asked - known)


# -- the owner's report by email ---------------------------------------------------

REPORT = {
    "since": "2026-11-01",
    "pageviews": 1234,
    "funnel": [
        {"stage": "visitor", "count": 1200, "rate_from_previous": None},
        {"stage": "lead", "count": 12, "rate_from_previous": 0.01},
    ],
    "sources": [{"source": "facebook", "visitors": 1, "leads": 2, "customers": 0}],
    "posts": [{"title": "Kahvi", "views": 3, "signups": 1}],
    "new_customers": [
        {"first_name": "Aino", "email": "a@example.com", "since": "2026-11-20T10:00"}
    ],
}


def test_the_report_email_in_finnish(finnish):
    from tracker.mail.report import send_report

    with finnish.test_request_context():
        send_report(finnish, "owner@example.com", REPORT)
    (message,) = Reader(finnish.test_client(), finnish).outbox()
    assert message["Subject"] == "Kettu Studio: asiakaspolun raportti, alkaen 1.11.2026"
    plain, html = parts(message)
    text = words(plain)
    assert "Sivunlatauksia: 1 234" in text  # words() folds the no-break space
    assert "Asiakaspolun suppilo" in text and "liidi 12 1,0 % edellisestä" in text
    assert "facebook: 1 kävijä, 2 liidiä, 0 asiakasta" in text
    assert "Kahvi: 3 lukukertaa, 1 tilaus" in text
    assert "Aino (20.11.2026)" in text
    assert '<html lang="fi">' in html and "1&nbsp;234 sivunlatausta" in html
    for english in ("report", "Journey", "visitor", "Top", "None", "views", "Open"):
        assert english not in plain and english not in html, english
