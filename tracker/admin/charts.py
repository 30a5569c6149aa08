"""Inline SVG charts for the owner's dashboard: a line chart per day, bars.

Pure functions: numbers in, markup out. Every piece of text that reaches an
SVG goes through `markupsafe.escape`; everything else in the markup is a
number we formatted ourselves (`formats`). The dashboard's
Content-Security-Policy blocks style attributes, so sizes are SVG geometry and
colours come from admin.css through class names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

from .formats import finite as _finite
from .formats import format_date, format_number
from .formats import parse as _parse

# -- charts ----------------------------------------------------------------------


def _num(x: float) -> str:
    """A coordinate: at most one decimal, never an exponent."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _safe_id(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "", value) or "chart"


def _value(row: Any, metric: str) -> float:
    if isinstance(row, Mapping):
        number = _finite(row.get(metric))
    else:
        number = None
    return max(number or 0.0, 0.0)


def _series(
    days: Iterable[Mapping], metric: str, start: date | None, end: date | None
) -> list[tuple[str, float]]:
    """Return (ISO day, value) for every day from start to end, zeros filled in."""
    by_day: dict[str, float] = {}
    for row in days or ():
        if isinstance(row, Mapping) and row.get("day"):
            key = str(row["day"])[:10]
            by_day[key] = by_day.get(key, 0.0) + _value(row, metric)
    if start is None or end is None or end < start:
        return sorted(by_day.items())
    span = min((end - start).days, 3660)
    keys = [(start + timedelta(days=i)).isoformat() for i in range(span + 1)]
    return [(k, by_day.get(k, 0.0)) for k in keys]


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    dt = _parse(value)
    return dt.date() if dt else None


def nice_scale(maximum: float, steps: int = 4) -> tuple[float, float]:
    """Return (top, step) of a y axis: round steps (1, 2, 5 x 10^n) above maximum."""
    if maximum <= 0:
        return float(steps), 1.0
    raw = maximum / steps
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw - 1e-9)
    step = max(step, 1.0)
    return step * math.ceil(maximum / step - 1e-9), step


def line_chart(
    days: Iterable[Mapping],
    previous_days: Iterable[Mapping] | None = (),
    *,
    metric: str = "visitors",
    start: Any = None,
    end: Any = None,
    width: int = 720,
    height: int = 240,
    title: str = "",
    desc: str = "",
    names: tuple[str, str] = ("This period", "Previous period"),
    lang: str = "en",
    chart_id: str = "chart",
    css_class: str = "chart",
    x_labels: int = 6,
) -> Markup:
    """Draw a metric per day as a line over a shaded area, the previous period faint.

    `days` and `previous_days` are rows like {"day": "2026-03-01", "visitors": 3};
    with `start` and `end` (ISO dates) missing days count as zero and the previous
    period is laid under the current one day by day.
    """
    first, last = _as_date(start), _as_date(end)
    current = _series(days, metric, first, last)
    if first and last:
        span = (last - first).days + 1
        p_first = first - timedelta(days=span)
        previous = _series(previous_days or (), metric, p_first, first - timedelta(1))
    else:
        previous = _series(previous_days or (), metric, None, None)
    width, height = max(int(width), 120), max(int(height), 80)
    cid = _safe_id(chart_id)
    values = [v for _, v in current] + [v for _, v in previous[: len(current)]]
    headroom = 1.15 if len(current) == 1 else 1.0  # room for the value labels
    top, step = nice_scale(max(values, default=0.0) * headroom)
    ticks = [step * i for i in range(int(round(top / step)) + 1)]
    tick_labels = [format_number(v, lang) for v in ticks]
    font = 12
    left = 10 + max(len(label) for label in tick_labels) * 7
    right, top_pad, bottom = 14, 12, 28
    plot_w = width - left - right
    plot_h = height - top_pad - bottom
    base = top_pad + plot_h
    n = len(current)

    def x_at(i: int) -> float:
        return left + (plot_w / 2 if n <= 1 else plot_w * i / (n - 1))

    def y_at(v: float) -> float:
        return base - (v / top) * plot_h if top else base

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{cid}-title {cid}-desc" focusable="false">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
        '<g class="chart-grid">',
    ]
    for value in ticks:
        y = _num(y_at(value))
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}"/>')
    out.append('</g><g class="chart-axis" font-size="12">')
    for value, label in zip(ticks, tick_labels, strict=True):
        y = _num(y_at(value) + font / 3)
        out.append(
            f'<text x="{left - 8}" y="{y}" text-anchor="end">{escape(label)}</text>'
        )
    if n == 1:
        out.append("</g>")
        out.extend(
            _two_columns(
                current[0], previous[:1], x_at(0), y_at, base, names, lang, height
            )
        )
    elif n:
        count = max(min(x_labels, n), 1)
        picks = sorted({round(i * (n - 1) / max(count - 1, 1)) for i in range(count)})
        for i in picks:
            anchor = "start" if i == 0 else ("end" if i == n - 1 else "middle")
            label = format_date(current[i][0], lang, year=False)
            out.append(
                f'<text x="{_num(x_at(i))}" y="{height - 8}" '
                f'text-anchor="{anchor}">{escape(label)}</text>'
            )
        out.append("</g>")
        if previous:
            points = " ".join(
                f"{_num(x_at(i))},{_num(y_at(v))}"
                for i, (_, v) in enumerate(previous[:n])
            )
            out.append(f'<polyline class="chart-previous" points="{points}"/>')
        coords = [(x_at(i), y_at(v)) for i, (_, v) in enumerate(current)]
        line = " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)
        area = (
            f"M{_num(coords[0][0])},{_num(base)} L"
            + " L".join(f"{_num(x)},{_num(y)}" for x, y in coords)
            + f" L{_num(coords[-1][0])},{_num(base)} Z"
        )
        out.append(f'<path class="chart-area" d="{area}"/>')
        out.append(f'<polyline class="chart-line" points="{line}"/>')
        if n <= 62:
            out.append('<g class="chart-points">')
            for i, ((day, v), (x, y)) in enumerate(zip(current, coords, strict=True)):
                label = f"{format_date(day, lang)}: {names[0]} {format_number(v, lang)}"
                if i < len(previous):
                    label += f"; {names[1]} {format_number(previous[i][1], lang)}"
                r = 4 if n <= 31 else 2.5
                out.append(
                    f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{r}">'
                    f"<title>{escape(label)}</title></circle>"
                )
            out.append("</g>")
    else:
        out.append("</g>")
    out.append("</svg>")
    return Markup("".join(out))


