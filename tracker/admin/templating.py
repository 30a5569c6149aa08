"""The dashboard's template wiring: gettext, its filters and its globals, in one place.

Templates speak the site's language (`tracker.web.site.site_lang`) through
`jinja2.ext.i18n`: `_()`, `{% trans %}` and plurals from the catalogues. The
filters format in the same language (`formats`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import request, url_for
from jinja2 import pass_context

from .. import i18n
from ..journey.counters import DIMENSIONS
from ..journey.visits import timeline
from ..web.site import site_lang
from . import charts, formats
from .labels import CONTEXTS, LABELS

KEPT_ARGS = (
    "period",
    "from",
    "to",
    "touch",
    "metric",
    "all",
    "q",
    "stage",
    "segment",
    "page",
    "band_from",
    "band_to",
    "map_from",
    "map_to",
)


class Count(int):
    """A whole number that prints as the site's locale writes it ("1,234").

    `{% trans num=n|counted %}` picks the plural form by the number and shows
    it formatted.
    """

    text: str

    def __new__(cls, value: int, text: str) -> Count:
        count = super().__new__(cls, value)
        count.text = text
        return count

    def __str__(self) -> str:
        return self.text


def lang_of(ctx) -> str:
    return ctx.get("lang") or i18n.FALLBACK


@pass_context
def number(ctx, value, decimals=0):
    return formats.format_number(value, lang_of(ctx), decimals)


@pass_context
def counted(ctx, value):
    return Count(int(value), formats.format_number(value, lang_of(ctx)))


@pass_context
def percent(ctx, value, signed=False):
    return formats.format_percent(value, lang_of(ctx), signed)


@pass_context
def money(ctx, value, currency=None):
    return formats.format_money(value, currency, lang_of(ctx))


@pass_context
def duration(ctx, seconds):
    return formats.format_duration(seconds, lang_of(ctx))


@pass_context
def when(ctx, value):
    return formats.format_when(value, lang_of(ctx))


@pass_context
def day(ctx, value, year=True):
    return formats.format_date(value, lang_of(ctx), year)


@pass_context
def chart(ctx, days, previous_days=(), **options):
    options.setdefault("lang", lang_of(ctx))
    return charts.line_chart(days, previous_days, **options)


@pass_context
def label(ctx, table: str, key: Any) -> str:
    """The name of a stored value in the page's language; unknown values as they are."""
    name = LABELS[table].get(key) if isinstance(key, str) else None
    if not name:
        return key
    words = i18n.translations(lang_of(ctx))
    context = CONTEXTS.get(table)
    return words.pgettext(context, name) if context else words.gettext(name)


def url_with(endpoint: str, drop: Iterable[str] = (), **changes: Any) -> str:
    """The current page's query (known keys only), changed: None removes a key."""
    keep = KEPT_ARGS + DIMENSIONS
    args = {k: v for k, v in request.args.items() if k in keep and v}
    for key in drop:
        args.pop(key, None)
    for key, value in changes.items():
        if value is None or value == "":
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(endpoint, **args)


def init_app(app) -> None:
    """Give the templates gettext in the site's language, the filters and globals."""
    if app.extensions.get("polku_admin_templates"):
        return
    app.extensions["polku_admin_templates"] = True
    if "jinja2.ext.InternationalizationExtension" not in app.jinja_env.extensions:
        i18n.install(app.jinja_env, lambda: site_lang())  # create_app's, if not yet

    @app.context_processor
    def admin_language() -> dict[str, Any]:
        return {"lang": i18n.language(site_lang())}

    app.jinja_env.filters.update(
        number=number,
        counted=counted,
        percent=percent,
        money=money,
        duration=duration,
        when=when,
        day=day,
        journey=timeline,
    )
    app.jinja_env.globals.update(
        line_chart=chart,
        bar=charts.bar,
        daily_rows=charts.daily_rows,
        url_with=url_with,
        label=label,
        dimensions=DIMENSIONS,
    )
