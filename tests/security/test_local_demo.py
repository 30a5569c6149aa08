"""The demo on a laptop, in a real Chromium: no other web page gets in.

- DNS rebinding: a page whose name the attacker points at 127.0.0.1 talks to
  `polku serve` as its own origin. Chromium here resolves attacker.example to
  127.0.0.1 (as a rebound name would), opens the demo under that name and
  tries to log in with the demo's password and read the contacts.
- Login CSRF: a page on another local origin (127.0.0.2) submits the login
  form to the demo.
- The dashboard's own forms (login, erase, logout) still work.
"""

from __future__ import annotations

import http.server
import threading
import urllib.request

import pytest

from ..conftest import (
    bare_environ,
    free_port,
    launch_chromium,
    polku_serve,
    write_manifest,
)
from .conftest import dev_manifest

pytestmark = pytest.mark.browser

PASSWORD = "the demo's published password"
READER = "reader@example.com"
ATTACKER = "attacker.example"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`polku serve` over a one-page site with the dashboard on and one contact."""
    site = tmp_path_factory.mktemp("local-demo")
    (site / "output").mkdir()
    (site / "output" / "index.html").write_text(
        "<!doctype html><title>Kettu</title><h1>home</h1>"
    )
    write_manifest(site / "var", dev_manifest())
    env = bare_environ(POLKU_ADMIN_PASSWORD=PASSWORD, POLKU_RATELIMIT_ENABLED="false")
    with polku_serve(site, site / "serve.log", env) as base:
        signup = urllib.request.Request(
            base + "/subscribe",
            data=f"email={READER}&consent_newsletter=yes".encode(),
            method="POST",
            headers={
                "Origin": base,
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
            },
        )
        with urllib.request.urlopen(signup, timeout=10) as response:
            assert response.status < 300
        yield base


@pytest.fixture(scope="module")
def rebinding_browser(playwright):
    """Chromium resolving attacker.example to this machine, as after a rebind."""
    browser = launch_chromium(
        playwright, f"--host-resolver-rules=MAP {ATTACKER} 127.0.0.1"
    )
    yield browser
    browser.close()


def admin_cookies(context) -> list[dict]:
    return [c for c in context.cookies() if c["name"] == "polku_admin"]


READ_CONTACTS = """async (password) => {
    const login = await fetch('/admin/login', {
        method: 'POST', body: new URLSearchParams({password}),
    });
    const contacts = await fetch('/admin/contacts');
    return [login.status, contacts.status, await contacts.text()];
}"""


def test_a_rebound_name_gets_nothing(rebinding_browser, demo):
    port = demo.rsplit(":", 1)[1]
    context = rebinding_browser.new_context()
    try:
        page = context.new_page()
        opened = page.goto(f"http://{ATTACKER}:{port}/")
        assert opened.status == 421
        assert "home" not in page.content()
        login, contacts, text = page.evaluate(READ_CONTACTS, PASSWORD)
        assert (login, contacts) == (421, 421)
        assert READER not in text
        assert admin_cookies(context) == []
    finally:
        context.close()


class AttackerPage(http.server.BaseHTTPRequestHandler):
    """A page on another origin that submits the demo's login form at once."""

    target = ""

    def do_GET(self):  # noqa: N802 - http.server API
        body = (
            f'<!doctype html><form method="post" action="{self.target}">'
            f'<input name="password" value="{PASSWORD}"></form>'
            "<script>document.forms[0].submit()</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def attacker_site(demo):
    handler = type("Page", (AttackerPage,), {"target": demo + "/admin/login"})
    server = http.server.ThreadingHTTPServer(("127.0.0.2", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.2:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_login_posted_from_another_origin_opens_no_session(
    rebinding_browser, demo, attacker_site
):
    context = rebinding_browser.new_context()
    try:
        page = context.new_page()
        with page.expect_navigation(url=demo + "/admin/login") as landed:
            page.goto(attacker_site)
        assert landed.value.status == 403
        assert admin_cookies(context) == []
        page.goto(demo + "/admin/contacts")
        assert page.url.startswith(demo + "/admin/login")
    finally:
        context.close()


def test_the_dashboards_own_forms_work(rebinding_browser, demo):
    context = rebinding_browser.new_context()
    try:
        page = context.new_page()
        page.goto(demo + "/admin/login")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(demo + "/admin/")
        page.goto(demo + "/admin/contacts")
        page.get_by_role("link", name=READER).click()
        page.wait_for_load_state()
        page.check("#erase-confirm")
        with page.expect_navigation() as erased:
            page.click("form.erase button[type=submit]")
        assert erased.value.status == 200, page.content()
        assert page.url.startswith(demo + "/admin/contacts")
        assert READER not in page.locator("main").inner_text()
        with page.expect_navigation() as left:
            page.click("form.logout button[type=submit]")
        assert left.value.status == 200 and "/admin/login" in page.url
        page.goto(demo + "/admin/contacts")
        assert "/admin/login" in page.url
    finally:
        context.close()
