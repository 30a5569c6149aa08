"""Ad spend from the platforms' own CSV exports: Meta Ads Manager and Google Ads.

A file is recognised by its header, in English, Finnish or Swedish: Meta's
daily breakdown (UTF-8 with a byte-order mark; the currency inside the
`Amount spent (EUR)` header) or a Google Ads report download (a title and the
date range before the header, `Total:` rows after the campaigns, `1,234.56`
and `--` cells; UTF-16 and tabs when saved "for Excel"). Every row is checked
before anything is stored, so a file that cannot be read imports nothing, and
`SpendError` says why in the site's language. Money is a Decimal read from the
cell's text, never a float.

The rows are kept in one storage document (`DOC`), replaced whole: importing
a file replaces what the platform spent on the days the file covers, so the
same file or an overlapping period imported twice counts once.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from .. import clock, i18n
from ..i18n import N_
from ..journey import money
from ..storage import Storage
from .csvfile import CsvError, decode

DOC = "ad_spend"
HEADER_LINES = 12  # a Google report's title and date range come first
DELIMITERS = (",", "\t", ";")
_CURRENCY_IN_HEADER = re.compile(r"\s*\(([A-Za-z]{3})\)\s*$")
_CODE = re.compile(r"^[A-Z]{3}$")
_TOTAL = re.compile(r"^\s*(total|totals|yhteensä|totalt|summa)\b", re.IGNORECASE)
_NONE = ("", "--", "-", "\u2013", "\u2014")
DAY_FORMATS = (
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%b %d, %Y",
    "%a, %b %d, %Y",
    "%B %d, %Y",
    "%A, %B %d, %Y",
    "%d %b %Y",
)

# Column names as each platform's interface writes them, lower-cased, the
# currency in brackets left out ("Amount spent (EUR)" is "amount spent").
META = {
    "day": ("day", "päivä", "dag"),
    "starts": (
        "reporting starts",
        "raportoinnin alku",
        "raportointi alkaa",
        "raportoinnin alkamispäivä",
        "rapporteringen börjar",
        "rapporteringen startar",
        "rapportering startar",
    ),
    "ends": (
        "reporting ends",
        "raportoinnin loppu",
        "raportointi päättyy",
        "raportoinnin päättymispäivä",
        "rapporteringen slutar",
        "rapportering slutar",
    ),
    "campaign": ("campaign name", "kampanjan nimi", "kampanjnamn"),
    "campaign_id": (
        "campaign id",
        "kampanjan tunnus",
        "kampanjan id",
        "kampanj-id",
        "kampanjens id",
    ),
    "spend": (
        "amount spent",
        "käytetty summa",
        "käytetty määrä",
        "spenderat belopp",
        "använt belopp",
    ),
    "currency": ("currency", "valuutta", "valuta"),
    "impressions": ("impressions", "näyttökerrat", "visningar"),
    "clicks": ("link clicks", "linkin klikkaukset", "länkklick"),
    "clicks_all": ("clicks (all)", "klikkaukset (kaikki)", "klick (alla)"),
}
GOOGLE = {
    "day": ("day", "päivä", "dag", "date"),
    "campaign": ("campaign", "kampanja", "kampanj"),
    "campaign_id": ("campaign id", "kampanjan tunnus", "kampanjan id", "kampanj-id"),
    "spend": ("cost", "kulut", "kustannukset", "kostnad"),
    "currency": ("currency code", "currency", "valuuttakoodi", "valutakod"),
    "impressions": ("impr.", "impressions", "näyttökerrat", "visn.", "visningar"),
    "clicks": ("clicks", "klikkaukset", "klick"),
}
LAYOUTS = (("meta", META), ("google", GOOGLE))


class SpendError(CsvError):
    """The file cannot be imported; the message names the line and the cell."""


@dataclass(frozen=True)
class Export:
    """One file's spend: the platform, the days it covers, a row per campaign-day."""

    platform: str
    first: str
    last: str
    rows: list[dict]
    currency_named: bool = True  # False: the file names none; the site's is used


