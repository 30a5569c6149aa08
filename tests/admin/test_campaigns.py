"""The dashboard's campaigns: spend, cost per lead and customer, revenue and ROAS."""

from __future__ import annotations

import re

from ..cli.test_spend import FIXTURES, META_FALL, lead, polku
from .conftest import PASSWORD

PERIOD = "/admin/?period=custom&from=2026-11-01&to=2026-11-30"


def cells(html: str, campaign: str) -> list[str]:
    """The text of the campaign's row in the campaigns table."""
    table = html[html.index('class="data campaigns-money"') :]
    table = table[: table.index("</table>")]
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        if f">{campaign}<" in row:
            found = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
            return [re.sub(r"<[^>]+>", "", c).strip() for c in found]
    raise AssertionError(f"no row for {campaign}")


def dashboard(admin_app, runner, set_clock):
    set_clock("2026-11-03T09:00:00+00:00")
    lead(admin_app, 1, META_FALL, value=150)
    lead(admin_app, 2, "uutiskirje")
    result = polku(runner, admin_app, "spend", "import", str(FIXTURES / "meta_en.csv"))
    assert result.exit_code == 0, result.output
    client = admin_app.test_client()
    assert client.post("/admin/login", data={"password": PASSWORD}).status_code == 303
    return client


def test_the_campaigns_table_shows_what_each_cost_and_brought(
    admin_app, runner, set_clock
):
    client = dashboard(admin_app, runner, set_clock)
    html = client.get(PERIOD).get_data(as_text=True)
    # campaign, visitors, spend, leads, customers, per lead, per customer,
    # revenue, ROAS: 73.00 spent on 1 to 3 November, one lead who bought for 150
    assert cells(html, META_FALL) == [
        META_FALL,
        "1",
        "€73.00",
        "1",
        "1",
        "€73.00",
        "€73.00",
        "€150.00",
        "2.05",
    ]
    free = cells(html, "uutiskirje")
    assert free[2] == "—" and free[5] == "—" and free[6] == "—" and free[8] == "—"
    assert free[7] == "€0.00"
    unmatched = html[html.index("Spend with no matching campaign") :]
    assert "Retargeting, lukijat" in unmatched and "€16.05" in unmatched
    missing = html[html.index("Campaigns with no spend") :]
    assert "uutiskirje" in missing[: missing.index("</p>")]


def test_the_campaigns_csv_has_the_money(admin_app, runner, set_clock):
    client = dashboard(admin_app, runner, set_clock)
    text = client.get(PERIOD.replace("/?", "/campaigns.csv?")).get_data(as_text=True)
    header, *lines = text.strip().splitlines()
    assert header.endswith("spend,cost_per_lead,cost_per_customer,revenue,roas")
    fall = next(line for line in lines if line.startswith(META_FALL))
    assert fall.endswith(",73.00,73.00,73.00,150,2.05")


def test_without_spend_the_table_says_how_to_import_it(admin_app, set_clock):
    set_clock("2026-11-03T09:00:00+00:00")
    lead(admin_app, 1, "uutiskirje")
    client = admin_app.test_client()
    client.post("/admin/login", data={"password": PASSWORD})
    html = client.get(PERIOD).get_data(as_text=True)
    assert "polku spend import FILE" in html
    assert cells(html, "uutiskirje")[2] == "—"
