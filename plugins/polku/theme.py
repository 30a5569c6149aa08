"""What the plugin adds to the site's Jinja environment: its templates, its words
and its dates.

The plugin's `templates/` folder comes after the theme's, so a theme uses the
partials as `polku/forms.html`, `polku/journey.html`, `polku/tracking.html` and
may override any of them with a file of the same name. Templates speak the
site's `DEFAULT_LANG` through the gettext catalogues (`jinja2.ext.i18n`: `_()`,
`{% trans %}`, plurals by `{% trans count=... %}`), and `format_date` writes a
date as that language does, through Babel. Its templates also add the
plugin's blocks to any theme's pages (`inject.py`, unless JOURNEY_INJECT is off).
"""

from __future__ import annotations

import os
from datetime import date

from jinja2 import ChoiceLoader, FileSystemLoader

from tracker import i18n

from . import inject

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")


def site_language(settings) -> str:
    """Return the language the site's pages speak (its DEFAULT_LANG)."""
    return i18n.language(str(settings.get("DEFAULT_LANG") or "en"))


def date_filter(lang: str):
    """Return the `format_date` filter: "28 July 2026", "28. heinäkuuta 2026"."""

    def format_date(value: date | None, form: str = "long") -> str:
        return i18n.format_date(value, lang, form) if value else ""

    return format_date


def add_to_environment(generator) -> None:
    """Give a generator's environment the plugin's templates, gettext and dates."""
    env = generator.env
    ours = FileSystemLoader(TEMPLATES)
    if isinstance(env.loader, ChoiceLoader):
        # Pelican's first loader holds the theme (and its overrides); the
        # simple theme's come after it, and after ours.
        env.loader.loaders.insert(1, ours)
    else:
        env.loader = ChoiceLoader([env.loader, ours])
    lang = site_language(generator.settings)
    i18n.install(env, lambda: lang)
    env.filters.setdefault("format_date", date_filter(lang))
    inject.wrap_templates(generator)
