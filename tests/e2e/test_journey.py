"""A reader's whole journey in a real browser, on `polku serve` and real SMTP.

Campaign visit → second post → signup with JavaScript → confirmation from the real
email → guide download with JavaScript off → purchase from the shop → the owner's
dashboard → the digest → one-click unsubscribe → in no list, no more digests.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from tracker import clock

from ..conftest import Inbox, bare_environ, free_port, polku_serve

pytestmark = pytest.mark.browser

READER = "reader.journey@example.com"
PASSWORD = "dashboard password for the test"
API_KEY = "shop-api-key"
# Headless Chromium says so in its user agent, and bots are counted apart: the
# reader's browser presents itself as the everyday Chrome it stands for.
CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36"
)


@pytest.fixture(scope="module")
def world(demo, tmp_path_factory):
    """`polku serve` over the built demo, a fresh data dir and a real SMTP server."""
    data = tmp_path_factory.mktemp("journey-data")
    shutil.copy(demo / "var" / "manifest.json", data / "manifest.json")
    shutil.copytree(demo / "var" / "guides", data / "guides")
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = bare_environ(
        POLKU_CLOCK=days_after_the_newest_post(data / "manifest.json", 3),
        POLKU_DATA_DIR=str(data),
        POLKU_SITE_URL=base,
        POLKU_SMTP_HOST="127.0.0.1",
        POLKU_SMTP_PORT=str(smtp.port),
        POLKU_API_KEY=API_KEY,
        POLKU_ADMIN_PASSWORD=PASSWORD,
        POLKU_RATELIMIT_ENABLED="false",
        POLKU_SECRET_KEY="end-to-end secret key of enough length",
    )
    try:
        with polku_serve(demo, data / "serve.log", env, port):
            yield {"base": base, "data": data, "inbox": inbox, "env": env, "site": demo}
    finally:
        smtp.stop()


def days_after_the_newest_post(manifest: Path, days: int) -> str:
    """A moment the demo's content is news at, whatever today's date."""
    dates = [p["date"] for p in json.loads(manifest.read_text())["posts"] if p["date"]]
    newest = clock.parse(max(dates))
    return (newest + timedelta(days=days)).isoformat()


def polku(world, *args):
    result = subprocess.run(
        [sys.executable, "-m", "tracker.cli", *args],
        cwd=world["site"],
        env=world["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def link_in(message, route: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return next(w for w in text.split() if f"/{route}/" in w)


def test_a_readers_whole_journey(world, browser, artifacts):
    base, inbox = world["base"], world["inbox"]
    # 1. From a paid campaign to an article, then a second post, on a phone.
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, user_agent=CHROME
    )
    page = phone.new_page()
    page.route("**/api/event", lambda route: route.continue_())
    campaign = "?utm_source=facebook&utm_medium=paid&utm_campaign=spring"
    page.goto(f"{base}/posts/a-newsletter-is-a-promise/{campaign}")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts / "journey-article-phone.png", full_page=True)
    page.goto(f"{base}/posts/answer-the-question/")
    page.wait_for_load_state("networkidle")
    # 2. Subscribes through the article's form, JavaScript on: submitted in place.
    form = page.locator("main form[action='/subscribe']")
    form.locator("input[name=email]").fill(READER)
    form.locator("input[name=first_name]").fill("Ilona")
    form.locator("input[name=consent_newsletter]").check()
    form.locator("button[type=submit]").click()
    status = form.locator(".polku-form-status")
    status.wait_for(state="visible")
    page.wait_for_function(
        "el => el.textContent.includes('inbox')", arg=status.element_handle()
    )
    assert form.locator("input[name=utm_campaign]").input_value() == "spring"
    # 3. Confirms from the real email: the link opens a page, its button confirms.
    (confirmation,) = inbox.to(READER)
    page.goto(link_in(confirmation, "confirm"))
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/thanks-confirmed/")
    phone.close()

    # 4. Downloads the guide through the plain HTML form, JavaScript off.
    desktop = browser.new_context(
        java_script_enabled=False,
        viewport={"width": 1280, "height": 900},
        user_agent=CHROME,
    )
    page = desktop.new_page()
    page.goto(f"{base}/guide-website-checklist/")
    page.screenshot(path=artifacts / "journey-landing.png", full_page=True)
    form = page.locator("main form[action='/download']")
    form.locator("input[name=email]").fill(READER)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/thanks-download/")
    download_mail = next(
        m
        for m in inbox.to(READER)
        if "/download/" in m.get_body(("plain",)).get_content()
    )
    with urllib.request.urlopen(
        link_in(download_mail, "download"), timeout=10
    ) as response:
        assert response.read(5) == b"%PDF-"
    desktop.close()

    # 5. A purchase arrives from the shop.
    purchase = json.dumps(
        {
            "email": READER,
            "kind": "purchase",
            "value": 290,
            "currency": "EUR",
            "order_id": "KETTU-1001",
        }
    ).encode()
    request = urllib.request.Request(
        base + "/api/conversion",
        data=purchase,
        method="POST",
        headers={
            "Authorization": f"Bearer {API_KEY}",
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201

    # 6. The owner sees the whole journey and the funnel.
    owner = browser.new_context(viewport={"width": 1280, "height": 900})
    page = owner.new_page()
    page.goto(base + "/admin/login")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/admin/")
    page.screenshot(path=artifacts / "journey-dashboard.png", full_page=True)
    page.goto(base + "/admin/contacts?q=" + READER)
    page.click(f"text={READER}")
    page.wait_for_load_state()
    timeline = page.locator("main").inner_text()
    steps = ("spring", "/posts/a-newsletter-is-a-promise/", "Downloaded", "290")
    for step in steps:
        assert step in timeline, step
    page.screenshot(path=artifacts / "journey-contact.png", full_page=True)
    funnel = page.request.get(base + "/admin/funnel.csv").text()
    counts = {
        row["stage"]: int(row["count"]) for row in csv.DictReader(funnel.splitlines())
    }
    assert counts["lead"] == 1 and counts["customer"] == 1
    assert counts["visitor"] >= 1
    owner.close()

    # 7. The digest reaches the reader; their one-click unsubscribe works.
    before = len(inbox.to(READER))
    assert "1 of 1 message sent" in polku(world, "digest", "--send", "--rate", "0")
    digest = inbox.to(READER)[before]
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = re.search(
        r"<(http[^>]+/unsubscribe/[^>]+)>", digest["List-Unsubscribe"]
    ).group(1)
    request = urllib.request.Request(
        one_click,
        data=b"List-Unsubscribe=One-Click",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200

    # 8. Afterwards: in no audience, and no more digests.
    lists = world["data"] / "lists"
    polku(world, "audiences", "--out", str(lists))
    for path in lists.glob("*.csv"):
        assert READER not in path.read_text(), path.name
    preview = world["data"] / "preview"
    out = polku(world, "digest", "--dry-run", str(preview))
    assert "Nothing new" in out or not any(
        READER in p.read_text(errors="replace") for p in preview.glob("*.eml")
    )
    assert urlsplit(one_click).netloc == urlsplit(base).netloc


def confirm_by_mail(world, address):
    from urllib.parse import urlencode

    base, inbox = world["base"], world["inbox"]
    form = urlencode({"email": address, "consent_newsletter": "yes"}).encode()
    request = urllib.request.Request(
        base + "/subscribe",
        data=form,
        method="POST",
        headers={"Origin": base, "Accept": "application/json", "User-Agent": CHROME},
    )
    urllib.request.urlopen(request, timeout=10).close()
    confirm = link_in(inbox.to(address)[-1], "confirm")
    request = urllib.request.Request(confirm, data=b"", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def test_a_referred_reader_credits_the_referrer(world, browser):
    base = world["base"]
    confirm_by_mail(world, "referrer@example.com")
    contact = json.loads(polku(world, "contacts", "export", "referrer@example.com"))
    code = contact["contact"]["ref_code"]
    context = browser.new_context(user_agent=CHROME)
    page = context.new_page()
    page.goto(f"{base}/?ref={code}")  # the shared link lands on any page
    page.wait_for_load_state("networkidle")
    page.goto(
        f"{base}/posts/hello-from-kettu-studio/"
    )  # reads on; the script keeps ref
    form = page.locator("main form[action='/subscribe']")
    assert form.locator("input[name=ref]").input_value() == code
    form.locator("input[name=email]").fill("referred@example.com")
    form.locator("input[name=consent_newsletter]").check()
    form.locator("button[type=submit]").click()
    page.wait_for_function(
        "el => el.textContent.includes('inbox')",
        arg=form.locator(".polku-form-status").element_handle(),
    )
    assert "referrer@example.com" not in page.content()  # only the code travels
    context.close()
    confirm = link_in(world["inbox"].to("referred@example.com")[-1], "confirm")
    urllib.request.urlopen(
        urllib.request.Request(confirm, data=b"", method="POST"), timeout=10
    ).close()
    report = json.loads(polku(world, "report", "--json"))
    credited = {row["email"]: row for row in report["referrals"]}
    assert credited["referrer@example.com"]["converted"] == 1
    referrer = json.loads(polku(world, "contacts", "export", "referrer@example.com"))
    assert referrer["contact"]["advocate_at"]
