"""A quote request in a real headless Chromium against `polku serve` over the built
demo: it reaches the owner's inbox (aiosmtpd) with the pages the visitor read,
shows on the dashboard until marked answered; without JavaScript it works too."""

from __future__ import annotations

import shutil
import time

import pytest
from aiosmtpd.controller import Controller

from ..conftest import bare_environ, free_port, polku_serve
from ..mailserver import Inbox

pytestmark = pytest.mark.browser

OWNER = "owner@kettu.example"
PASSWORD = "dashboard password for the quote test"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.{n} Safari/537.36"
)


@pytest.fixture(scope="module")
def world(demo, tmp_path_factory):
    """`polku serve` over the built demo, a fresh data dir and a real SMTP server."""
    data = tmp_path_factory.mktemp("quote-data")
    shutil.copy(demo / "var" / "manifest.json", data / "manifest.json")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = bare_environ(
        POLKU_DATA_DIR=str(data),
        POLKU_SITE_URL=base,
        POLKU_SMTP_HOST="127.0.0.1",
        POLKU_SMTP_PORT=str(smtp.port),
        POLKU_OWNER_EMAIL=OWNER,
        POLKU_PHONE_REGION="FI",
        POLKU_ADMIN_PASSWORD=PASSWORD,
        POLKU_RATELIMIT_ENABLED="false",
        POLKU_SECRET_KEY="quote request test secret key of enough length",
    )
    try:
        with polku_serve(demo, data / "serve.log", env, port):
            yield {"base": base, "inbox": inbox}
    finally:
        smtp.stop()


def fill(page, name: str, message: str) -> None:
    form = page.locator("main form[action='/quote']")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=email]").fill(f"{name.split()[0].lower()}@example.com")
    form.locator("input[name=phone]").fill("040 123 4567")
    form.locator("textarea[name=message]").fill(message)
    form.locator("input[name=consent_quote]").check()
    form.locator("button[type=submit]").click()


def owner_mail(world, name: str):
    for message in world["inbox"].to(OWNER):
        if name in message["Subject"]:
            return message
    return None


def wait_for_mail(world, name: str):
    """The owner's email about name's request (sent before the answer, so at once)."""
    for _ in range(50):
        found = owner_mail(world, name)
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no email about {name}'s request")


def test_a_request_reaches_the_owner_and_waits_on_the_dashboard(
    world, browser, artifacts
):
    base = world["base"]
    visitor = browser.new_context(
        viewport={"width": 390, "height": 844}, user_agent=CHROME.format(n=1)
    )
    page = visitor.new_page()
    page.route("**/api/event", lambda route: route.continue_())
    page.goto(f"{base}/about/?utm_source=facebook&utm_campaign=spring")
    page.wait_for_load_state("networkidle")
    page.goto(f"{base}/quote/")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts / "quote-phone.png", full_page=True)
    fill(page, "Aino Virtanen", "A new website for our clinic.\nBefore March, please.")
    status = page.locator("main form[action='/quote'] .polku-form-status")
    page.wait_for_function(
        "el => el.textContent.includes('in touch')", arg=status.element_handle()
    )
    assert page.url == f"{base}/quote/"  # submitted in place
    visitor.close()

    message = wait_for_mail(world, "Aino Virtanen")
    assert message["Reply-To"] == "aino@example.com"
    text = message.get_body(("plain",)).get_content()
    assert "+358401234567" in text and "> Before March, please." in text
    assert "from facebook (spring)" in text  # the journey: the visit that began it
    assert "(/about/)" in text and "(/quote/)" in text

    owner = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = owner.new_page()
    admin.goto(f"{base}/admin/login")
    admin.fill("input[name=password]", PASSWORD)
    admin.click("button[type=submit]")
    admin.wait_for_url(f"{base}/admin/**")
    assert "quote request" in admin.locator("main").inner_text()
    admin.click("a[href='/admin/quotes']")
    request = admin.locator("li.request", has_text="Aino Virtanen")
    assert "Before March, please." in request.inner_text()
    admin.screenshot(path=artifacts / "quote-dashboard.png", full_page=True)
    request.locator("button", has_text="Mark answered").click()
    admin.wait_for_load_state("networkidle")
    assert "The request is marked answered." in admin.locator("main").inner_text()
    assert admin.locator("li.request", has_text="Aino Virtanen").count() == 0
    assert "Aino Virtanen" in admin.locator("main").inner_text()  # answered lately
    owner.close()


def test_without_javascript_the_form_posts_and_thanks(world, browser):
    base = world["base"]
    context = browser.new_context(
        java_script_enabled=False, user_agent=CHROME.format(n=2)
    )
    page = context.new_page()
    page.goto(f"{base}/quote/")
    fill(page, "Jari Korhonen", "Could you check our shop's site?")
    page.wait_for_url(f"{base}/thanks-quote/")
    assert "Thank you for your request" in page.locator("main").inner_text()
    # a refused post comes back filled in, with the reason beside the field
    page.goto(f"{base}/quote/")
    form = page.locator("main form[action='/quote']")
    form.locator("input[name=name]").fill("Jari Korhonen")
    form.locator("input[name=email]").fill("jari@example.com")
    form.locator("input[name=phone]").fill("12")
    form.locator("textarea[name=message]").fill("Another question.")
    form.locator("input[name=consent_quote]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/form/**")
    assert "That phone number does not look right." in page.inner_text("main")
    assert page.locator("textarea[name=message]").input_value() == "Another question."
    context.close()
    assert wait_for_mail(world, "Jari Korhonen") is not None
    assert len([m for m in world["inbox"].to(OWNER) if "Jari" in m["Subject"]]) == 1
