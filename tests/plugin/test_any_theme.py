"""The plugin in a blog with someone else's theme: no template changes, and every
page still carries the tracking script and pixel, every article its signup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pelican import Pelican
from pelican.settings import read_settings

from ..conftest import ROOT

POSTS = {
    "sourdough.md": """Title: Keeping a sourdough starter alive
Date: 2026-02-03 08:00
Category: Baking

Feed it flour and water once a day, keep it somewhere warm, and **discard**
half before each feeding. A starter that smells of nail polish is hungry.
""",
    "bike.md": """Title: Winter tyres for a city bike
Date: 2026-02-10 18:30
Category: Cycling
Cta: none

Studded tyres cost about as much as a month of bus tickets and last for years.
""",
    "kiln.md": """Title: Firing a small kiln at home
Date: 2026-02-17
Category: Crafts
Cta: guide:kiln-checklist

Check the breaker, clear a metre around the kiln, and never leave it alone
during the first firing.
""",
}

DOWNLOAD = """Title: The kiln checklist
Slug: kiln-checklist
Template: download
Guide: kiln-checklist
Status: hidden

One page to print and pin beside the kiln.
"""

QUOTE = """Title: Ask for a quote
Slug: ask
Template: quote

Tell us about the kiln you would like.
"""

SCRIPT = re.compile(r'<script src="[^"]*/js/polku\.min\.js"')
PIXEL = re.compile(r'<noscript><img class="polku-pixel"')


def build_blog(tmp_path: Path, theme: str, **overrides) -> Path:
    """Build a small third-party blog with the plugin and return output/."""
    content = tmp_path / "content"
    (content / "pages").mkdir(parents=True)
    (content / "guides").mkdir()
    for name, text in POSTS.items():
        (content / name).write_text(text, encoding="utf-8")
    (content / "pages" / "about.md").write_text("Title: About\n\nWho writes here.\n")
    (content / "pages" / "kiln.md").write_text(DOWNLOAD, encoding="utf-8")
    (content / "pages" / "ask.md").write_text(QUOTE, encoding="utf-8")
    # An owner's one-line template for the guide's page (the demo theme has one).
    overrides_dir = tmp_path / "overrides"
    overrides_dir.mkdir()
    if theme != str(ROOT / "theme"):
        for name in ("download.html", "quote.html"):
            (overrides_dir / name).write_text('{% extends "page.html" %}\n')
    (content / "guides" / "kiln-checklist.pdf").write_bytes(b"%PDF-1.4\n")
    settings = read_settings(
        path=None,
        override={
            "PATH": str(content),
            "OUTPUT_PATH": str(tmp_path / "output"),
            "THEME": theme,
            "PLUGINS": ["pelican.plugins.polku"],
            "CACHE_CONTENT": False,
            "LOAD_CONTENT_CACHE": False,
            "JOURNEY_DATA_DIR": str(tmp_path / "var"),
            "SITEURL": "",
            "THEME_TEMPLATES_OVERRIDES": [str(overrides_dir)],
            "FEED_ALL_ATOM": None,
            "CATEGORY_FEED_ATOM": None,
            "ARTICLE_URL": "posts/{slug}/",
            "ARTICLE_SAVE_AS": "posts/{slug}/index.html",
            **overrides,
        },
    )
    Pelican(settings).run()
    return tmp_path / "output"


def html_pages(output: Path) -> dict[str, str]:
    return {
        str(p.relative_to(output)): p.read_text(encoding="utf-8")
        for p in output.rglob("*.html")
        if "/theme/" not in str(p)
    }


def article_body(html: str) -> str:
    """The page up to the end of the article element."""
    return html[: html.rfind("</article>")]


@pytest.fixture(scope="module", params=["notmyidea", "simple"])
def built(request, tmp_path_factory) -> Path:
    return build_blog(tmp_path_factory.mktemp(request.param), request.param)


def test_every_page_has_the_script_and_pixel_once(built):
    pages = html_pages(built)
    assert len(pages) >= 8
    for name, html in pages.items():
        assert len(SCRIPT.findall(html)) == 1, name
        assert len(PIXEL.findall(html)) == 1, name
        assert html.index("polku.min.js") < html.rindex("</body>"), name
    assert (built / "theme" / "js" / "polku.min.js").is_file()


def test_articles_end_with_their_call_to_action(built):
    sourdough = (
        built / "posts/keeping-a-sourdough-starter-alive/index.html"
    ).read_text()
    form = sourdough[sourdough.index('<section class="polku-cta') :]
    assert sourdough.count("data-polku-form") == 1
    # At the end of the article's content: right after its last paragraph.
    before = sourdough[: sourdough.index('<section class="polku-cta')].rstrip()
    assert before.endswith("is hungry.</p>")
    assert 'action="/subscribe"' in form
    assert 'name="consent_newsletter" value="yes" required' in form
    hp = re.search(r'<input [^>]*name="website"[^>]*>', form).group(0)
    for attr in ('tabindex="-1"', 'autocomplete="off"', 'aria-hidden="true"'):
        assert attr in hp
    for field_id in re.findall(r'<input [^>]*id="([^"]+)"', form):
        assert f'<label for="{field_id}"' in form, field_id
    assert 'href="/theme/css/polku-embed.css"' in sourdough
    assert (built / "theme" / "css" / "polku-embed.css").is_file()

    kiln = (built / "posts/firing-a-small-kiln-at-home/index.html").read_text()
    assert 'action="/download"' in kiln
    assert 'name="guide" value="kiln-checklist"' in kiln

    guide_page = (built / "pages/kiln-checklist.html").read_text()
    assert guide_page.count('action="/download"') == 1
    assert "About" in (built / "pages/about.html").read_text()
    assert "data-polku-form" not in (built / "pages/about.html").read_text()

    bike = (built / "posts/winter-tyres-for-a-city-bike/index.html").read_text()
    assert "data-polku-form" not in bike
    # `Cta: none`: the personalised block shows the next read, no call to action.
    assert "data-polku-next-read" in bike and "data-polku-cta" not in bike
    assert len(SCRIPT.findall(bike)) == 1

    # Lists and plain pages get the tracking, no form.
    assert "data-polku-form" not in (built / "index.html").read_text()


def test_a_quote_page_gets_the_request_form(built):
    page = (built / "pages/ask.html").read_text()
    assert page.count("data-polku-form") == 1
    form = page[page.index('<section class="polku-cta') :]
    form = form[: form.index("</section>")]
    assert 'action="/quote"' in form
    for name in ("name", "email", "phone", "message", "consent_quote", "website"):
        assert f'name="{name}"' in form, name
    assert 'name="consent_quote" value="yes" required' in form
    for field_id in re.findall(r'<(?:input|textarea) [^>]*id="([^"]+)"', form):
        assert f'<label for="{field_id}"' in form, field_id


def test_the_demo_theme_gets_each_block_once(tmp_path):
    output = build_blog(tmp_path, str(ROOT / "theme"))
    for name, html in html_pages(output).items():
        assert len(SCRIPT.findall(html)) == 1, name
        assert len(PIXEL.findall(html)) == 1, name
        assert "polku-embed.css" not in html, name
    for post in ("keeping-a-sourdough-starter-alive", "firing-a-small-kiln-at-home"):
        html = (output / "posts" / post / "index.html").read_text()
        assert html.count("data-polku-form") == 1, post


def test_the_injection_can_be_turned_off(tmp_path):
    output = build_blog(tmp_path, "notmyidea", JOURNEY_INJECT=False)
    for name, html in html_pages(output).items():
        assert "polku" not in html, name
    assert not (output / "theme" / "css" / "polku-embed.css").exists()


def test_a_bad_switch_fails_the_build_with_its_name(tmp_path):
    with pytest.raises(Exception, match="JOURNEY_INJECT"):
        build_blog(tmp_path, "notmyidea", JOURNEY_INJECT="no")
