"""Each reader's digest filled into a shape is the full render, byte for byte."""

from __future__ import annotations

import html
import itertools
from urllib.parse import quote

import pytest
from pelican.plugins.polku import digest, digest_shapes
from pelican.plugins.polku.digest import Links, _inliner, make_env, render

from tracker.journey.digest import DigestSettings

from ..conftest import ROOT
from ..journey.digest_posts import post

CR = ("", "\r")
SITE = {"name": "Kettu & Co <Oy>", "url": "https://kettu.example"}
NAMES = [
    "Anna",
    "",
    None,
    'Jörg "J" O\'Brien',
    "<b>Bo</b> & Åsa",
    "Li\xa0Na",
    "Tab\tbed",
    "&amp; zqpolkuslot0qz",
]
POSTS = [
    post("first-post", "2026-03-09T08:00:00", tags=["a"]),
    post("second-post", "2026-03-08T08:00:00", category="", tags=["b"]),
    post("third", "2026-03-07T08:00:00", title='Fish & "chips" <3', tags=["c"]),
    {**post("fourth", "", tags=["a"]), "summary": ""},
]


def links(n: int, ask: bool, referral: bool) -> Links:
    token = f"T{n}.x-_y"
    return Links(
        click_url=lambda url: f"https://kettu.example/c/{token}?u={quote(url)}&n={n}",
        unsubscribe_url=f"https://kettu.example/unsubscribe/{token}",
        referral_url=f'https://kettu.example/?ref=R{n}&"x"{CR[n // 4 % 2]}'
        if referral
        else None,
        feedback_url=(lambda s: f"https://kettu.example/f/{token}?score={s}")
        if ask
        else None,
        site_url="https://kettu.example/",
        preferences_url=f"https://kettu.example/preferences/{token}",
    )


def readers():
    choices = itertools.product(
        NAMES, [{}, {"b": 3}, {"c": 2, "a": 1}], [False, True], [False, True]
    )
    for n, (name, interests, ask, referral) in enumerate(choices):
        yield n, {"first_name": name, "interests": interests}, ask, referral


@pytest.mark.parametrize("lang", ["en", "fi"])
def test_every_reader_gets_the_full_render(monkeypatch, lang):
    env = make_env(str(ROOT / "theme"))
    settings = DigestSettings(footer="Kettu Oy\nKatu 1 & 2", lang=lang)

    def both(n, recipient, ask, referral):
        return render(
            POSTS,
            2,
            recipient,
            site=SITE,
            links=links(n, ask, referral),
            settings=settings,
            env=env,
            campaign_date="2026-03-10",
        )

    filled = []
    for _ in range(2):  # the first time a shape is seen, the second from it
        filled.append([both(*reader) for reader in readers()])
    shapes = digest_shapes._SHAPES[env]
    assert 0 < len(shapes) < len(filled[0]) and all(shapes.values())
    monkeypatch.setattr(digest, "TEMPLATES", "/not/the/plugins/templates")
    whole = [both(*reader) for reader in readers()]
    assert filled[0] == whole and filled[1] == whole
    assert any("\r" in text for _, text, _ in whole)  # the parser rewrites it


def test_empty_values_stay_empty_for_the_templates_conditions():
    slot = digest_shapes.Slots()
    assert slot("") == "" and slot(None) is None
    assert slot("x") == "zqpolkuslot0qz" and slot.values == ["x"]


@pytest.mark.parametrize(
    "html",
    [
        '<style>a[href^="https"] { color: red; }</style><a href="zqpolkuslot0qz">',
        "<!-- zqpolkuslot0qz -->",
        "<style>p::after { content: 'zqpolkuslot0qz'; }</style>",
        "<script>var x = 'zqpolkuslot0qz';</script>",
    ],
)
def test_a_slot_whose_filling_could_differ_makes_no_shape(html):
    assert digest_shapes.shape_of(html, html=True) is None


def test_a_shape_escapes_as_the_inliner_writes():
    shape = digest_shapes.shape_of(
        '<p title="zqpolkuslot0qz">zqpolkuslot0qz</p>', html=True
    )
    assert shape.fill(['a&b "c" <d>\xa0']) == (
        '<p title="a&amp;b &quot;c&quot; <d>&nbsp;">a&amp;b "c" &lt;d&gt;&nbsp;</p>'
    )
    text = digest_shapes.shape_of("Hi zqpolkuslot0qz,\nzqpolkuslot1qz", html=False)
    assert text.fill(["<b>&", "u"]) == "Hi <b>&,\nu"


def test_every_character_is_escaped_as_the_inliner_writes_it():
    page = '<title>{0}</title><p title="{0}">{0}</p>'
    shape = digest_shapes.shape_of(
        _inliner().inline(page.format("zqpolkuslot0qz")), html=True
    )
    chars = [chr(c) for c in range(1, 0x300)] + ["\u2028", "\ufeff", "\U0001f600"]
    for char in chars:
        if char not in digest_shapes.NOT_FILLABLE:
            value = f"a{char}b"
            inlined = _inliner().inline(page.format(html.escape(value)))
            assert shape.fill([value]) == inlined, hex(ord(char))