def read_export(path: str, lang: str | None, currency: str) -> Export:
    """Read and check a whole export; currency: for a file that names none."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = decode(raw, lang)
    except CsvError as e:
        raise SpendError(str(e)) from None
    return parse_export(text, lang, currency)


def parse_export(text: str, lang: str | None, currency: str) -> Export:
    lines = text.lstrip("\ufeff").splitlines()
    found = find_header(lines)
    if found is None:
        message = N_(
            "The file is not a Meta Ads Manager or Google Ads CSV export: none of "
            "its first lines names the day, the campaign and the amount spent."
        )
        raise SpendError(i18n.gettext(lang, message))
    platform, columns, at, delimiter, header_currency = found
    span = stated_range(lines[:at])
    reader = csv.reader(io.StringIO("\n".join(lines[at + 1 :])), delimiter=delimiter)
    width = len(next(csv.reader([lines[at]], delimiter=delimiter)))
    merged: dict[tuple, dict] = {}
    number = at + 2
    try:
        for cells in reader:
            number = at + 1 + reader.line_num
            try:
                row = read_row(cells, width, columns, lang, header_currency or currency)
            except ValueError as e:
                message = N_("In row %(row)d: %(reason)s.")
                raise SpendError(
                    i18n.gettext(lang, message, row=number, reason=e)
                ) from None
            if row is None:
                continue
            if row.pop("span") != (row["day"], row["day"]):
                message = N_(
                    "The Meta export is not broken down by day: in Ads Manager "
                    "choose Breakdown, By time, Day, then export again."
                )
                raise SpendError(i18n.gettext(lang, message))
            key = (row["day"], row["campaign_id"], row["campaign"], row["currency"])
            if key in merged:  # ad sets or ads of one campaign: their sum
                for name in ("spend", "impressions", "clicks"):
                    merged[key][name] += row[name]
            else:
                merged[key] = row
    except csv.Error:
        message = N_("Line %(line)d of the file is not CSV.")
        raise SpendError(i18n.gettext(lang, message, line=number)) from None
    if not merged:
        raise SpendError(i18n.gettext(lang, N_("The file has no spend rows.")))
    rows = sorted(merged.values(), key=lambda r: (r["day"], r["campaign_id"]))
    days = [r["day"] for r in rows] + [d for d in span if d]
    named = header_currency is not None or columns["currency"] is not None
    return Export(platform, min(days), max(days), rows, named)


def find_header(lines: list[str]):
    """(platform, column of each field, line, delimiter, currency) or None."""
    for at, line in enumerate(lines[:HEADER_LINES]):
        for delimiter in DELIMITERS:
            if delimiter not in line:
                continue
            cells = next(csv.reader([line], delimiter=delimiter))
            names, currency = [], None
            for cell in cells:
                name, code = header_name(cell)
                names.append(name)
                if code and name in META["spend"] + GOOGLE["spend"]:
                    currency = code
            for platform, layout in LAYOUTS:
                columns = {
                    field: next((names.index(a) for a in aliases if a in names), None)
                    for field, aliases in layout.items()
                }
                dated = columns["day"] is not None or (
                    columns.get("starts") is not None
                    and columns.get("ends") is not None
                )
                named = {columns["campaign"], columns["campaign_id"]} != {None}
                if dated and named and columns["spend"] is not None:
                    return platform, columns, at, delimiter, currency
    return None


def header_name(cell: str) -> tuple[str, str | None]:
    """("amount spent", "EUR") for "Amount spent (EUR)"."""
    text = " ".join(cell.replace("\ufeff", "").split())
    match = _CURRENCY_IN_HEADER.search(text)
    if match:
        return text[: match.start()].casefold(), match.group(1).upper()
    return text.casefold(), None


def stated_range(preamble: list[str]) -> tuple[str | None, str | None]:
    """The first and last day a Google report's title lines state, if they do."""
    for line in preamble:
        text = line.strip().strip('"')
        parts = re.split(r"\s+[-\u2013]\s+", text)
        if len(parts) == 2:
            try:
                return day_of(parts[0]), day_of(parts[1])
            except ValueError:
                continue
    return None, None


