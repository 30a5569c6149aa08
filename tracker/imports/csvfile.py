"""A CSV file as shops, spreadsheets and mail tools write it.

Comma, semicolon or tab between the cells; UTF-8 with or without a
byte-order mark, UTF-16 (Excel's "Unicode text") or Windows-1252. A file that
cannot be read raises `CsvError`, whose message is one sentence in the
site's language.
"""

from __future__ import annotations

import codecs
import csv
import io

from .. import i18n
from ..i18n import N_

DELIMITERS = (",", ";", "\t")


class CsvError(ValueError):
    """The file cannot be imported; the message names the row and the column."""


def decode(raw: bytes, lang: str | None = None) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 or Windows-1252."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    elif raw.startswith(codecs.BOM_UTF8):
        encodings = ("utf-8-sig",)
    elif raw[1:200:2].count(0) > len(raw[1:200:2]) * 0.4:
        encodings = ("utf-16-le",)  # UTF-16 without its mark
    elif raw[0:200:2].count(0) > len(raw[0:200:2]) * 0.4:
        encodings = ("utf-16-be",)
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    message = N_("The file is not text a spreadsheet saves as CSV (UTF-8 or UTF-16).")
    raise CsvError(i18n.gettext(lang, message))


def read_table(
    path: str, lang: str | None = None
) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header (its cells as found, stripped) and every row with its number.

    A row is {header cell: value}; a cell missing at the end of a short row
    is None. The whole file is read first, so that a broken one imports nothing.
    """
    with open(path, "rb") as f:
        text = decode(f.read(), lang).lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first.count)
    if not first.count(delimiter):
        delimiter = ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [(h or "").strip() for h in reader.fieldnames or []]
        if not any(header):
            raise CsvError(i18n.gettext(lang, N_("The file is empty.")))
        reader.fieldnames = header
        return header, [(n, row) for n, row in enumerate(reader, start=2)]
    except csv.Error:
        message = N_("Line %(line)d of the file is not CSV.")
        raise CsvError(i18n.gettext(lang, message, line=reader.line_num)) from None
