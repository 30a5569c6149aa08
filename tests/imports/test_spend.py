"""Ad spend read from Meta Ads Manager and Google Ads exports, exactly as exported."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from tracker.imports import spend
from tracker.journey import money

FIXTURES = Path(__file__).parent.parent / "fixtures" / "spend"
META_FALL = "120210000000000001"
META_RETARGET = "120210000000000002"


def read(name: str, currency: str = "EUR") -> spend.Export:
    return spend.read_export(str(FIXTURES / name), "en", currency)


def by_campaign(export: spend.Export, field: str = "spend") -> dict:
    sums: dict = {}
    for row in export.rows:
        sums[row["campaign_id"]] = sums.get(row["campaign_id"], 0) + row[field]
    return sums


def test_a_meta_export_with_a_byte_order_mark_reads_to_the_cent():
    export = read("meta_en.csv")
    assert (FIXTURES / "meta_en.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert export.platform == "meta"
    assert (export.first, export.last) == ("2026-11-01", "2026-11-03")
    assert by_campaign(export) == {
        META_FALL: Decimal("73.00"),
        META_RETARGET: Decimal("16.05"),
    }
    assert all(isinstance(r["spend"], Decimal) for r in export.rows)
    assert money.totals(export.rows) == {"EUR": Decimal("89.05")}
    assert by_campaign(export, "impressions") == {META_FALL: 6992, META_RETARGET: 1775}
    assert by_campaign(export, "clicks") == {META_FALL: 123, META_RETARGET: 21}
    names = {r["campaign"] for r in export.rows}
    assert names == {"Syksyn kampanja – verkkosivut", "Retargeting, lukijat"}


@pytest.mark.parametrize(
    "name, total, currency",
    [("meta_fi.csv", "32.25", "EUR"), ("meta_sv.csv", "810.75", "SEK")],
)
def test_finnish_and_swedish_meta_headers(name, total, currency):
    export = read(name)
    assert export.platform == "meta" and export.currency_named
    assert money.totals(export.rows) == {currency: Decimal(total)}
    assert (export.first, export.last) == ("2026-11-05", "2026-11-06")


def test_a_google_report_skips_its_title_and_totals():
    export = read("google.csv")
    assert export.platform == "google"
    assert (export.first, export.last) == ("2026-11-01", "2026-11-03")
    assert by_campaign(export) == {
        "21000000001": Decimal("3223.96"),  # "1,234.56" + 987.40 + "1,002.00"
        "21000000002": Decimal("45.10"),  # "--" is nothing spent
    }
    assert by_campaign(export, "impressions") == {
        "21000000001": 33476,
        "21000000002": 3400,
    }
    assert sum(r["clicks"] for r in export.rows) == 1936
    assert len(export.rows) == 5


def test_a_google_report_saved_for_excel_is_utf16_with_tabs(tmp_path):
    lines = (FIXTURES / "google.csv").read_text().splitlines()
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\r\n")
    for cells in csv.reader(lines):
        writer.writerow(cells)
    path = tmp_path / "google-excel.csv"
    path.write_bytes(out.getvalue().encode("utf-16"))
    export = spend.read_export(str(path), "en", "EUR")
    assert money.totals(export.rows) == {"EUR": Decimal("3269.06")}


def test_a_google_report_without_a_currency_column_takes_the_sites(tmp_path):
    text = (FIXTURES / "google.csv").read_text()
    lines = []
    for line in text.splitlines():
        cells = line.split(",")
        if len(cells) > 5:
            del cells[4]
        lines.append(",".join(cells))
    path = tmp_path / "google.csv"
    path.write_text("\n".join(lines))
    export = spend.read_export(str(path), "en", "SEK")
    assert not export.currency_named
    assert money.totals(export.rows) == {"SEK": Decimal("3269.06")}


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("1,234.56", "1234.56"),
        ("1 234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("12,5", "12.5"),
        ("987.40", "987.40"),
        ("--", "0"),
        ("", "0"),
        ("1,234", "1234"),
        ("€ 3.10", "3.10"),
    ],
)
def test_amounts_as_the_platforms_write_them(cell, expected):
    assert spend.amount(cell) == Decimal(expected)


@pytest.mark.parametrize("cell", ["-5.00", "12,34,5", "abc", "1.2.3,4,5"])
def test_an_amount_that_is_not_one_is_refused(cell):
    with pytest.raises(ValueError, match="not a number"):
        spend.amount(cell)


@pytest.mark.parametrize(
    "cell, expected", [("12,345", 12345), ("--", 0), ("1 234", 1234), ("7", 7)]
)
def test_counts(cell, expected):
    assert spend.count(cell) == expected


def test_a_file_of_something_else_is_not_an_export(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("email,date,value\nanna@example.com,2026-11-01,10\n")
    with pytest.raises(spend.SpendError, match="not a Meta Ads Manager or Google"):
        spend.read_export(str(path), "en", "EUR")


def test_a_bad_cell_names_its_row(tmp_path):
    text = (FIXTURES / "meta_en.csv").read_text(encoding="utf-8-sig")
    path = tmp_path / "meta.csv"
    path.write_text(text.replace("25.03", "25.0x3"), encoding="utf-8-sig")
    with pytest.raises(spend.SpendError) as raised:
        spend.read_export(str(path), "en", "EUR")
    assert "row 4" in str(raised.value) and "'25.0x3'" in str(raised.value)


def test_a_bad_day_names_its_row(tmp_path):
    text = (FIXTURES / "google.csv").read_text()
    path = tmp_path / "google.csv"
    path.write_text(text.replace("2026-11-02,Näkyvyys", "tomorrow,Näkyvyys"))
    with pytest.raises(spend.SpendError, match="row 7.*'tomorrow' is not a date"):
        spend.read_export(str(path), "en", "EUR")


def test_a_meta_export_not_broken_down_by_day_is_refused(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_text(
        "Reporting starts,Reporting ends,Campaign name,Amount spent (EUR)\n"
        "2026-11-01,2026-11-30,Syksy,123.45\n"
    )
    with pytest.raises(spend.SpendError, match="not broken down by day"):
        spend.read_export(str(path), "en", "EUR")


def test_a_header_without_rows_is_refused(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_text("Day,Campaign name,Amount spent (EUR)\n")
    with pytest.raises(spend.SpendError, match="no spend rows"):
        spend.read_export(str(path), "en", "EUR")


def test_the_error_speaks_finnish(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(spend.SpendError) as raised:
        spend.read_export(str(path), "fi", "EUR")
    assert "Meta" in str(raised.value) and "ei ole" in str(raised.value)


def test_rows_of_one_campaign_and_day_are_summed(tmp_path):
    path = tmp_path / "adsets.csv"
    path.write_text(
        "Day,Campaign name,Campaign ID,Ad set name,Amount spent (EUR),Impressions\n"
        "2026-11-01,Syksy,1,A,10.10,100\n"
        "2026-11-01,Syksy,1,B,0.20,20\n"
    )
    export = spend.read_export(str(path), "en", "EUR")
    (row,) = export.rows
    assert row["spend"] == Decimal("10.30") and row["impressions"] == 120
