"""GET /api/next on each backend: the block fits the reader, the holdout keeps
the default, bad requests get a reason and store nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import BROWSER_UA, SITE, TEST_MANIFEST, Reader, raw_data
from tests.journey.next_records import MANIFEST as BLOCK_MANIFEST

MANIFEST = {
    **TEST_MANIFEST,
    "generated_at": "2026-12-01T00:00:00+00:00",
    "posts": BLOCK_MANIFEST["posts"],
    "guides": {**TEST_MANIFEST["guides"], **BLOCK_MANIFEST["guides"]},
    "journey": BLOCK_MANIFEST["journey"],
}


def use(app, **journey):
    manifest = {**MANIFEST, "journey": {**MANIFEST["journey"], **journey}}
    Path(app.config["DATA_DIR"], "manifest.json").write_text(json.dumps(manifest))
    return app


@pytest.fixture
def app(app_factory):
    return use(app_factory(), holdout=0)


def ua_number(n):
    """Another reader's browser (a distinct daily hash)."""
    return BROWSER_UA.replace("Chrome/126.0", f"Chrome/126.0.{n}")


def page(slug):
    return f"{SITE}/posts/{slug}/"


def read(client, slug, ua=BROWSER_UA, visitor=None):
    body = {"url": page(slug), "title": slug}
    if visitor:
        body["visitor"] = visitor
    answer = client.post(
        "/api/event",
        data=json.dumps(body),
        content_type="text/plain",
        headers={"Origin": SITE, "User-Agent": ua},
    )
    assert answer.status_code == 202


def ask(client, url, ua=BROWSER_UA, **params):
    return client.get(
        "/api/next",
        query_string={"url": url, **params},
        headers={"Origin": SITE, "User-Agent": ua},
    )


def visit(client, slug, ua=BROWSER_UA, **params):
    """What the script does on a page: its pageview, then its block."""
    read(client, slug, ua=ua, visitor=params.get("visitor"))
    return ask(client, page(slug), ua=ua, **params)


def test_a_reader_of_two_posts_on_a_topic_gets_its_guide_and_a_third_post(client):
    visit(client, "labels")
    answer = visit(client, "contrast")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "private, no-store"
    body = answer.get_json()
    assert body["arm"] == "personal"
    assert body["next"] == {"url": page("alt-text"), "title": "Alt Text"}
    assert body["cta"]["kind"] == "guide"
    assert body["cta"]["guide"] == "accessibility-guide"
    assert body["cta"]["url"] == f"{SITE}/guide-accessibility/"


def test_a_new_visitor_is_asked_to_subscribe_and_gets_the_nearest_post(client):
    body = ask(client, page("slow")).get_json()
    assert body["next"]["url"] == page("images")
    assert body["cta"] == {
        "kind": "newsletter",
        "url": f"{SITE}/newsletter/",
        "title": "Newsletter",
    }


def test_a_post_already_read_is_never_recommended(client):
    """The reader follows every recommendation."""
    slug, shown = "slow", {page("slow")}
    for _ in range(5):
        url = visit(client, slug).get_json()["next"]["url"]
        assert url not in shown
        shown.add(url)
        slug = url.rstrip("/").rsplit("/", 1)[1]


def test_readers_of_a_post_lead_the_next_reader_with_three_in_common(client):
    for n in range(3):
        read(client, "fonts", ua=ua_number(n))
        read(client, "labels", ua=ua_number(n))
    body = ask(client, page("fonts"), ua=ua_number(99)).get_json()
    assert body["next"]["url"] == page("labels")


def test_two_co_readers_are_not_enough(client):
    for n in range(2):
        read(client, "fonts", ua=ua_number(n))
        read(client, "labels", ua=ua_number(n))
    body = ask(client, page("fonts"), ua=ua_number(99)).get_json()
    assert body["next"]["url"] != page("labels")


def test_the_holdout_keeps_the_default_and_is_told_what_it_would_have_seen(
    app_factory,
):
    client = use(app_factory(), holdout=1).test_client()
    visit(client, "labels")
    body = visit(client, "contrast").get_json()
    assert body["arm"] == "holdout"
    assert body["next"]["url"] == page("fonts")  # no build neighbour: the newest
    assert body["cta"]["kind"] == "newsletter"
    assert body["would"]["next"]["url"] == page("alt-text")
    assert body["would"]["cta"]["guide"] == "accessibility-guide"


def test_a_reader_proven_by_their_link_is_known_by_their_record(client, app):
    """The browser that used the confirmation link is the subscriber's: a lead,
    offered the offer, never asked to subscribe again; another browser is not."""
    reader = Reader(client, app)
    reader.confirm()
    read(client, "slow")
    body = ask(client, page("slow")).get_json()
    assert body["cta"]["kind"] == "offer"
    other = ask(client, page("slow"), ua=ua_number(7)).get_json()
    assert other["cta"]["kind"] == "newsletter"


