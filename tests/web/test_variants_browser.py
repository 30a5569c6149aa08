"""A/B tests on the page in a real headless Chromium against `polku serve`:
two readers in different variants of the demo's newsletter call to action see
different texts, and each records one exposure once the call to action is in
view, none before; the report counts them where the tracker assigned them."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from urllib.parse import quote

import pytest

from tracker.cli import cli

from ..sites import bare_environ, polku_serve

pytestmark = pytest.mark.browser

MOMENT = "2026-12-05T10:00:00+00:00"  # the demo's test runs from 2026-12-01
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.{n} Safari/537.36"
)
POST = "posts/answer-the-question/"  # a post whose call to action is the newsletter
CONTROL_TEXT = "Get new posts by email"
SHIFTS = """
window.__shifts = [];
new PerformanceObserver(list => window.__shifts.push(...list.getEntries()))
  .observe({type: "layout-shift", buffered: true});
"""


@pytest.fixture(scope="module")
def tested(demo, tmp_path_factory):
    """The built demo served on a day its test runs, over a data folder of its own."""
    data = tmp_path_factory.mktemp("variants") / "var"
    shutil.copytree(demo / "var" / "guides", data / "guides")
    shutil.copy2(demo / "var" / "manifest.json", data / "manifest.json")
    env = bare_environ(POLKU_DATA_DIR=str(data), POLKU_CLOCK=MOMENT)
    with polku_serve(demo, data.parent / "serve.log", env) as base:
        yield base, data


def variant_of(base, ua: str) -> dict:
    url = f"{base}/api/next?url={quote(f'{base}/{POST}')}"
    request = urllib.request.Request(url, headers={"User-Agent": ua})
    with urllib.request.urlopen(request, timeout=10) as answer:
        (shown,) = json.load(answer)["experiments"]
    return shown


def readers(base) -> dict[str, tuple[str, dict]]:
    """A browser in each variant of the test, as the tracker assigns them."""
    found: dict[str, tuple[str, dict]] = {}
    for n in range(200):
        shown = variant_of(base, UA.format(n=n))
        found.setdefault(shown["exposure"]["variant"], (UA.format(n=n), shown))
        if len(found) == 2:
            return found
    raise AssertionError(f"one variant only among 200 readers: {found}")


def exposures_sent(beacons) -> list[dict]:
    return [b["props"] for b in beacons if b["name"] == "exposure"]


def read_post(browser, base, ua):
    context = browser.new_context(
        user_agent=ua, viewport={"width": 1280, "height": 700}
    )
    context.add_init_script(SHIFTS)
    page = context.new_page()
    beacons: list[dict] = []
    page.route("**/api/event", lambda route: route.continue_())
    page.on(
        "request",
        lambda r: (
            beacons.append(json.loads(r.post_data))
            if r.url.endswith("/api/event") and r.post_data
            else None
        ),
    )
    with page.expect_response(lambda r: "/api/next?" in r.url):
        page.goto(f"{base}/{POST}")
    page.wait_for_load_state("networkidle")
    return context, page, beacons


def texts(page) -> list[str]:
    return page.eval_on_selector_all(
        '[data-polku-x="newsletter"]', "els => els.map(e => e.textContent)"
    )


def test_two_readers_see_their_variants_and_each_is_exposed_once_when_it_is_seen(
    browser, tested, artifacts, runner
):
    base, data = tested
    seen: dict[str, str] = {}
    for variant, (ua, shown) in readers(base).items():
        context, page, beacons = read_post(browser, base, ua)
        try:
            want = shown["text"] or CONTROL_TEXT
            page.wait_for_function(
                "t => [...document.querySelectorAll('[data-polku-x=\"newsletter\"]')]"
                ".every(e => e.textContent == t)",
                arg=want,
            )
            seen[variant] = want
            # The call to action is below the fold: no exposure yet.
            heading = page.locator('.polku-cta__heading[data-polku-x="newsletter"]')
            assert heading.bounding_box()["y"] > 700
            page.wait_for_timeout(500)
            assert exposures_sent(beacons) == []
            heading.scroll_into_view_if_needed()
            page.wait_for_function("true")
            for _ in range(50):
                if exposures_sent(beacons):
                    break
                page.wait_for_timeout(100)
            # The block's link is marked too: seeing it as well sends nothing more.
            page.locator("[data-polku-next]").scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            assert exposures_sent(beacons) == [shown["exposure"]]
            assert shown["exposure"] == {
                "experiment": "newsletter-cta",
                "variant": variant,
            }
            heading.screenshot(path=artifacts / f"variant-{variant}.png")
            assert page.evaluate("window.__shifts.length") == 0
        finally:
            context.close()
    assert seen["control"] == CONTROL_TEXT
    assert seen["fixes"] == "One fix for your website, twice a month"
    # Stored, and counted by the report in the variant each reader was given.
    env = {"POLKU_DATA_DIR": str(data), "POLKU_SECRET_KEY": "x" * 40}
    deadline = time.monotonic() + 10
    while True:
        result = runner.invoke(cli, ["experiments", "report", "--json"], env=env)
        assert result.exit_code == 0, result.output
        (test,) = json.loads(result.output)["experiments"]
        counts = {v["name"]: v["exposures"] for v in test["variants"]}
        if counts == {"control": 1, "fixes": 1} or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert counts == {"control": 1, "fixes": 1}
