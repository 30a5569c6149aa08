"""The built site in a real headless Chromium against `polku serve`."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

WIDTHS = (360, 1280)


def open_page(browser, url: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    beacons = []
    page.route("**/api/event", lambda route: route.continue_())
    page.on(
        "request",
        lambda r: beacons.append(r) if r.url.endswith("/api/event") else None,
    )
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return context, page, beacons


@pytest.mark.parametrize("width", WIDTHS)
def test_index_and_article_render_and_send_a_pageview(
    browser, served, demo, artifacts, width
):
    article = sorted((demo / "output" / "posts").iterdir())[0].name
    for name, path in (("index", "/"), ("article", f"/posts/{article}/?utm_source=t")):
        context, page, beacons = open_page(browser, served + path, width)
        try:
            page.screenshot(path=artifacts / f"{name}-{width}.png", full_page=True)
            assert page.locator("main").count() == 1
            assert beacons, f"no pageview left {path}"
            body = json.loads(beacons[0].post_data)
            assert body["name"] == "pageview"
            assert body["url"] == served + path
            overflow = page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth + 1"
            )
            assert not overflow, f"{path} scrolls sideways at {width}px"
        finally:
            context.close()


def test_no_request_leaves_the_origin(browser, served):
    context, page, _ = open_page(browser, served + "/newsletter/", 1280)
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    page.reload()
    page.wait_for_load_state("networkidle")
    context.close()
    assert seen and all(url.startswith(served) for url in seen), seen


@pytest.mark.parametrize("path", ["/", "/newsletter/"])
def test_the_phone_menu_fits_one_row(browser, served, path):
    """At 390 px the header's links sit on one line: no two or three rows."""
    context, page, _ = open_page(browser, served + path, 390)
    try:
        nav = page.evaluate(
            """() => {
              const list = document.querySelector('.site-nav ul');
              const links = [...list.querySelectorAll('a')];
              const box = a => a.getBoundingClientRect();
              const tops = new Set(links.map(a => Math.round(box(a).top)));
              const line = Math.max(...links.map(a => box(a).height));
              const style = getComputedStyle(list);
              return {rows: tops.size, height: list.getBoundingClientRect().height,
                      line, links: links.length, scrolls: style.overflowX,
                      wide: list.scrollWidth > list.clientWidth + 1};
            }"""
        )
        assert nav["links"] >= 4
        assert nav["rows"] == 1 and nav["height"] <= nav["line"] * 1.5, nav
        if nav["wide"]:  # a row wider than the phone scrolls instead of wrapping
            assert nav["scrolls"] in ("auto", "scroll"), nav
        overflow = page.evaluate(
            "document.documentElement.scrollWidth > window.innerWidth + 1"
        )
        assert not overflow, "the page scrolls sideways"
    finally:
        context.close()
