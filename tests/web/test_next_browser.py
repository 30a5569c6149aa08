"""The personalised block in a real headless Chromium against `polku serve`:
it fits a reader of two posts on a topic, the holdout keeps the default, a
reader without JavaScript gets the whole default block, nothing moves."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.browser

UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.{n} Safari/537.36"
)
TOPIC = "accessibility"
SHIFTS = """
window.__shifts = [];
new PerformanceObserver(list => window.__shifts.push(...list.getEntries()))
  .observe({type: "layout-shift", buffered: true});
"""


def manifest(demo) -> dict:
    return json.loads((demo / "var" / "manifest.json").read_text())


def arm_of(served, ua: str) -> str:
    """The reader's arm, asked for the home page (which marks nothing read)."""
    request = urllib.request.Request(
        f"{served}/api/next?url={quote(served + '/')}", headers={"User-Agent": ua}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.headers["Cache-Control"] == "private, no-store"
        return json.load(answer)["arm"]


def reader_in(served, arm: str) -> str:
    for n in range(400):
        ua = UA.format(n=n)
        if arm_of(served, ua) == arm:
            return ua
    raise AssertionError(f"no browser in the {arm} arm among 400")


def on_topic(demo) -> list[dict]:
    posts = [p for p in manifest(demo)["posts"] if p["kind"] == "article"]
    return sorted((p for p in posts if TOPIC in p["tags"]), key=lambda p: p["url"])


def read_two_posts(browser, served, demo, ua, beacons):
    context = browser.new_context(
        user_agent=ua, viewport={"width": 1280, "height": 900}
    )
    context.add_init_script(SHIFTS)
    page = context.new_page()
    # Routed, the beacons' bodies can be read (sendBeacon's are hidden otherwise).
    page.route("**/api/event", lambda route: route.continue_())
    page.on(
        "request",
        lambda r: (
            beacons.append(json.loads(r.post_data))
            if r.url.endswith("/api/event") and r.post_data
            else None
        ),
    )
    first, second = on_topic(demo)[:2]
    for post in (first, second):
        with page.expect_response(lambda r: "/api/next?" in r.url):
            page.goto(f"{served}/{post['url']}")
    page.wait_for_load_state("networkidle")
    return context, page, (first, second)


def block_links(page) -> dict:
    return page.evaluate(
        """() => {
          const b = document.querySelector('[data-polku-next]');
          const read = b.querySelector('[data-polku-next-read]');
          const cta = b.querySelector('[data-polku-next-cta]');
          return {read: read.getAttribute('href'), title: read.textContent,
                  cta: cta.getAttribute('href'), ctaText: cta.textContent,
                  kind: cta.parentNode.dataset.polkuCta,
                  label: cta.parentNode.querySelector('[data-polku-cta-label]')
                    .textContent};
        }"""
    )


def see_block(page, beacons) -> dict:
    page.locator("[data-polku-next]").scroll_into_view_if_needed()
    page.wait_for_function("true")
    for _ in range(50):
        seen = [b for b in beacons if b["name"] == "personalisation"]
        if seen:
            return seen[-1]["props"]
        page.wait_for_timeout(100)
    raise AssertionError("no personalisation event after the block was in view")


def test_a_reader_of_two_posts_on_a_topic_gets_its_guide_and_a_third_post(
    browser, served, demo, artifacts
):
    beacons: list[dict] = []
    ua = reader_in(served, "personal")
    context, page, read = read_two_posts(browser, served, demo, ua, beacons)
    try:
        page.wait_for_function(
            "document.querySelector('[data-polku-cta]').dataset.polkuCta == 'guide'"
        )
        links = block_links(page)
        guide = manifest(demo)["guides"]["website-checklist"]
        assert links["cta"] == f"{served}/{guide['url']}"
        assert links["ctaText"] == guide["title"]
        by_url = {f"{served}/{p['url']}": p for p in manifest(demo)["posts"]}
        chosen = by_url[links["read"]]
        assert TOPIC in chosen["tags"] and chosen not in read
        assert links["title"] == chosen["title"]
        seen = see_block(page, beacons)
        assert seen["arm"] == "personal" and seen["cta"] == "guide:website-checklist"
        page.locator("[data-polku-next]").screenshot(
            path=artifacts / "next-block-personal.png"
        )
        assert page.evaluate("window.__shifts.length") == 0, page.evaluate(
            "window.__shifts.map(s => s.value)"
        )
    finally:
        context.close()


def test_the_holdout_keeps_the_default_block(browser, served, demo):
    beacons: list[dict] = []
    ua = reader_in(served, "holdout")
    context, page, (_, second) = read_two_posts(browser, served, demo, ua, beacons)
    try:
        links = block_links(page)
        assert links["read"] == "/" + second["next"]
        assert links["kind"] == "newsletter" and links["cta"] == "/newsletter/"
        seen = see_block(page, beacons)
        assert seen["arm"] == "holdout" and seen["cta"] == "newsletter"
        assert seen["would_cta"] == "guide:website-checklist"
        assert page.evaluate("window.__shifts.length") == 0
    finally:
        context.close()


def test_without_javascript_the_default_block_is_whole(browser, served, demo):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        post = on_topic(demo)[0]
        page.goto(f"{served}/{post['url']}")
        links = block_links_static(page)
        assert links["read"] == "/" + post["next"]
        assert links["title"]
        assert links["cta"] == "/newsletter/" and links["ctaText"]
    finally:
        context.close()


def block_links_static(page) -> dict:
    """The same as block_links, read without running the page's scripts."""
    block = page.locator("[data-polku-next]")
    read = block.locator("[data-polku-next-read]")
    cta = block.locator("[data-polku-next-cta]")
    return {
        "read": read.get_attribute("href"),
        "title": read.inner_text(),
        "cta": cta.get_attribute("href"),
        "ctaText": cta.inner_text(),
    }
