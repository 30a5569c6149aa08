"""The dashboard's journey map: the period's visitors from their first source,
through the first content they read, to the stage they reached; the time to
convert per source; and the contacts one band of the map holds.

The rules are the core's (`journey.journey_map`); the visitors come from the
daily counters, the people from their facts (those with something in the
period), kept until a contact changes (as the overview's numbers about people are).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request, url_for

from .. import clock, i18n
from ..db import get_storage
from ..journey import journey_map as rules
from ..web.site import gettext as _
from ..web.site import manifest, ngettext, site_lang
from . import data, formats, sankey
from .blueprint import bp
from .labels import LABELS

_cache: dict[tuple, dict] = {}


def people_part(storage, start: date, end: date) -> dict[str, Any]:
    """The period's cohort and times to convert, kept until a contact changes."""
    version = storage.people_version()
    key = (id(storage), version, start, end, clock.now().date())
    if version is not None and key in _cache:
        return _cache[key]
    since, until = start.isoformat(), end.isoformat()
    contacts = list(storage.people_facts(since, until))  # the period's people
    part = {
        "cohort": rules.cohort(contacts, since, until),
        "timing": rules.time_to_convert(contacts, since, until),
    }
    if version is not None:
        if len(_cache) > 16:
            _cache.clear()
        _cache[key] = part
    return part


def journey_of(start: date, end: date) -> tuple[dict, dict]:
    """The map and the people part of [start, end]."""
    storage = get_storage()
    summary = storage.summary(start.isoformat(), end.isoformat(), {})
    part = people_part(storage, start, end)
    return rules.build(summary["first_visits"], part["cohort"]), part


def node_name(node: tuple[str, Any]) -> str:
    """A node's name in the site's language: a page's title, a stage's name."""
    column, key = node
    if key is None:
        return _("Not recorded")
    if key == rules.OTHER:
        return _("Other sources") if column == "source" else _("Other pages")
    if column == "stage":
        return _("Not yet a lead") if key == "visitor" else _(LABELS["stages"][key])
    if column == "content":
        for post in manifest().get("posts") or []:
            if "/" + str(post.get("url", "")).lstrip("/") == key:
                return str(post.get("title") or key)
    return str(key)


def band_arg(node: tuple[str, Any]) -> str:
    return f"{node[0]}:{node[1]}"


def band_link(start: date, end: date):
    def link(band) -> str | None:
        if not band["people"]:
            return None
        return url_for(
            "admin.contacts",
            band_from=band_arg(band["from"]),
            band_to=band_arg(band["to"]),
            map_from=start.isoformat(),
            map_to=end.isoformat(),
        )

    return link


def band_text(start: str, end: str, count: str, share: str, people: int) -> str:
    text = _(
        "%(start)s → %(end)s: %(count)s visitors (%(share)s)",
        start=start,
        end=end,
        count=count,
        share=share,
    )
    if people:
        text += "; " + ngettext(
            "show the %(num)d contact", "show the %(num)d contacts", people
        )
    return text


@bp.get("/journey")
def journey():
    period, start, end = data.period_range(request.args)
    found, part = journey_of(start, end)
    link = band_link(start, end)
    bands = [
        {
            **band,
            "from_name": node_name(band["from"]),
            "to_name": node_name(band["to"]),
            "link": link(band),
        }
        for band in found["bands"]
    ]
    title = _("Journey map")
    lang = i18n.language(site_lang())
    chart = sankey.sankey(
        found,
        node_name,
        link,
        title=title,
        desc=_(
            "%(count)s visitors of the period, from their first source through "
            "the first page they read to the stage they reached.",
            count=formats.format_number(found["total"], lang),
        ),
        band_text=band_text,
        headings=(_("First source"), _("First page read"), _("Stage reached")),
        lang=lang,
    )
    return render_template(
        "admin/journey.html",
        period=period,
        start=start.isoformat(),
        end=end.isoformat(),
        journey=found,
        bands=bands,
        chart=chart,
        timing=part["timing"],
        node_name=node_name,
    )


def band_members(args) -> dict[str, Any] | None:
    """The contacts of the band a contacts list is asked for (`band_from`,
    `band_to`, `map_from`, `map_to`), with the band's names; None if none is."""
    if not all(args.get(k) for k in ("band_from", "band_to", "map_from", "map_to")):
        return None
    query = {"period": "custom", "from": args["map_from"], "to": args["map_to"]}
    _period, start, end = data.period_range(query)
    nodes = []
    for arg in (args["band_from"], args["band_to"]):
        column, _sep, key = str(arg)[:400].partition(":")
        nodes.append((column, key))
    found, _part = journey_of(start, end)
    ids = rules.band_people(found, nodes[0], nodes[1])
    return {
        "ids": set(ids or ()),
        "from_name": node_name(nodes[0]),
        "to_name": node_name(nodes[1]),
        "start": start.isoformat(),
        "end": end.isoformat(),
    }
