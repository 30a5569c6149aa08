"""The dashboard over clean seeded demo data in Chromium: no table is cut off at a
desktop or a phone width, and the README's screenshots show the product.

The README's pictures in docs/screenshots/ are written here, from
bench/seed.py's data and the demo site, never from a test's hostile strings:
run with POLKU_UPDATE_SCREENSHOTS=1 to write them; otherwise they go to
test-artifacts/ like every other screenshot.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest

from bench.seed import seed

from ..conftest import ROOT, bare_environ, polku_serve

pytestmark = pytest.mark.browser

PASSWORD = "a long dashboard password"
WIDTHS = (1280, 390)
SCREENSHOTS = ROOT / "docs" / "screenshots"
# Read on import: the tests' own environment leaves out the developer's POLKU_*.
UPDATE = os.environ.get("POLKU_UPDATE_SCREENSHOTS") == "1"
HOSTILE = ("<script", "alert(", "onerror")
LONG = "autumn_webinar_series_2026_retargeting_lookalike_audience_finland_v2"
LONG_SLUG = "how-to-choose-a-website-platform-for-a-small-business-in-2026-a-guide"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"

# Every table on the page, and whether it is seen whole: either it fits its
# container, or a container between it and the page scrolls sideways. A table
# wider than an `overflow: hidden` or visible box is cut off (or pushes the
# page itself sideways, which is counted apart).
CUT_OFF_TABLES = """() => {
  const cut = [];
  const name = t => ((t.querySelector('caption') || t).textContent || '')
    .trim().slice(0, 60);
  for (const table of document.querySelectorAll('main table')) {
    if (!table.getClientRects().length) continue;  // in a closed <details>
    let shown = table, box = table.parentElement, clipped = null;
    while (box && box !== document.documentElement) {
      const style = getComputedStyle(box);
      if (style.overflowX !== 'visible') {
        const outer = box.getBoundingClientRect();
        const inner = shown.getBoundingClientRect();
        const left = outer.left + box.clientLeft;
        const right = left + box.clientWidth;
        const beyond = inner.left < left - 1 || inner.right > right + 1;
        if (['auto', 'scroll'].includes(style.overflowX)) {
          shown = box;  // it scrolls: now the scroller itself must be seen whole
        } else if (beyond) {
          clipped = box;
          break;
        }
      }
      box = box.parentElement;
    }
    const rect = shown.getBoundingClientRect();
    if (clipped) {
      cut.push(`${name(table)}: clipped by ${clipped.className || clipped.tagName}`);
    } else if (rect.left < -1 || rect.right > innerWidth + 1) {
      const [l, r] = [Math.round(rect.left), Math.round(rect.right)];
      cut.push(`${name(table)}: ${l}..${r} px`);
    }
  }
  return cut;
}"""


@pytest.fixture(scope="module")
def seeded(demo, tmp_path_factory):
    """`polku serve` over the demo site with bench/seed.py's data, dashboard on."""
    data = tmp_path_factory.mktemp("seeded-data")
    seed(str(data), events=20_000, contacts=300, months=3, quiet=True)
    env = bare_environ(
        POLKU_DATA_DIR=str(data),
        POLKU_ADMIN_PASSWORD=PASSWORD,
        POLKU_RATELIMIT_ENABLED="false",
    )
    with polku_serve(demo, data / "serve.log", env) as base:
        # Real data holds long words: a campaign named by an ad tool, a long slug.
        url = f"{base}/posts/{LONG_SLUG}/?utm_source=newsletter&utm_campaign={LONG}"
        beacon = {"name": "pageview", "url": url, "referrer": "", "width": 1280}
        request = urllib.request.Request(
            base + "/api/event",
            data=json.dumps(beacon).encode(),
            method="POST",
            headers={"Content-Type": "text/plain", "Origin": base, "User-Agent": UA},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        yield base


def logged_in(browser, base: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(base + "/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/")
    return context, page


def dashboard_paths(page, base: str) -> list[str]:
    page.goto(base + "/admin/contacts")
    contact = page.locator("main table a[href*='/admin/contacts/']").first
    return [
        "/admin/",
        "/admin/?period=today",
        "/admin/?period=365d&touch=last",
        "/admin/?all=sources",
        "/admin/?all=posts",
        "/admin/contacts",
        "/admin/deliverability",
        "/admin/journey",
        "/admin/journey?period=custom&from=2025-01-01&to=2026-12-31",
        "/admin/quotes",
        contact.get_attribute("href"),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_dashboard_table_is_cut_off(browser, seeded, width):
    context, page = logged_in(browser, seeded, width)
    try:
        for path in dashboard_paths(page, seeded):
            page.goto(seeded + path)
            for details in page.locator("main details").all():
                details.evaluate("d => d.open = true")
            assert page.evaluate(CUT_OFF_TABLES) == [], (width, path)
            page_width = page.evaluate("document.documentElement.scrollWidth")
            assert page_width <= width, (width, path, page_width)
    finally:
        context.close()


def refuse_hostile(page, name: str) -> None:
    text = (page.title() + "\n" + page.locator("body").inner_text()).lower()
    found = [s for s in HOSTILE if s in text]
    assert not found, f"{name}: the page shows test payloads {found}"


def shoot(page, name: str, artifacts: Path) -> None:
    """Screenshot the page, refusing one whose text holds a test payload."""
    refuse_hostile(page, name)
    target = artifacts / f"readme-{name}"
    page.screenshot(path=target, full_page=name != "dashboard.png")
    if UPDATE:
        shutil.copy(target, SCREENSHOTS / name)


def test_readme_screenshots_come_from_clean_demo_data(browser, seeded, artifacts):
    context, page = logged_in(browser, seeded, 1280)
    try:
        page.set_viewport_size({"width": 1280, "height": 1400})
        page.goto(seeded + "/admin/?period=30d")
        shoot(page, "dashboard.png", artifacts)
    finally:
        context.close()


def test_a_screenshot_with_a_test_payload_is_refused(browser):
    page = browser.new_page()
    try:
        page.set_content("<main><p>Campaign &lt;script&gt;alert(1)</p></main>")
        with pytest.raises(AssertionError, match="test payloads"):
            refuse_hostile(page, "dashboard.png")
    finally:
        page.close()


def test_the_check_finds_a_table_cut_off(browser):
    page = browser.new_page(viewport={"width": 390, "height": 600})
    try:
        page.set_content(
            "<main><div style='overflow:hidden;width:200px'><table><caption>wide"
            "</caption><tr><td style='min-width:600px'>x</td></tr></table></div>"
            "<div style='overflow-x:auto;width:200px'><table><tr>"
            "<td style='min-width:600px'>y</td></tr></table></div></main>"
        )
        assert page.evaluate(CUT_OFF_TABLES) == ["wide: clipped by DIV"]
    finally:
        page.close()