@pytest.mark.parametrize(
    "query, reason",
    [
        ({}, "URL"),
        ({"url": ""}, "URL"),
        ({"url": "javascript:alert(1)"}, "http"),
        ({"url": "https://elsewhere.example/posts/slow/"}, "not on this site"),
        ({"url": page("slow") + "x" * 3000}, "too long"),
        ({"url": page("slow"), "visitor": "v" * 65}, "too long"),
        ({"url": page("slow"), "x": "1"}, "Unknown parameter"),
        ({"url": "http://[::1"}, "http"),
    ],
)
def test_a_bad_request_gets_a_reason_and_stores_nothing(app, client, query, reason):
    before = raw_data(app)
    answer = client.get("/api/next", query_string=query, headers={"Origin": SITE})
    assert answer.status_code == 400
    assert reason in answer.get_json()["error"]
    assert raw_data(app) == before


def test_another_sites_page_may_not_ask(client):
    answer = client.get(
        "/api/next",
        query_string={"url": page("slow")},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403


def test_readers_behind_one_address_all_get_their_block(app_factory):
    client = use(app_factory(RATELIMIT_ENABLED=True), holdout=0).test_client()
    for n in range(80):
        answer = ask(client, page("slow"), ua=ua_number(n))
        assert answer.status_code == 200


def test_a_site_without_posts_says_so(app_factory):
    client = app_factory().test_client()
    Path(client.application.config["DATA_DIR"], "manifest.json").write_text(
        json.dumps({**TEST_MANIFEST, "posts": []})
    )
    answer = ask(client, page("slow"))
    assert answer.status_code == 404
    assert "no posts" in answer.get_json()["error"]


def test_a_consented_reader_is_known_by_the_id_their_browser_keeps(app_factory):
    """Their pages read on another device, with the same consented id, count:
    their record is read from storage."""
    client = use(app_factory(CONSENT_MODE="consent"), holdout=0).test_client()
    for slug in ("labels", "contrast"):
        read(client, slug, ua=ua_number(1), visitor="consented-browser-0001")
    body = ask(
        client, page("contrast"), ua=ua_number(2), visitor="consented-browser-0001"
    ).get_json()
    assert body["cta"]["guide"] == "accessibility-guide"
    assert body["next"]["url"] == page("alt-text")


def test_a_cookieless_visit_is_the_pages_its_browser_asked_blocks_for(client):
    """The pixel's or another worker's pageviews are not looked up for a daily
    id: only the pages whose block this browser asked for count."""
    read(client, "labels")  # a pageview whose block was never asked for
    body = visit(client, "contrast").get_json()
    assert body["topic"] is None and body["cta"]["kind"] == "newsletter"


# -- A/B tests on the page: the reader's variant, from the tracker ----------------

CTA_TEST = {
    "name": "newsletter-cta",
    "title": "Newsletter call to action",
    "kind": "cta",
    "target": "newsletter",
    "goal": "signup",
    "sample": 4000,
    "status": "running",
    "start": "2026-12-01",
    "end": None,
    "variants": [
        {"name": "control", "text": None, "weight": 0.5},
        {
            "name": "fixes",
            "text": "One fix for your website, twice a month",
            "weight": 0.5,
        },
    ],
}
HEADLINE_TEST = {
    **CTA_TEST,
    "name": "newsletter-headline",
    "kind": "headline",
    "target": "newsletter",
    "page": "newsletter/",
    "variants": [
        {"name": "control", "text": None, "weight": 0.5},
        {"name": "plain", "text": "Two emails a month", "weight": 0.5},
    ],
}


def with_tests(app, *tests):
    path = Path(app.config["DATA_DIR"], "manifest.json")
    manifest = json.loads(path.read_text())
    manifest["experiments"] = {t["name"]: t for t in tests}
    path.write_text(json.dumps(manifest))
    return app


def test_the_answer_names_each_running_test_and_this_readers_variant(
    app, client, set_clock
):
    set_clock("2026-12-05T10:00:00+00:00")
    with_tests(
        app, CTA_TEST, HEADLINE_TEST, {**CTA_TEST, "name": "old", "status": "ended"}
    )
    seen = {}
    for n in range(40):
        (shown,) = ask(client, page("slow"), ua=ua_number(n)).get_json()["experiments"]
        assert shown["mark"] == "newsletter"
        assert shown["exposure"]["experiment"] == "newsletter-cta"
        seen[shown["exposure"]["variant"]] = shown["text"]
        again = ask(client, page("slow"), ua=ua_number(n)).get_json()["experiments"]
        assert again == [shown]  # sticky
    assert seen == {"control": None, "fixes": "One fix for your website, twice a month"}
    # The headline's test is on its landing page, with the call to action's.
    landing = ask(client, f"{SITE}/newsletter/").get_json()["experiments"]
    assert [t["mark"] for t in landing] == ["newsletter", "headline:newsletter"]


def test_before_its_start_a_test_shows_nothing(app, client, set_clock):
    set_clock("2026-11-30T10:00:00+00:00")
    with_tests(app, CTA_TEST)
    assert ask(client, page("slow")).get_json()["experiments"] == []


def test_a_consented_reader_keeps_their_variant_on_every_device(app_factory, set_clock):
    set_clock("2026-12-05T10:00:00+00:00")
    app = with_tests(use(app_factory(CONSENT_MODE="consent"), holdout=0), CTA_TEST)
    client = app.test_client()
    shown = {
        ask(
            client, page("slow"), ua=ua_number(n), visitor="consented-browser-0001"
        ).get_json()["experiments"][0]["exposure"]["variant"]
        for n in range(10)
    }
    assert len(shown) == 1
