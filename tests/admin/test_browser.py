"""The dashboard in a real headless Chromium: stored markup stays text."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest

from ..conftest import bare_environ, polku_serve

pytestmark = pytest.mark.browser

PASSWORD = "a long dashboard password"
XSS = '"><img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>'
# An address may hold an apostrophe, `=` and dots, but no `<`, `>` or `"`: enough
# to break out of a single-quoted attribute.
EMAIL_XSS = "x'onfocus='window.__pwned=1'autofocus='x@example.com"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


@pytest.fixture(scope="module")
def dashboard(demo, tmp_path_factory):
    """`polku serve` over the demo with its own data dir and the dashboard on."""
    data = tmp_path_factory.mktemp("admin-data")
    shutil.copy(demo / "var" / "manifest.json", data / "manifest.json")
    env = bare_environ(
        POLKU_DATA_DIR=str(data),
        POLKU_ADMIN_PASSWORD=PASSWORD,
        POLKU_RATELIMIT_ENABLED="false",
    )
    with polku_serve(demo, data / "serve.log", env) as base:
        yield base, data


def post(url, data: bytes, content_type: str, origin: str, accept="application/json"):
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": content_type,
            "Origin": origin,
            "User-Agent": UA,
            "Accept": accept,
            "Referer": "https://evil.example/" + XSS,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_markup_from_readers_shows_as_text(browser, dashboard, artifacts):
    from urllib.parse import quote, urlencode

    base, _ = dashboard
    query = f"utm_source={quote(XSS)}&utm_campaign={quote(XSS)}"
    page_url = f"{base}/posts/why-a-slow-page-costs-you/?{query}"
    beacon = {
        "name": "pageview",
        "url": page_url,
        "referrer": "https://ref.example/" + XSS,
        "title": XSS,
        "width": 1280,
    }
    assert (
        post(base + "/api/event", json.dumps(beacon).encode(), "text/plain", base)
        == 202
    )
    form = urlencode(
        {
            "email": "xss@example.com",
            "first_name": XSS,
            "consent_newsletter": "yes",
            "form": XSS,
            "source": XSS,
        }
    )
    assert (
        post(
            base + "/subscribe",
            form.encode(),
            "application/x-www-form-urlencoded",
            base,
        )
        == 200
    )
    hostile_address = urlencode({"email": EMAIL_XSS, "consent_newsletter": "yes"})
    form_type = "application/x-www-form-urlencoded"
    assert post(base + "/subscribe", hostile_address.encode(), form_type, base) == 200
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(base + "/admin/login")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/admin/")
        page.screenshot(path=artifacts / "dashboard-overview.png", full_page=True)
        page.goto(base + "/admin/contacts")
        page.click("text=xss@example.com")
        page.wait_for_load_state()
        page.screenshot(path=artifacts / "dashboard-contact.png", full_page=True)
        paths = ["/admin/", "/admin/contacts", page.url.replace(base, "")]
        page.goto(base + "/admin/contacts")
        page.get_by_role("link", name=EMAIL_XSS).click()
        page.wait_for_load_state()
        paths.append(page.url.replace(base, ""))
        for path in paths:
            page.goto(base + path)
            assert page.evaluate("window.__pwned") is None, path
            assert page.locator("img[src=x]").count() == 0, path
            assert page.locator("main script").count() == 0, path
            assert page.locator("[onfocus], [autofocus]").count() == 0, path
        assert EMAIL_XSS in page.locator("main").inner_text()
        page.goto(base + paths[2])
        assert (
            XSS in page.locator("main").inner_text()
            or "onerror" in page.locator("main").inner_text()
        )
    finally:
        context.close()
    assert dialogs == []
