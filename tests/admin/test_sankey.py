"""The journey map's SVG: every band drawn with its count and share, a link where
it holds contacts, every name escaped."""

from __future__ import annotations

import re

from tracker.admin import sankey
from tracker.journey import journey_map

XSS = '<script>alert("x")</script>'


def drawn(people=()):
    rows = [
        {"source": XSS, "landing": "/a/", "visitors": 30},
        {"source": "direct", "landing": "/b/", "visitors": 10},
    ]
    found = journey_map.build(rows, list(people))
    svg = sankey.sankey(
        found,
        lambda node: str(node[1]),
        lambda band: "/admin/contacts?b=1&c=2" if band["people"] else None,
        title="Map",
        desc="The map",
        band_text=lambda a, b, count, share, n: f"{a} → {b}: {count} ({share}) {n}",
    )
    return found, str(svg)


def test_every_band_is_drawn_with_its_count_and_share():
    found, svg = drawn()
    titles = re.findall(
        r'<path class="sankey-band[^"]*" d="[^"]+"><title>(.*?)</title>', svg
    )
    assert len(titles) == len(found["bands"]) == 4
    assert "/a/ → visitor: 30 (75.0%) 0" in titles
    assert "&lt;script&gt;" in svg and "<script" not in svg


def test_a_band_with_contacts_is_a_link_and_thicker_bands_are_thicker():
    person = {"id": "p1", "source": "direct", "content": "/b/", "stage": "lead"}
    _, svg = drawn([person])
    links = re.findall(r'<a href="([^"]+)" aria-label="([^"]+)">', svg)
    assert ("/admin/contacts?b=1&amp;c=2", "direct → /b/: 10 (25.0%) 1") in links
    assert len(links) == 2  # direct -> /b/, and /b/ -> lead
    heights = [
        float(h)
        for h in re.findall(
            r'<rect class="sankey-node (?:source|flow)[^"]*" x="[^"]+" '
            r'y="[^"]+" width="14" height="([^"]+)"',
            svg,
        )
    ]
    assert len(heights) == 2 and abs(heights[0] / heights[1] - 3) < 0.01


def test_long_names_end_in_an_ellipsis():
    assert sankey.short("a" * 40) == "a" * 25 + "…"
    assert sankey.short("short") == "short"
