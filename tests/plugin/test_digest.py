"""The digest's email: its links and how each reader's email looks."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from bs4 import BeautifulSoup
from pelican.plugins.polku.digest import TEMPLATES, Links, make_env, render, with_utm

from tracker.journey.digest import DigestError, DigestSettings

from ..conftest import ROOT
from ..journey.digest_posts import post

THEME = ROOT / "theme"
SITE = {"name": "Kettu", "url": "https://kettu.example"}
CLICK = "https://kettu.example/c/TOKEN?u="


def click_url(url):
    return CLICK + quote(url, safe="")


def links(**overrides):
    values = {
        "click_url": click_url,
        "unsubscribe_url": "https://kettu.example/unsubscribe/UNSUB",
        "site_url": "https://kettu.example/",
    }
    values.update(overrides)
    return Links(**values)


def feedback_url(score):
    return f"https://kettu.example/feedback/FB?score={score}"


@pytest.fixture(scope="module")
def env():
    return make_env(str(THEME))


@pytest.fixture
def make(env):
    """Render one email with sensible defaults; keyword arguments override them."""

    def make(posts=None, more=0, recipient=None, settings=None, **link_overrides):
        posts = posts or [
            post("first-post", "2026-03-09T08:00:00"),
            post("second-post", "2026-03-08T08:00:00", category="Writing"),
        ]
        return render(
            posts,
            more,
            recipient or {"first_name": "Anna", "interests": {}},
            site=SITE,
            links=links(**link_overrides),
            settings=settings or DigestSettings(footer="Kettu Oy, Katu 1, Helsinki"),
            env=env,
            campaign_date="2026-03-10",
        )

    return make


def hrefs(html):
    return [a["href"] for a in BeautifulSoup(html, "html.parser").find_all("a")]


# ---- links -------------------------------------------------------------------


def test_with_utm_adds_the_three_parameters():
    url = with_utm("https://kettu.example/posts/a/", "2026-03-10")
    query = parse_qs(urlsplit(url).query)
    assert query == {
        "utm_source": ["newsletter"],
        "utm_medium": ["email"],
        "utm_campaign": ["digest-2026-03-10"],
    }


def test_with_utm_overrides_keeps_other_params_and_fragment():
    url = with_utm(
        "https://kettu.example/p/?utm_source=twitter&ref=a%20b&flag&utm_campaign=x#part",
        "2026-03-10",
    )
    parts = urlsplit(url)
    assert parts.fragment == "part"
    assert parts.query == (
        "ref=a%20b&flag&utm_source=newsletter&utm_medium=email"
        "&utm_campaign=digest-2026-03-10"
    )


def test_with_utm_rejects_a_bad_date():
    with pytest.raises(DigestError):
        with_utm("https://kettu.example/", "soon")


# ---- rendering ---------------------------------------------------------------


def test_render_refuses_an_empty_digest(env):
    with pytest.raises(DigestError, match="nothing new"):
        render(
            [],
            0,
            {},
            site=SITE,
            links=links(),
            settings=DigestSettings(),
            env=env,
        )


def test_render_orders_by_the_readers_interests(make):
    _, text, html = make(recipient={"first_name": "", "interests": {"Writing": 5}})
    assert text.index("Second Post") < text.index("First Post")
    titles = [h.get_text() for h in BeautifulSoup(html, "html.parser")("h2")]
    assert titles == ["Second Post", "First Post"]


def test_subject_default_and_custom(make):
    assert make()[0] == "New from Kettu"
    conf = DigestSettings(subject="{site_name}: {count} new posts\r\nBcc: x@y")
    assert make(settings=conf)[0] == "Kettu: 2 new posts Bcc: x@y"


def test_greeting_with_and_without_a_name(make):
    _, text, html = make(recipient={"first_name": "Anna", "interests": {}})
    assert text.startswith("Hi Anna,\n") and "Hi Anna," in html
    _, text, html = make(recipient={"first_name": None, "interests": {}})
    assert text.startswith("Hi,\n") and "Hi," in html and "None" not in text
    _, text, _ = make(recipient={"first_name": "visit www.spam.example"})
    assert text.startswith("Hi,\n")


def test_every_link_is_absolute_and_content_links_go_through_click_url(make):
    _, text, html = make(
        more=4,
        referral_url="https://kettu.example/?ref=REF",
        feedback_url=feedback_url,
    )
    found = hrefs(html)
    own_tokens = {"https://kettu.example/unsubscribe/UNSUB"}
    own_tokens.add("https://kettu.example/?ref=REF")
    own_tokens.update(feedback_url(n) for n in range(11))
    content = [h for h in found if h not in own_tokens]
    assert len(content) == 4  # site name, two posts, "more on the site"
    for href in found:
        parts = urlsplit(href)
        assert parts.scheme == "https" and parts.netloc, href
    for href in content:
        assert href.startswith(CLICK), href
        target = parse_qs(urlsplit(href).query)["u"][0]
        assert target.startswith("https://kettu.example/")
        query = parse_qs(urlsplit(target).query)
        assert query["utm_campaign"] == ["digest-2026-03-10"]
        assert query["utm_source"] == ["newsletter"]
        assert query["utm_medium"] == ["email"]
    targets = {parse_qs(urlsplit(h).query)["u"][0].split("?")[0] for h in content}
    assert targets == {
        "https://kettu.example/",
        "https://kettu.example/posts/first-post/",
        "https://kettu.example/posts/second-post/",
    }
    # The plain text holds every link in full, and no HTML.
    for href in found:
        assert href in text.split("\n") or f": {href}" in text, href
    assert "<a " not in text and "href" not in text


def test_unsubscribe_link_in_both_parts(make):
    _, text, html = make()
    assert "https://kettu.example/unsubscribe/UNSUB" in hrefs(html)
    assert "\nhttps://kettu.example/unsubscribe/UNSUB\n" in text
    assert "because you subscribed to the newsletter on Kettu" in text
    assert "Kettu Oy, Katu 1, Helsinki" in text and "Kettu Oy, Katu 1, Helsinki" in html


def test_feedback_question_only_when_given(make):
    _, text, html = make()
    assert "recommend us" not in text and "recommend us" not in html
    _, text, html = make(feedback_url=feedback_url)
    assert "How likely are you to recommend us to a friend?" in text
    scores = [
        a for a in BeautifulSoup(html, "html.parser")("a") if "feedback" in a["href"]
    ]
    assert [a.get_text() for a in scores] == [str(n) for n in range(11)]
    assert [a["href"] for a in scores] == [feedback_url(n) for n in range(11)]
    assert f" 0: {feedback_url(0)}\n" in text and f"10: {feedback_url(10)}\n" in text


def test_referral_and_more_only_when_given(make):
    _, text, html = make()
    assert "Share" not in html and "more new posts" not in text
    _, text, html = make(more=1, referral_url="https://kettu.example/?ref=REF")
    assert (
        "Share with a friend" in html and "\nhttps://kettu.example/?ref=REF\n" in text
    )
    assert "One more new post is waiting on the site." in text
    _, text, _ = make(more=7)
    assert "7 more new posts are waiting on the site." in text


def test_finnish(make):
    conf = DigestSettings(lang="fi")
    subject, text, html = make(settings=conf, more=2, feedback_url=feedback_url)
    assert subject == "Uutta: Kettu"
    assert text.startswith("Hei Anna,\n")
    assert "Kuinka todennäköisesti suosittelisit meitä ystävällesi?" in text
    assert "Peru tilaus" in html and "Sivustolla odottaa vielä 2 uutta" in text
    assert "9.3.2026" in text
    assert '<html lang="fi"' in html
    for english in ("Unsubscribe", "recommend", "Hi "):
        assert english not in text and english not in html


def test_html_styles_are_inline(make):
    _, _, html = make(more=2, feedback_url=feedback_url)
    soup = BeautifulSoup(html, "html.parser")
    # Only @media rules may stay in <style>; the look itself is inline.
    for style in soup("style"):
        assert style.get_text().strip().startswith("@media"), style.get_text()
    assert "font-family" in soup.body["style"] or "font-family" in soup.td["style"]
    for a in soup("a"):
        assert "color:" in a["style"].replace(" ", ""), a
    container = soup.find("table", class_="container")
    assert "max-width: 600px" in container["style"]
    assert "<img" not in html and "@import" not in html and "url(" not in html


def test_html_escapes_titles_text_keeps_them(make):
    evil = post("x", "2026-03-09T08:00:00", title="Hi <script>alert(1)</script>")
    evil["summary"] = 'Fish & "chips" <b>'
    _, text, html = make(posts=[evil], recipient={"first_name": "<b>Bo</b>"})
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Hi <script>alert(1)</script>" in text
    assert 'Fish & "chips" <b>' in text


def test_plain_text_is_wrapped_without_breaking_links(make):
    long = post("long", "2026-03-09T08:00:00")
    long["summary"] = "word " * 60
    long["url"] = "posts/" + "a-very-long-slug-" * 6 + "/"
    _, text, _ = make(posts=[long])
    for line in text.splitlines():
        if "://" not in line:
            assert len(line) <= 72, line
    assert any("a-very-long-slug-" * 6 in line for line in text.splitlines())


def test_links_must_be_absolute(make):
    with pytest.raises(DigestError, match="unsubscribe_url"):
        make(unsubscribe_url="/unsubscribe/UNSUB")


def test_render_many_quickly(env):
    posts = [
        post(f"p{i}", f"2026-03-0{i}T10:00:00", tags=[f"t{i}"]) for i in range(1, 6)
    ]
    conf = DigestSettings(footer="Kettu Oy")
    start = time.perf_counter()
    for n in range(300):
        token = f"T{n}"
        render(
            posts,
            3,
            {"first_name": f"Reader{n}", "interests": {f"t{n % 5}": 2}},
            site=SITE,
            links=links(
                click_url=lambda u, token=token: f"{CLICK}{token}&u={quote(u)}",
                unsubscribe_url=f"https://kettu.example/unsubscribe/{token}",
                feedback_url=feedback_url if n % 2 else None,
            ),
            settings=conf,
            env=env,
            campaign_date="2026-03-10",
        )
    elapsed = time.perf_counter() - start
    # About 0.6 ms an email here; a generous bound that still catches
    # re-parsing templates per recipient.
    assert elapsed < 6, f"{elapsed:.2f}s for 300 emails"


def test_templates_have_no_external_resources():
    source = (Path(TEMPLATES) / "polku" / "email" / "digest.html").read_text()
    assert not re.search(r"<(img|link|script)\b", source)
    assert "fonts.googleapis" not in source
