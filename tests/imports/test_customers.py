"""`tracker.imports.customers` (and csvfile): the CSV files shops and spreadsheets
export."""

from __future__ import annotations

import pytest

from tracker.imports import CsvError, parse_value, read_csv

ROWS = [
    ("email", "name", "date", "value"),
    ("anna@example.com", "Änni", "2026-10-01", "1 200,50"),
    ("ben@example.com", "", "2026-11-02", "290"),
]


def write(path, text: str, encoding: str):
    path.write_bytes(text.encode(encoding))
    return str(path)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le"])
def test_reads_any_delimiter_and_encoding(tmp_path, delimiter, encoding):
    def cell(value):
        return f'"{value}"' if delimiter in value else value

    text = "\r\n".join(delimiter.join(cell(v) for v in row) for row in ROWS) + "\r\n"
    rows = read_csv(write(tmp_path / "orders.csv", text, encoding))
    assert [(r["email"], r["first_name"], r["value"]) for r in rows] == [
        ("anna@example.com", "Änni", 1200.5),
        ("ben@example.com", None, 290.0),
    ]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("290", 290.0),
        ("120.50", 120.5),
        ("120,50", 120.5),
        ("1 200,50", 1200.5),
        ("1\u00a0200,50", 1200.5),
        ("1\u202f200,50", 1200.5),
        ("1.200,50", 1200.5),
        ("1,200.50", 1200.5),
        ("1.234.567", 1234567.0),
        ("1,234,567", 1234567.0),
        ("1 200,50 €", 1200.5),
        ("€1,200.50", 1200.5),
        ("", None),
    ],
)
def test_decimal_commas_and_thousands(raw, value):
    assert parse_value(raw) == value


@pytest.mark.parametrize("raw", ["abc", "1,2,3.4.5", "-5", "nan", "inf"])
def test_a_value_that_is_no_amount_is_refused(raw):
    with pytest.raises(CsvError):
        parse_value(raw)


def test_a_wrong_file_names_the_missing_column(tmp_path):
    path = write(tmp_path / "x.csv", "Name;Total\nAnna;12\n", "utf-8")
    with pytest.raises(CsvError) as caught:
        read_csv(path)
    text = str(caught.value)
    assert "email" in text and "date" in text and "Name, Total" in text
    assert text.count(".") == 1 and text.endswith(".")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\x01\x02\xff\xfe\x00garbage\x9d\x81",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"email,date\nanna@example.com\n",
        b"email,date\nanna@example.com,1.10.2026x\n",
    ],
)
def test_a_broken_file_is_one_error(tmp_path, content):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(CsvError):
        read_csv(str(path))


def test_the_sentence_speaks_the_sites_language(tmp_path):
    path = write(tmp_path / "x.csv", "Nimi;Summa\nAnna;12\n", "utf-8")
    with pytest.raises(CsvError) as caught:
        read_csv(path, "fi")
    assert str(caught.value).startswith(
        "Tiedostosta puuttuvat sarakkeet “email”, “date”; sen sarakkeet ovat Nimi"
    )
    short = write(tmp_path / "y.csv", "email;date\nanna@example.com\n", "utf-8")
    with pytest.raises(CsvError) as caught:
        read_csv(short, "fi")
    assert str(caught.value) == "Rivillä 2: päivämäärä puuttuu."
