"""What the site says, in the site's language: every message of the theme, the
plugin's partials, the consent wording and the digest has its Finnish, and a
Finnish build reads in Finnish (words, plurals and dates)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from tracker import i18n

from ..conftest import ROOT
from .test_plugin import build_tiny_site

SITE_PO = Path(i18n.FOLDER) / "fi" / "LC_MESSAGES" / "site.po"
PYTHON_KEYWORDS = {"_": None, "gettext": (2,), "ngettext": (2, 3)}


def site_messages() -> set[str]:
    """Every message id the theme, the plugin's templates and its Python use."""
    found = set()
    sources = [
        (ROOT / "theme" / "templates", [("**.html", "jinja2")], None),
        (ROOT / "plugins" / "polku" / "templates", [("**.html", "jinja2")], None),
        (ROOT / "plugins" / "polku", [("*.py", "python")], PYTHON_KEYWORDS),
    ]
    for folder, method_map, keywords in sources:
        extra = {"keywords": keywords} if keywords else {}
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), method_map, **extra
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_the_finnish_catalogue_has_every_message_of_the_site():
    with open(SITE_PO, "rb") as f:
        catalog = read_po(f)
    messages = site_messages()
    assert len(messages) > 60  # the extraction found the templates
    missing = []
    for message_id in sorted(messages):
        entry = catalog.get(message_id) or next(
            (m for m in catalog if isinstance(m.id, tuple) and m.id[0] == message_id),
            None,
        )
        strings = entry.string if entry else ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if not all(strings):
            missing.append(message_id)
    assert not missing


def test_a_missing_translation_shows_english():
    assert i18n.gettext("fi", "A sentence no catalogue has.") == (
        "A sentence no catalogue has."
    )


def test_a_finnish_build_reads_in_finnish(tmp_path):
    out = build_tiny_site(tmp_path, {"DEFAULT_LANG": "fi"})
    post = BeautifulSoup((out / "a-plain-post.html").read_text(), "html.parser")
    signup = post.find("section", class_="polku-cta--signup")
    assert signup.find("h2").get_text() == "Uudet kirjoitukset sähköpostiisi"
    assert post.find("button", type="submit").get_text() == "Tilaa"
    assert post.find("a", class_="skip-link").get_text() == "Siirry sisältöön"
    # Dates through Babel: "1. maaliskuuta 2026", not "Sun 01 March 2026".
    assert post.find("time").get_text() == "1. maaliskuuta 2026"
    consent = signup.find("label", attrs={"for": "article-signup-consent-newsletter"})
    assert consent.get_text().startswith("Lähettäkää minulle uutiskirje")
    index = BeautifulSoup((out / "index.html").read_text(), "html.parser")
    assert index.find("h2", class_="home-posts").get_text() == "Uusimmat kirjoitukset"
    assert "Lue lisää" in index.get_text()
    tags = (out / "tags.html").read_text()
    # Plurals through the catalogue: "1 kirjoitus", never "1 kirjoitusta".
    assert re.search(r">1 kirjoitus<", tags) and "1 kirjoitusta" not in tags


def test_an_english_build_says_one_post_not_one_posts(tmp_path):
    out = build_tiny_site(tmp_path)
    tags = (out / "tags.html").read_text()
    assert ">1 post<" in tags and "1 posts" not in tags
    post = BeautifulSoup((out / "a-plain-post.html").read_text(), "html.parser")
    assert post.find("time").get_text() == "1 March 2026"
