"""`polku spend`: the platforms' exports stored once per day, and what leads cost."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from tracker.cli import cli
from tracker.db import get_storage
from tracker.imports import spend
from tracker.journey import money

from ..conftest import BROWSER_UA, SITE, Reader
from ..web.test_collect import GOOD, send

FIXTURES = Path(__file__).parent.parent / "fixtures" / "spend"
META_FALL, META_RETARGET = "120210000000000001", "120210000000000002"
GOOGLE_BRAND, GOOGLE_DISPLAY = "21000000001", "21000000002"


def polku(runner, app, *args):
    env = {
        "POLKU_DATA_DIR": app.config["DATA_DIR"],
        "POLKU_SECRET_KEY": "test-secret-key",
    }
    return runner.invoke(cli, list(args), env=env)


def imported(runner, app, name: str):
    result = polku(runner, app, "spend", "import", str(FIXTURES / name))
    assert result.exit_code == 0, result.output
    return result.output


def stored(app) -> dict:
    with app.app_context():
        return spend.load(get_storage())


def spent(app, since=None, until=None) -> dict:
    """Spend per (platform, campaign id) and currency, as stored."""
    sums: dict = {}
    for row in money.spend_rows(stored(app), since, until):
        key = (row["platform"], row["campaign_id"], row["currency"])
        sums[key] = sums.get(key, Decimal(0)) + row["spend"]
    return sums


def test_meta_and_google_exports_import_exactly_and_twice_count_once(runner, app):
    for _ in range(2):
        output = imported(runner, app, "meta_en.csv")
        assert "6 rows of Meta Ads spend from 2026-11-01 to 2026-11-03" in output
        assert "89.05 EUR" in output
        imported(runner, app, "google.csv")
    assert spent(app) == {
        ("meta", META_FALL, "EUR"): Decimal("73.00"),
        ("meta", META_RETARGET, "EUR"): Decimal("16.05"),
        ("google", GOOGLE_BRAND, "EUR"): Decimal("3223.96"),
        ("google", GOOGLE_DISPLAY, "EUR"): Decimal("45.10"),
    }
    rows = money.spend_rows(stored(app), None, None)
    assert sum(r["impressions"] for r in rows if r["platform"] == "google") == 36876
    assert sum(r["clicks"] for r in rows if r["platform"] == "meta") == 144
    assert len(rows) == 11


def test_an_overlapping_period_replaces_its_days(runner, app):
    imported(runner, app, "meta_en.csv")
    imported(runner, app, "google.csv")
    imported(runner, app, "meta_en_later.csv")  # 3 and 4 November again
    assert spent(app)[("meta", META_FALL, "EUR")] == Decimal("95.10")  # 23.47
    # + 25.03 + 24.61 (3 Nov as settled later, not 24.50 as well) + 21.99
    assert spent(app)[("meta", META_RETARGET, "EUR")] == Decimal("16.05")
    assert spent(app)[("google", GOOGLE_BRAND, "EUR")] == Decimal("3223.96")
    assert spent(app, "2026-11-03", "2026-11-03")[("meta", META_FALL, "EUR")] == (
        Decimal("24.61")
    )


def test_a_malformed_file_says_why_and_stores_nothing(runner, app, tmp_path):
    imported(runner, app, "meta_en.csv")
    before = stored(app)
    text = (FIXTURES / "meta_en.csv").read_text(encoding="utf-8-sig")
    broken = tmp_path / "meta.csv"
    broken.write_text(text.replace("2026-11-03", "3rd of November"), "utf-8-sig")
    result = polku(runner, app, "spend", "import", str(broken))
    assert result.exit_code == 1
    assert "In row 6: the day '3rd of November' is not a date" in result.output
    other = tmp_path / "orders.csv"
    other.write_text("email,date,value\nanna@example.com,2026-11-01,10\n")
    result = polku(runner, app, "spend", "import", str(other))
    assert result.exit_code == 1 and "not a Meta Ads Manager or Google" in result.output
    assert stored(app) == before


def test_the_owner_maps_a_campaign_and_lists_the_spend(runner, app):
    imported(runner, app, "meta_sv.csv")
    result = polku(runner, app, "spend", "map", " syksy ", "120210000000000004")
    assert result.exit_code == 0, result.output
    assert stored(app)["map"] == {"syksy": "120210000000000004"}
    listing = polku(runner, app, "spend", "list").output
    assert "Vinterkampanj" in listing and "810.75 SEK" in listing
    assert "syksy <- 120210000000000004" in listing
    assert polku(runner, app, "spend", "unmap", "syksy").exit_code == 0
    assert stored(app)["map"] == {}


def lead(app, n: int, campaign: str, value=None, currency=None):
    """A reader from an ad tagged utm_campaign=campaign signs up (and buys)."""
    reader = Reader(app.test_client(), app)
    reader.headers["User-Agent"] = BROWSER_UA.replace("Chrome/126.0", f"Chrome/126.{n}")
    url = f"{SITE}/posts/one/?utm_source=ads&utm_medium=paid&utm_campaign="
    send(
        reader.client,
        {**GOOD, "url": url + quote(campaign)},
        **{"User-Agent": reader.headers["User-Agent"]},
    )
    email = f"reader{n}@example.com"
    reader.confirm(email)
    for i, amount in enumerate(value if isinstance(value, list) else [value]):
        if amount is None:
            continue
        body = {"email": email, "value": amount, "order_id": f"o{n}-{i}"}
        if currency:
            body["currency"] = currency
        response = reader.post(
            "/api/conversion", json_body=body, Authorization="Bearer test-api-key"
        )
        assert response.status_code == 201


def test_cost_per_lead_and_customer_and_roas_to_the_cent(runner, app, set_clock):
    set_clock("2026-11-02T10:00:00+00:00")
    lead(app, 1, META_FALL, value=150.00)  # tagged with Meta's campaign id
    lead(app, 2, META_FALL)
    lead(app, 3, META_FALL)
    lead(app, 4, "haku – BRÄNDI", value=[99.90, 0.10])  # Google's name, any case
    lead(app, 5, "syksy")  # mapped by the owner to the Meta retargeting campaign
    lead(app, 6, "syksy")
    lead(app, 7, "uutiskirje", value=500, currency="SEK")  # no spend; other money
    imported(runner, app, "meta_en.csv")
    imported(runner, app, "google.csv")
    polku(runner, app, "spend", "map", "syksy", META_RETARGET)
    result = polku(runner, app, "report", "--json", "--since", "2026-11-01")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["currency"] == "EUR"
    assert data["revenue"] == 250.00  # 150.00 + 99.90 + 0.10; the SEK apart
    assert data["revenue_other"] == {"SEK": 500}
    rows = {row["campaign"]: row for row in data["campaigns"]}
    for row in rows.values():
        assert {
            "campaign",
            "visitors",
            "leads",
            "customers",
            "revenue",
            "spend",
            "cost_per_lead",
            "cost_per_customer",
            "roas",
        } <= set(row)
    fall = rows[META_FALL]
    assert (fall["visitors"], fall["leads"], fall["customers"]) == (3, 3, 1)
    assert fall["spend"] == 73.00  # 23.47 + 25.03 + 24.50
    assert fall["cost_per_lead"] == 24.33  # 73.00 / 3 = 24.333...
    assert fall["cost_per_customer"] == 73.00
    assert fall["revenue"] == 150.00 and fall["roas"] == 2.05  # 150 / 73 = 2.0548
    brand = rows["haku – BRÄNDI"]
    assert brand["spend"] == 3223.96 and brand["cost_per_lead"] == 3223.96
    assert brand["revenue"] == 100.00 and brand["roas"] == 0.03  # 100 / 3223.96
    mapped = rows["syksy"]
    assert mapped["spend"] == 16.05 and mapped["leads"] == 2
    assert mapped["cost_per_lead"] == 8.03  # 8.025, rounded half up
    assert mapped["customers"] == 0 and mapped["cost_per_customer"] is None
    assert mapped["roas"] == 0
    free = rows["uutiskirje"]
    assert free["spend"] is None and free["cost_per_lead"] is None
    assert free["roas"] is None and free["revenue"] == 0
    assert free["revenue_other"] == {"SEK": 500}
    assert [(u["campaign_id"], u["spend"]) for u in data["spend_unmatched"]] == [
        (GOOGLE_DISPLAY, 45.10)
    ]
