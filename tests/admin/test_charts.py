"""The dashboard's inline SVG charts, number formats and UI strings."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import render_template_string

from tracker import i18n
from tracker.admin import charts, formats, templating
from tracker.journey import visits

from ..conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"
TEMPLATES = ROOT / "tracker" / "templates" / "admin"
EVIL = "<script>alert('x')</script>&\"'"

DAYS = [
    {"day": "2026-03-01", "pageviews": 12, "visitors": 5},
    {"day": "2026-03-03", "pageviews": 30, "visitors": 11},
]
PREVIOUS = [
    {"day": "2026-02-26", "pageviews": 4, "visitors": 2},
    {"day": "2026-02-28", "pageviews": 9, "visitors": 7},
]


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def numbers_only(points: str) -> list[float]:
    return [float(n) for n in re.split(r"[ ,]+", points.strip())]


def test_line_chart_is_valid_svg_with_an_accessible_name():
    svg = parse(
        charts.line_chart(
            DAYS,
            PREVIOUS,
            start="2026-03-01",
            end="2026-03-03",
            title="Visitors per day",
            desc="5 and 11",
            chart_id="c1",
        )
    )
    assert svg.tag == SVG + "svg"
    assert svg.get("role") == "img"
    title, desc = svg.find(SVG + "title"), svg.find(SVG + "desc")
    assert title.text == "Visitors per day" and desc.text == "5 and 11"
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert svg.get("viewBox") == "0 0 720 240"


def test_missing_days_are_zero_and_every_day_gets_a_point():
    svg = parse(
        charts.line_chart(DAYS, [], start="2026-03-01", end="2026-03-03", width=300)
    )
    line = svg.find(f".//{SVG}polyline[@class='chart-line']")
    ys = numbers_only(line.get("points"))[1::2]
    assert len(ys) == 3
    base = max(ys)  # 2 March had no visits: the line touches the baseline
    assert ys[1] == base and ys[2] < ys[0] < base
    circles = svg.findall(f".//{SVG}g[@class='chart-points']/{SVG}circle")
    assert len(circles) == 3
    assert "11" in circles[2].find(SVG + "title").text


def test_previous_period_is_drawn_faintly_under_the_current_one():
    svg = parse(
        charts.line_chart(
            DAYS, PREVIOUS, start="2026-03-01", end="2026-03-03", metric="pageviews"
        )
    )
    previous = svg.find(f".//{SVG}polyline[@class='chart-previous']")
    current = svg.find(f".//{SVG}polyline[@class='chart-line']")
    assert previous is not None and current is not None
    prev_xy = numbers_only(previous.get("points"))
    cur_xy = numbers_only(current.get("points"))
    assert prev_xy[0::2] == cur_xy[0::2]  # day by day, at the same x
    # previous: 26 Feb 4, 27 Feb 0, 28 Feb 9; current: 12, 0, 30
    assert prev_xy[3] > prev_xy[1] > prev_xy[5]
    tooltip = svg.find(f".//{SVG}circle/{SVG}title").text
    assert "12" in tooltip and "4" in tooltip


def test_text_in_a_chart_is_escaped():
    markup = str(
        charts.line_chart(
            [{"day": EVIL, "visitors": 3}],
            [],
            title=EVIL,
            desc=EVIL,
            names=(EVIL, EVIL),
            chart_id='x" onload="alert(1)',
            css_class='c" onclick="x',
        )
    )
    assert "<script" not in markup and "onload=" not in markup
    assert 'onclick="' not in markup
    svg = parse(markup)
    assert svg.find(SVG + "title").text == EVIL
    assert svg.find(SVG + "desc").text == EVIL


def test_empty_data_still_makes_a_valid_chart():
    for days, start, end in (([], None, None), (None, "2026-03-01", "2026-03-07")):
        svg = parse(charts.line_chart(days, None, start=start, end=end))
        assert svg.tag == SVG + "svg"
    empty = parse(charts.line_chart([], []))
    assert empty.find(f".//{SVG}polyline") is None


def test_bad_numbers_do_not_reach_the_markup():
    days = [
        {"day": "2026-03-01", "visitors": "1e999"},
        {"day": "2026-03-02", "visitors": None},
        {"day": "2026-03-03", "visitors": "<b>"},
        {"day": "2026-03-04", "visitors": float("nan")},
        "not a row",
    ]
    markup = str(charts.line_chart(days, [], start="2026-03-01", end="2026-03-04"))
    assert "nan" not in markup.lower() and "inf" not in markup.lower()
    assert "<b>" not in markup
    parse(markup)


def test_a_single_day_is_two_columns_today_and_the_day_before():
    svg = parse(
        charts.line_chart(
            [{"day": "2026-03-02", "visitors": 8}],
            [{"day": "2026-03-01", "visitors": 3}],
            start="2026-03-02",
            end="2026-03-02",
        )
    )
    rects = svg.findall(f"{SVG}rect")
    assert [r.get("class") for r in rects] == ["chart-previous-bar", "chart-bar"]
    assert float(rects[1].get("height")) > float(rects[0].get("height")) > 0
    assert {t.text for t in svg.iter(SVG + "text")} >= {"8", "3"}


def test_long_periods_stay_a_line_without_dots():
    days = [{"day": f"2026-01-{d:02d}", "visitors": d} for d in range(1, 32)]
    days += [{"day": f"2026-02-{d:02d}", "visitors": d} for d in range(1, 29)]
    days += [{"day": f"2026-03-{d:02d}", "visitors": d} for d in range(1, 32)]
    svg = parse(charts.line_chart(days, [], start="2026-01-01", end="2026-03-31"))
    assert svg.find(f".//{SVG}g[@class='chart-points']") is None
    labels = [t.text for t in svg.find(f"{SVG}g[@class='chart-axis']")]
    assert "1 Jan" in labels and "31 Mar" in labels


@pytest.mark.parametrize(
    "value, maximum, width",
    [(5, 10, "50"), (0, 10, "0"), (None, 10, "0"), (3, 0, "0"), (20, 10, "100")],
)
def test_bar(value, maximum, width):
    svg = parse(charts.bar(value, maximum))
    assert svg.get("aria-hidden") == "true"
    fill = svg.find(f"{SVG}rect[@class='bar-fill']")
    assert fill.get("width") == width


def test_a_tiny_share_still_shows():
    fill = parse(charts.bar(1, 100000)).find(f"{SVG}rect[@class='bar-fill']")
    assert float(fill.get("width")) > 0


def test_bar_with_track():
    svg = parse(charts.bar(1, 4, css_class="bar funnel-bar", track=True))
    assert [r.get("class") for r in svg] == ["bar-track", "bar-fill"]
    assert svg.get("class") == "bar funnel-bar"


@pytest.mark.parametrize(
    "value, lang, expected",
    [
        (1234567, "en", "1,234,567"),
        (1234567, "fi", "1\u00a0234\u00a0567"),
        (0, "en", "0"),
        (None, "en", "\u2013"),
        ("x", "fi", "\u2013"),
        (-5, "en", "\u22125"),
    ],
)
def test_format_number(value, lang, expected):
    assert formats.format_number(value, lang) == expected


@pytest.mark.parametrize(
    "value, lang, signed, expected",
    [
        (0.1234, "en", False, "12.3%"),
        (0.1234, "fi", False, "12,3\u00a0%"),
        (1, "en", False, "100.0%"),
        (None, "en", False, "\u2013"),
        (0.5, "en", True, "+50.0%"),
        (-0.25, "en", True, "\u221225.0%"),
        (0, "en", True, "0.0%"),
    ],
)
def test_format_percent(value, lang, signed, expected):
    assert formats.format_percent(value, lang, signed) == expected


def test_dates():
    when = "2026-03-05T14:07:09+00:00"
    assert formats.format_when(when, "en") == "5 Mar 2026, 14:07"
    assert formats.format_when(when, "fi") == "5.3.2026 klo 14.07"
    assert formats.format_date("2026-03-05", "en", year=False) == "5 Mar"
    assert formats.format_date(None) == "\u2013"
    assert formats.format_money(1290.5, "EUR", "fi") == "1\u00a0290,50\u00a0€"


def test_journey_groups_pageviews_into_visits():
    timeline = [
        {
            "ts": "2026-03-01T10:00:00+00:00",
            "type": "pageview",
            "path": "/a/",
            "referrer": "news.example",
            "utm": {"source": "facebook", "campaign": "spring"},
        },
        {
            "ts": "2026-03-01T10:03:00+00:00",
            "type": "pageview",
            "path": "/b/",
            "entry": False,
        },
        {"ts": "2026-03-01T10:04:00+00:00", "type": "signup", "form": "f"},
        {
            "ts": "2026-03-01T10:05:00+00:00",
            "type": "pageview",
            "path": "/c/",
            "entry": False,
        },
        {
            "ts": "2026-03-01T12:00:00+00:00",
            "type": "pageview",
            "path": "/d/",
            "entry": False,
        },
        {"ts": "2026-03-02T09:00:00+00:00", "type": "pageview", "path": "/e/"},
        {"ts": "2026-03-03T09:00:00+00:00", "type": "purchase", "value": 10},
    ]
    items = visits.timeline(timeline)
    assert [i["kind"] for i in items] == [
        "visit",
        "signup",
        "visit",
        "visit",
        "visit",
        "purchase",
    ]
    first, _, rest, later, direct, _ = items
    assert [p["path"] for p in first["pages"]] == ["/a/", "/b/"]
    assert first["source"] == "facebook" and first["campaign"] == "spring"
    assert rest["continued"] and rest["source"] == "facebook"  # after the signup
    assert not later["continued"] and later["source"] == "direct"  # 2 hours later
    assert direct["source"] == "direct" and direct["landing"] == "/e/"
    assert visits.timeline([]) == []


def test_every_string_is_translated():
    catalog = i18n.translations("fi")
    for message in ("Log out", "Overview", "Contacts", "Sources", "Journey funnel"):
        assert catalog.gettext(message) != message, message
    assert catalog.ngettext("%(num)s contact", "%(num)s contacts", 1) == (
        "%(num)s yhteystieto"
    )


def test_language_follows_the_site():
    assert i18n.language("fi-FI") == "fi"
    assert i18n.language("sv") == "en"
    assert i18n.language(None) == "en"
    assert i18n.gettext("fi", "Log out") == "Kirjaudu ulos"
    assert i18n.gettext("de", "Log out") == "Log out"


@pytest.fixture
def wired(app_factory):
    app = app_factory(ADMIN_PASSWORD="pw")
    templating.init_app(app)
    templating.init_app(app)  # twice is harmless
    return app


def test_filters_and_globals(wired):
    with wired.test_request_context(
        "/admin/?source=face<b>&period=7d&_external=1&_scheme=javascript&evil=1"
    ):
        html = render_template_string(
            "{{ 1234|number }} {{ 0.5|percent }} {{ None|percent }} {{ _('Log out') }} "
            "[{{ url_with('admin.overview', drop=('period',), device='mobile') }}] "
            "[{{ url_with('admin.table_csv', table='sources') }}]"
        )
    assert "1,234 50.0% \u2013 Log out" in html
    links = re.findall(r"\[([^\]]*)\]", html)
    assert links[0].startswith("/admin/?")
    assert "source=face%3Cb%3E" in links[0] and "device=mobile" in links[0]
    assert "period" not in links[0]
    assert links[1].startswith("/admin/sources.csv?") and "period=7d" in links[1]
    for link in links:
        assert "_external" not in link and "javascript" not in link
        assert "evil" not in link and "http" not in link


def test_admin_templates_need_no_inline_style_or_script():
    for path in TEMPLATES.glob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script|<style|\sstyle=|\son\w+=", text), path.name
        assert "|safe" not in text.replace(" ", ""), path.name


def test_admin_pages_render_in_finnish(app_factory, tmp_path):
    import json

    app = app_factory(ADMIN_PASSWORD="pw")
    manifest = Path(app.config["DATA_DIR"]) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["site"]["lang"] = "fi"
    manifest.write_text(json.dumps(data))
    client = app.test_client()
    client.post("/admin/login", data={"password": "pw"})
    for url in ("/admin/", "/admin/?period=today", "/admin/contacts"):
        page = client.get(url).get_data(as_text=True)
        assert '<html lang="fi">' in page and "Kirjaudu ulos" in page
