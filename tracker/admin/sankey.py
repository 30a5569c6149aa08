"""The journey map drawn as a Sankey diagram: inline SVG, no script.

Pure: the map (`journey.journey_map.build`), the names of its nodes and the
links of its bands in, markup out. As in `charts`, every text goes through
`markupsafe.escape`, sizes are SVG geometry and colours come from admin.css
through class names (the dashboard's CSP forbids style attributes). A band
that holds contacts is a link to them; its title says its count and share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape

from .charts import _num, _safe_id
from .formats import format_number, format_percent

Node = tuple[str, Any]  # (column, key)
NODE_WIDTH = 14
GAP = 12
SLOT = 30  # the least room a node takes in its column: its two lines of label
LABEL_CHARS = 26


def short(text: str, limit: int = LABEL_CHARS) -> str:
    """A label that fits beside its node: long names end in an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def layout(
    journey: Mapping, top: float, height: float
) -> tuple[dict[Node, list[float]], float]:
    """Each node's [y, height] in its column, and the visitors-to-pixels scale.

    One scale for every column (they all hold every visitor), the one that
    lets the column with the most nodes fit; each column is centred. A small
    node still takes SLOT of its column, so that labels never overlap (the
    column may then reach below top + height).
    """
    columns = journey["columns"]
    total = journey["total"] or 1
    scale = min(
        (height - GAP * (len(nodes) - 1)) / total for nodes in columns.values() if nodes
    )
    scale = max(scale, 0.0)
    placed: dict[Node, list[float]] = {}
    for column, nodes in columns.items():
        sizes = [max(n["count"] * scale, 1.0) for n in nodes]
        used = sum(max(size, SLOT) for size in sizes) + GAP * (len(nodes) - 1)
        y = top + max((height - used) / 2, 0)
        for node, size in zip(nodes, sizes, strict=True):
            placed[(column, node["key"])] = [y, size]
            y += max(size, SLOT) + GAP
    return placed, scale


def band_path(x0: float, y0: float, x1: float, y1: float, thick: float) -> str:
    """A band of constant thickness from (x0, y0) to (x1, y1), its top edge given."""
    mid = (x0 + x1) / 2
    return (
        f"M{_num(x0)},{_num(y0)} C{_num(mid)},{_num(y0)} {_num(mid)},{_num(y1)} "
        f"{_num(x1)},{_num(y1)} L{_num(x1)},{_num(y1 + thick)} "
        f"C{_num(mid)},{_num(y1 + thick)} {_num(mid)},{_num(y0 + thick)} "
        f"{_num(x0)},{_num(y0 + thick)} Z"
    )


def sankey(
    journey: Mapping,
    name: Callable[[Node], str],
    link: Callable[[Mapping], str | None],
    *,
    title: str,
    desc: str,
    band_text: Callable[[str, str, str, str, int], str],
    headings: tuple[str, str, str] = ("", "", ""),
    width: int = 960,
    height: int | None = None,
    lang: str = "en",
    chart_id: str = "journey-map",
) -> Markup:
    """Draw the map: three columns of nodes and the bands between them.

    name(node) names a node; link(band) is the URL of the contacts a band
    holds, or None; band_text(from, to, count, share, people) is a band's
    title (its accessible name when it is a link); headings: the columns'.
    """
    columns = journey["columns"]
    most = max((len(nodes) for nodes in columns.values()), default=1)
    height = height or max(320, 44 * most + 40)
    label_w, top_pad = 190, 28
    plot = (top_pad, height - top_pad - 12)
    xs = {
        "source": label_w,
        "content": (width - NODE_WIDTH) / 2,
        "stage": width - label_w - NODE_WIDTH,
    }
    placed, scale = layout(journey, *plot)
    bottom = max((y + max(size, SLOT) for y, size in placed.values()), default=0)
    height = max(height, int(bottom) + 12)
    cid = _safe_id(chart_id)
    total = journey["total"]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sankey" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="group" aria-labelledby="{cid}-title {cid}-desc">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
        '<g class="sankey-bands">',
    ]
    out_at = {node: y for node, (y, _) in placed.items()}
    in_at = dict(out_at)
    for band in journey["bands"]:
        start, end = tuple(band["from"]), tuple(band["to"])
        if start not in placed or end not in placed:
            continue
        thick = max(band["count"] * scale, 1.0)
        y0, y1 = out_at[start], in_at[end]
        out_at[start] += thick
        in_at[end] += thick
        x0 = xs[start[0]] + NODE_WIDTH
        path = band_path(x0, y0, xs[end[0]], y1, thick)
        kind = f"stage-{end[1]}" if end[0] == "stage" else "flow"
        text = band_text(
            name(start),
            name(end),
            format_number(band["count"], lang),
            format_percent(band["share"], lang),
            len(band["people"]),
        )
        shape = (
            f'<path class="sankey-band {kind}" d="{path}">'
            f"<title>{escape(text)}</title></path>"
        )
        href = link(band)
        if href:
            shape = f'<a href="{escape(href)}" aria-label="{escape(text)}">{shape}</a>'
        out.append(shape)
    out.append('</g><g class="sankey-nodes" font-size="12">')
    for column, heading in zip(("source", "content", "stage"), headings, strict=True):
        x, anchor = xs[column], "start"
        if column == "source":
            x, anchor = x + NODE_WIDTH, "end"
        out.append(
            f'<text class="sankey-heading" x="{_num(x)}" y="14" '
            f'text-anchor="{anchor}">{escape(heading)}</text>'
        )
    for (column, key), (y, size) in placed.items():
        count = sum(n["count"] for n in columns[column] if n["key"] == key)
        label = name((column, key))
        numbers = (
            f"{format_number(count, lang)} · "
            f"{format_percent(count / total if total else None, lang)}"
        )
        kind = f"stage-{key}" if column == "stage" else column
        x = xs[column]
        out.append(
            f'<rect class="sankey-node {kind}" x="{_num(x)}" y="{_num(y)}" '
            f'width="{NODE_WIDTH}" height="{_num(size)}">'
            f"<title>{escape(label)}: {escape(numbers)}</title></rect>"
        )
        if column == "source":
            tx, anchor = x - 6, "end"
        else:
            tx, anchor = x + NODE_WIDTH + 6, "start"
        middle = y + max(size, SLOT) / 2  # a small node's label: in its slot
        out.append(
            f'<text class="sankey-label" x="{_num(tx)}" y="{_num(middle - 2)}" '
            f'text-anchor="{anchor}">{escape(short(label))}</text>'
            f'<text class="sankey-count" x="{_num(tx)}" y="{_num(middle + 12)}" '
            f'text-anchor="{anchor}">{escape(numbers)}</text>'
        )
    out.append("</g></svg>")
    return Markup("".join(out))