def _two_columns(day, previous, centre, y_at, base, names, lang, height) -> list[str]:
    """One day (today): a column for it beside a faint one for the day before."""
    width = 56
    gap = 14
    out = []
    columns = []
    if previous:
        columns.append(
            ("chart-previous-bar", previous[0], names[1], centre - gap / 2 - width)
        )
        columns.append(("chart-bar", day, names[0], centre + gap / 2))
    else:
        columns.append(("chart-bar", day, names[0], centre - width / 2))
    for css, (key, value), name, x in columns:
        top = y_at(value)
        label = f"{format_date(key, lang)}: {name} {format_number(value, lang)}"
        out.append(
            f'<rect class="{css}" x="{_num(x)}" y="{_num(top)}" width="{width}" '
            f'height="{_num(max(base - top, 0))}"><title>{escape(label)}</title></rect>'
        )
        middle = _num(x + width / 2)
        shown = escape(format_number(value, lang))
        day_label = escape(format_date(key, lang, year=False))
        out.append(
            f'<text class="chart-value" x="{middle}" y="{_num(top - 6)}" '
            f'text-anchor="middle" font-size="12">{shown}</text>'
        )
        out.append(
            f'<text class="chart-day" x="{middle}" y="{height - 8}" '
            f'text-anchor="middle" font-size="12">{day_label}</text>'
        )
    return out


def bar(
    value: Any, maximum: Any, css_class: str = "bar", track: bool = False
) -> Markup:
    """A horizontal bar, value/maximum of the full width; decorative (aria-hidden).

    Its width comes from the surrounding CSS; the SVG stretches to fit it.
    """
    v, top = _finite(value) or 0.0, _finite(maximum) or 0.0
    share = min(max(v / top, 0.0), 1.0) if top > 0 else 0.0
    width = _num(share * 100)
    if 0 < share and float(width) < 0.5:
        width = "0.5"  # a sliver still shows that there is something
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
        'viewBox="0 0 100 10" preserveAspectRatio="none" width="100" height="10" '
        'aria-hidden="true" focusable="false">'
    ]
    if track:
        parts.append('<rect class="bar-track" width="100" height="10"/>')
    parts.append(f'<rect class="bar-fill" width="{width}" height="10"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def daily_rows(
    days: Iterable[Mapping],
    previous_days: Iterable[Mapping] | None = (),
    start: Any = None,
    end: Any = None,
) -> list[dict]:
    """The chart's numbers as table rows: each day with the previous period's twin."""
    first, last = _as_date(start), _as_date(end)
    metrics = ("visitors", "pageviews")
    current = {m: _series(days, m, first, last) for m in metrics}
    if first and last:
        span = (last - first).days + 1
        p_first, p_last = first - timedelta(days=span), first - timedelta(days=1)
    else:
        p_first = p_last = None
    previous = {m: _series(previous_days or (), m, p_first, p_last) for m in metrics}
    rows = []
    for i, (day, visitors) in enumerate(current["visitors"]):
        rows.append(
            {
                "day": day,
                "visitors": int(visitors),
                "pageviews": int(current["pageviews"][i][1]),
                "previous_day": previous["visitors"][i][0]
                if i < len(previous["visitors"])
                else None,
                "previous_visitors": int(previous["visitors"][i][1])
                if i < len(previous["visitors"])
                else None,
                "previous_pageviews": int(previous["pageviews"][i][1])
                if i < len(previous["pageviews"])
                else None,
            }
        )
    return rows
