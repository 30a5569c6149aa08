"""The dashboard's journey map: its bands add up to the period's visitors, each
links to the contacts it holds; and the time to convert per source."""

from __future__ import annotations

import re
from html import unescape

from tracker.db import get_storage

from ..cli.test_spend import lead
from ..conftest import BROWSER_UA, SITE
from ..web.test_collect import GOOD, send
from .conftest import PASSWORD

PERIOD = "period=custom&from=2026-11-01&to=2026-11-30"


def visitor(app, n: int, url: str, referrer: str | None = None):
    """An anonymous reader: one pageview from a browser of their own."""
    agent = BROWSER_UA.replace("Chrome/126.0", f"Chrome/127.{n}")
    body = {**GOOD, "url": url, "referrer": referrer}
    assert send(app.test_client(), body, **{"User-Agent": agent}).status_code == 202


def seeded(admin_app, set_clock):
    set_clock("2026-11-03T09:00:00+00:00")
    lead(admin_app, 1, "autumn", value=150)  # ads -> /posts/one/ -> customer
    lead(admin_app, 2, "autumn")  # ads -> /posts/one/ -> lead
    for n in range(3):
        visitor(admin_app, n, f"{SITE}/posts/one/?utm_source=ads")
    for n in range(3, 5):
        visitor(admin_app, n, f"{SITE}/about/", "https://news.example/x")
    visitor(admin_app, 5, f"{SITE}/")
    client = admin_app.test_client()
    assert client.post("/admin/login", data={"password": PASSWORD}).status_code == 303
    return client


def bands(html: str) -> list[tuple[str, str, int, str | None]]:
    """(from, to, visitors, contacts link) of each row of the bands' table."""
    table = html[html.index("Each band of the journey map") :]
    table = table[: table.index("</table>")]
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        link = re.search(r'href="([^"]+)"', cells[4])
        found.append(
            (
                unescape(re.sub(r"<[^>]+>", "", cells[0]).strip()),
                unescape(re.sub(r"<[^>]+>", "", cells[1]).strip()),
                int(re.sub(r"<[^>]+>", "", cells[2])),
                unescape(link.group(1)) if link else None,
            )
        )
    return found


def test_the_bands_add_up_to_the_periods_visitors(admin_app, set_clock):
    client = seeded(admin_app, set_clock)
    html = client.get(f"/admin/journey?{PERIOD}").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="sankey"' in html
    with admin_app.app_context():
        visitors = get_storage().summary("2026-11-01", "2026-11-30")["visitors"]
    assert visitors == 8
    found = bands(html)
    sources = ("ads", "news.example", "direct")
    into_pages = [b for b in found if b[0] in sources]
    into_stages = [b for b in found if b[0] not in sources]
    assert sum(b[2] for b in into_pages) == visitors
    assert sum(b[2] for b in into_stages) == visitors
    assert ("ads", "One", 5, into_pages[0][3]) == into_pages[0]
    stages = {b[1]: b[2] for b in into_stages if b[0] == "One"}
    assert stages == {"Customers": 1, "Leads": 1, "Not yet a lead": 3}
    # the SVG carries each band's count and share, and the links
    assert "ads → One: 5 visitors (62.5%); show the 2 contacts" in unescape(html)


def test_a_band_opens_the_contacts_it_holds(admin_app, set_clock):
    client = seeded(admin_app, set_clock)
    html = client.get(f"/admin/journey?{PERIOD}").get_data(as_text=True)
    links = {(b[0], b[1]): b[3] for b in bands(html)}
    assert links[("One", "Not yet a lead")] is None  # no contact in it
    page = client.get(links[("One", "Customers")]).get_data(as_text=True)
    assert "reader1@example.com" in page and "reader2@example.com" not in page
    assert "One → Customers" in unescape(page)
    both = client.get(links[("ads", "One")]).get_data(as_text=True)
    assert "reader1@example.com" in both and "reader2@example.com" in both
    csv = client.get(
        links[("ads", "One")].replace("/admin/contacts?", "/admin/contacts.csv?")
    ).get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 3  # the header and the two


def test_a_forged_band_shows_no_one(admin_app, set_clock):
    client = seeded(admin_app, set_clock)
    page = client.get(
        "/admin/contacts?band_from=source:ads&band_to=nowhere:%3Cb%3E"
        "&map_from=2026-11-01&map_to=not-a-day"
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "No contacts match." in text and "<b>" not in text


def test_time_to_convert_per_source(admin_app, set_clock):
    client = seeded(admin_app, set_clock)
    html = client.get(f"/admin/journey?{PERIOD}").get_data(as_text=True)
    table = html[html.index("per first source: median and quartiles") :]
    table = table[: table.index("</table>")]
    rows = [
        [" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]
        for cells in (
            re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
        )
    ]
    assert [r[0] for r in rows] == ["All sources", "ads"]
    # two leads and one customer, all within the same minute of the clock
    assert rows[1][3] == "2" and rows[1][6] == "1"
    assert rows[1][1] == "< 1 minute"
