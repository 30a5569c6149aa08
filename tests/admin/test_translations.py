"""The dashboard speaks the site's language from the gettext catalogue, never empty."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from flask import render_template_string

from tracker import i18n

from ..conftest import ROOT

CATALOGUE = ROOT / "tracker" / "i18n" / "translations" / "fi" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
PASSWORD = "pw"


def admin_po():
    with open(CATALOGUE / "admin.po", "rb") as f:
        return read_po(f, locale="fi")


def used_messages() -> set[str]:
    """Every message id the dashboard's templates and Python ask for."""
    sources = [
        (p, "jinja2.ext:babel_extract", {"extensions": "jinja2.ext.i18n"})
        for p in sorted((ROOT / "tracker" / "templates" / "admin").glob("*.html"))
    ]
    code = sorted((ROOT / "tracker" / "admin").glob("*.py"))
    sources += [(p, "python", {}) for p in code]
    found = set()
    for path, method, options in sources:
        for _, message, _, _ in extract_from_file(
            method, str(path), keywords=KEYWORDS, options=options
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_finnish_catalogue_has_no_empty_translation():
    catalog = admin_po()
    assert catalog.plural_forms == "nplurals=2; plural=(n != 1);"
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if message.pluralizable else (message.string,)
        assert all(s.strip() for s in strings), message.id
        ids = message.id if message.pluralizable else (message.id,)
        wanted = set(re.findall(r"%\(\w+\)s", ids[0]))
        for text in strings:
            assert set(re.findall(r"%\(\w+\)s", text)) == wanted, message.id


def test_every_message_the_dashboard_shows_is_in_the_catalogue():
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in admin_po() if m.id}
    assert sorted(used_messages() - known) == []


def finnish(app):
    manifest = Path(app.config["DATA_DIR"]) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["site"]["lang"] = "fi"
    manifest.write_text(json.dumps(data))
    return app


def headings(page: str) -> list[str]:
    found = re.findall(r"<(h[1-3]|title|caption|summary)[^>]*>(.*?)</\1>", page, re.S)
    return [re.sub(r"<[^>]+>", "", text).strip() for _, text in found]


def test_every_finnish_page_has_finnish_headings(app_factory):
    app = finnish(app_factory(ADMIN_PASSWORD=PASSWORD))
    client = app.test_client()
    pages = [client.get("/admin/login").get_data(as_text=True)]
    client.post("/admin/login", data={"password": PASSWORD})
    from .conftest import seed

    contact = seed(app)
    for url in (
        "/admin/",
        "/admin/?period=today",
        "/admin/?period=7d&touch=last",
        "/admin/?source=facebook&all=sources",
        "/admin/contacts",
        f"/admin/contacts/{contact['id']}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        pages.append(response.get_data(as_text=True))
    english = {m.id for m in admin_po() if isinstance(m.id, str) and m.id != m.string}
    for page in pages:
        assert '<html lang="fi">' in page
        found = headings(page)
        assert found and all(found), found
        assert not [h for h in found if h.removesuffix(" · Polku") in english], found
    overview = pages[1]
    assert "Suosittelukysymyksen vastaukset" in overview  # the recommend-us panel
    assert "Asiakaspolun suppilo" in overview
    assert "palasi toisena päivänä tai luki saman päivän aikana useita sivuja" in (
        overview
    )
    assert "asiakas, joka suosittelee meitä (9–10)" in overview


def test_off_page_is_finnish_too(app_factory):
    app = finnish(app_factory())
    page = app.test_client().get("/admin/").get_data(as_text=True)
    assert "Hallinta ei ole käytössä" in page


@pytest.mark.parametrize(
    "lang, n, expected",
    [
        ("en", 1, "1 hit from bots is not counted."),
        ("en", 1234, "1,234 hits from bots are not counted."),
        ("fi", 2, "Bottien 2 käyntiä ei ole laskettu mukaan."),
        ("en", 1, "1 contact"),
        ("fi", 1, "1 yhteystieto"),
        ("en", 2, "2 contacts"),
    ],
)
def test_plurals_come_from_the_catalogue(app_factory, lang, n, expected):
    app = app_factory(ADMIN_PASSWORD=PASSWORD)
    if lang == "fi":
        finnish(app)
    template = (
        "{% trans num=n|counted %}{{ num }} hit from bots is not counted."
        "{% pluralize %}{{ num }} hits from bots are not counted.{% endtrans %}"
        if "hit" in expected or "käynti" in expected
        else "{% trans num=n|counted %}{{ num }} contact{% pluralize %}"
        "{{ num }} contacts{% endtrans %}"
    )
    with app.test_request_context("/admin/"):
        assert render_template_string(template, n=n) == expected


def test_a_missing_translation_shows_english():
    assert i18n.gettext("fi", "A sentence nobody translated.") == (
        "A sentence nobody translated."
    )


def test_the_stylesheet_is_served(app_factory):
    client = app_factory(ADMIN_PASSWORD=PASSWORD).test_client()
    with client.get("/admin/static/admin.css") as response:
        assert response.status_code == 200 and b"{" in response.data