def read_row(cells, width, columns, lang, currency) -> dict | None:
    """One campaign-day, or None for a blank line or a total."""
    if not any(c.strip() for c in cells) or _TOTAL.match(cells[0] if cells else ""):
        return None
    if len(cells) != width:
        message = N_("it has %(found)d cells where the header has %(wanted)d")
        raise ValueError(i18n.gettext(lang, message, found=len(cells), wanted=width))

    def cell(field: str) -> str:
        index = columns.get(field)
        return cells[index].strip() if index is not None else ""

    name, campaign_id = cell("campaign"), cell("campaign_id").lstrip("'")
    if not name and not campaign_id:
        return None  # a summary line names no campaign
    if columns["day"] is not None:
        day = checked_day(cell("day"), lang)
        span = (day, day)
    else:
        span = (checked_day(cell("starts"), lang), checked_day(cell("ends"), lang))
        day = span[0]
    code = (cell("currency") or currency).upper()
    if not _CODE.match(code):
        message = N_("the currency %(value)s is not a three-letter code such as EUR")
        raise ValueError(i18n.gettext(lang, message, value=repr(code)))
    clicks = cell("clicks") if columns["clicks"] is not None else cell("clicks_all")
    return {
        "day": day,
        "span": span,
        "campaign_id": campaign_id,
        "campaign": name,
        "spend": amount(cell("spend"), lang),
        "currency": code,
        "impressions": count(cell("impressions"), lang),
        "clicks": count(clicks, lang),
    }


def day_of(text: str) -> str:
    """An ISO day from the ways the exports write one; ValueError if none."""
    text = " ".join(text.split())
    for form in DAY_FORMATS:
        try:
            return datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    return date.fromisoformat(text[:10]).isoformat()


def checked_day(text: str, lang: str | None) -> str:
    try:
        return day_of(text)
    except ValueError:
        message = N_("the day %(value)s is not a date such as 2026-11-30")
        raise ValueError(i18n.gettext(lang, message, value=repr(text))) from None


def amount(text: str, lang: str | None = None) -> Decimal:
    """Decimal("1234.56") from "1,234.56", "1 234,56" or "1234.56"; "--" is 0.

    With both a comma and a dot the last one is the decimal separator; a lone
    comma before three digits groups thousands (Google's "1,234").
    """
    cell = re.sub(r"[\s\u00a0\u202f€$£]", "", text)
    if cell in _NONE:
        return Decimal(0)
    if "," in cell and "." in cell:
        thousands = "," if cell.rfind(".") > cell.rfind(",") else "."
        cell = cell.replace(thousands, "").replace(",", ".")
    elif "," in cell:
        grouped = re.fullmatch(r"\d{1,3}(,\d{3})+", cell)
        cell = cell.replace(",", "") if grouped else cell.replace(",", ".")
    elif cell.count(".") > 1:
        cell = cell.replace(".", "")
    if not re.fullmatch(r"\d+(\.\d+)?", cell):
        message = N_("the amount %(value)s is not a number such as 1,234.56")
        raise ValueError(i18n.gettext(lang, message, value=repr(text)))
    try:
        return Decimal(cell)
    except InvalidOperation:  # pragma: no cover - the pattern above allows none
        raise ValueError(text) from None


def count(text: str, lang: str | None = None) -> int:
    """1234 from "1,234", "1 234" or "1234"; "--" and an empty cell are 0."""
    cell = re.sub(r"[\s\u00a0\u202f]", "", text)
    if cell in _NONE:
        return 0
    digits = cell.replace(",", "").replace(".", "")
    grouped = re.fullmatch(r"\d{1,3}([,.]\d{3})*", cell)
    if not digits.isdigit() or (digits != cell and not grouped):
        message = N_("the count %(value)s is not a whole number")
        raise ValueError(i18n.gettext(lang, message, value=repr(text)))
    return int(digits)


# -- the stored document ---------------------------------------------------------


def save(storage: Storage, export: Export, file: str) -> dict:
    """Replace the platform's spend on the export's days with its rows, at once."""
    note = {"file": file, "at": clock.now().isoformat()}
    return storage.update_meta(
        DOC,
        lambda old: money.replace(
            old, export.platform, export.first, export.last, export.rows, note
        ),
    )


def load(storage: Storage) -> dict:
    """The stored spend and the owner's campaign mapping (empty if none)."""
    return storage.get_meta(DOC) or money.empty()


def set_mapping(storage: Storage, utm_campaign: str, campaign_id: str | None) -> dict:
    """Map a UTM campaign to a platform's campaign id (None: remove the mapping)."""
    return storage.update_meta(
        DOC, lambda old: money.mapped(old, utm_campaign, campaign_id)
    )
