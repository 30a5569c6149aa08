"""Numbers, percentages, money, dates and times as the dashboard shows them.

Babel's formats for the site's locale (through `tracker.i18n`), with what a
dashboard adds: a dash for a missing number, a true minus sign, a signed
change, whole amounts of money without cents. Pure: values in, text out.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

from babel import dates as babel_dates

from .. import i18n
from ..i18n import N_

DASH = "\u2013"  # shown for a missing number
MINUS = "\u2212"
NBSP = "\u00a0"
DATE_AND_TIME = N_("%(date)s, %(time)s")  # "3.3.2026 klo 14.05" in Finnish


def finite(value: Any) -> float | None:
    """The value as a float, or None for booleans, text and infinities."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_number(value: Any, lang: str | None = "en", decimals: int = 0) -> str:
    """1234567 -> "1,234,567" (en) or "1 234 567" (fi); None -> "–"."""
    number = finite(value)
    if number is None:
        return DASH
    return i18n.format_number(number, lang, decimals).replace("-", MINUS)


def format_percent(value: Any, lang: str | None = "en", signed: bool = False) -> str:
    """A ratio as a percentage with one decimal: 0.1234 -> "12.3%" / "12,3 %"."""
    number = finite(value)
    if number is None:
        return DASH
    # The sign never sits apart from the number, nor the percent sign (fi).
    text = i18n.format_percent(abs(number), lang, 1).replace(" ", NBSP)
    sign = ""
    if signed and round(number * 1000):
        sign = "+" if number > 0 else MINUS
    elif number < 0 and round(number * 1000):
        sign = MINUS
    return sign + text


def format_money(
    value: Any, currency: str | None = None, lang: str | None = "en"
) -> str:
    """An amount in its currency ("€1,290.50" / "1 290,50 €"); whole amounts
    without cents when no currency is known."""
    number = finite(value)
    if number is None:
        return DASH
    if currency:
        return i18n.format_money(number, currency, lang).replace("-", MINUS)
    return format_number(number, lang, 0 if number == int(number) else 2)


def format_duration(seconds: Any, lang: str | None = "en") -> str:
    """A duration in its largest sensible unit: "3 days", "2 tuntia", "< 1 minute";
    None -> "–"."""
    number = finite(seconds)
    if number is None:
        return DASH
    text = babel_dates.format_timedelta(
        timedelta(seconds=max(number, 60.0)),
        granularity="minute",
        threshold=1.5,
        locale=i18n.locale(lang),
    )
    return text if number >= 60 else "<\u00a0" + text


def parse(value: Any) -> datetime | None:
    """A datetime from an ISO string, a date or a datetime; None if it is none."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def format_date(value: Any, lang: str | None = "en", year: bool = True) -> str:
    """An ISO date or time as a date: "3 Mar 2026" (en) or "3.3.2026" (fi)."""
    dt = parse(value)
    if dt is None:
        return DASH if value in (None, "") else str(value)
    if year:
        return i18n.format_date(dt, lang)
    return babel_dates.format_skeleton("dMMM", dt, locale=i18n.locale(lang))


def format_when(value: Any, lang: str | None = "en") -> str:
    """An ISO timestamp (UTC) as date and time: "3 Mar 2026, 14:05"."""
    dt = parse(value)
    if dt is None:
        return DASH if value in (None, "") else str(value)
    time = babel_dates.format_time(dt, "short", locale=i18n.locale(lang))
    text = i18n.gettext(lang, DATE_AND_TIME)
    return text % {"date": format_date(dt, lang), "time": time}
