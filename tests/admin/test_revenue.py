"""The overview's revenue: the period's, and each source's, landing page's and
post's, by the touch switch, in the site's currency, other currencies apart."""

from __future__ import annotations

import re

from ..cli.test_spend import lead
from .conftest import PASSWORD

PERIOD = "/admin/?period=custom&from=2026-11-01&to=2026-11-30"


def table_rows(html: str, caption: str) -> dict[str, list[str]]:
    """The rows of the table with that caption: first cell -> the cells' text."""
    start = html.index(caption)
    table = html[start : html.index("</table>", start)]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        text = [" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in found]
        rows[text[0]] = text[1:]
    return rows


def kpi(html: str, name: str) -> str:
    at = html.index(f'<span class="kpi-label">{name}</span>')
    value = re.search(r'<span class="kpi-value">(.*?)</span>\s*<span', html[at:], re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", value.group(1)).split())


def overview(admin_app, set_clock, query=""):
    set_clock("2026-11-03T09:00:00+00:00")
    lead(admin_app, 1, "autumn", value=[120, 30])  # two orders
    lead(admin_app, 2, "autumn", value=45.5)
    lead(admin_app, 3, "autumn", value=500, currency="SEK")
    lead(admin_app, 4, "autumn")
    client = admin_app.test_client()
    assert client.post("/admin/login", data={"password": PASSWORD}).status_code == 303
    return client.get(PERIOD + query).get_data(as_text=True)


def test_the_overview_shows_revenue_average_order_and_revenue_per_visitor(
    admin_app, set_clock
):
    html = overview(admin_app, set_clock)
    assert kpi(html, "Revenue") == "€195.50"  # 120 + 30 + 45.50; the SEK apart
    assert "SEK" in html[html.index("kpis-money") : html.index("kpi-terms")]
    assert kpi(html, "Average order") == "€65.17"  # 195.50 / 3 orders in euros
    assert kpi(html, "Revenue per visitor") == "€48.88"  # 195.50 / 4 visitors
    source = table_rows(html, "revenue credited to each source")["ads"]
    # visitors, leads, customers, conversion, revenue, average order, per visitor
    assert source[:3] == ["4", "4", "3"]
    assert source[4:] == ["€195.50 SEK500.00", "€65.17", "€48.88"]
    post = table_rows(html, "customers and revenue of the visits that began")
    assert post["One /posts/one/"][4:] == ["3", "€195.50 SEK500.00", "€65.17", "€48.88"]
    landing = table_rows(html, "Pages where visits began")["/posts/one/"]
    assert landing[-3:] == ["€195.50 SEK500.00", "€65.17", "€48.88"]


def test_a_source_without_orders_shows_no_average(admin_app, set_clock):
    set_clock("2026-11-03T09:00:00+00:00")
    lead(admin_app, 1, "autumn")
    client = admin_app.test_client()
    client.post("/admin/login", data={"password": PASSWORD})
    html = client.get(PERIOD).get_data(as_text=True)
    source = table_rows(html, "revenue credited to each source")["ads"]
    assert source[4:] == ["€0.00", "—", "€0.00"]
    assert kpi(html, "Average order") == "—"


def test_the_csv_has_the_revenue_columns(admin_app, set_clock):
    overview(admin_app, set_clock)
    client = admin_app.test_client()
    client.post("/admin/login", data={"password": PASSWORD})
    text = client.get(PERIOD.replace("/?", "/sources.csv?")).get_data(as_text=True)
    header, *lines = text.strip().splitlines()
    assert header.endswith("revenue,average_order,revenue_per_visitor")
    assert lines[0].startswith("ads,") and lines[0].endswith(",195.5,65.17,48.88")
