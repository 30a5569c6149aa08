"""Languages and translations: one gettext catalogue per language, Babel formats.

Polku speaks the site's language (`site.lang` in the build's manifest, or
`DEFAULT_LANG` in the Pelican settings; "fi", "fi-FI", "fi_FI" all pick Finnish)
and English where a translation lacks a message: the English text is the
message id, so a missing translation shows English, never an empty heading.

The catalogues are `translations/<lang>/LC_MESSAGES/*.po`, one file per part
of Polku that speaks (the reader's pages and emails, the dashboard, the site and
its digest); every file of a language is read into one `Translations`, compiled
in memory the first time it is asked for. Numbers, money and dates go through
Babel for the language's locale. Pure: no Flask, no Pelican, no storage.
"""

from __future__ import annotations

import io
import os
from datetime import date, datetime
from functools import cache
from typing import Any

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

FALLBACK = "en"
LANGUAGES = ("en", "fi")
LOCALES = {"en": "en_GB", "fi": "fi_FI"}  # the formats: day before month in both
FOLDER = os.path.join(os.path.dirname(__file__), "translations")


def language(lang: str | None) -> str:
    """Return the language Polku speaks for a site language such as "fi-FI"."""
    code = (lang or FALLBACK).split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else FALLBACK


@cache
def translations(lang: str | None) -> NullTranslations:
    """Every catalogue of the language, merged (English: the messages as written)."""
    code = language(lang)
    folder = os.path.join(FOLDER, code, "LC_MESSAGES")
    if code == FALLBACK or not os.path.isdir(folder):
        return NullTranslations()
    merged: Translations | None = None
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".po"):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            catalog = read_po(f, locale=code)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        part = Translations(compiled)
        merged = part if merged is None else merged.merge(part)
    return merged or NullTranslations()


def N_(message: str) -> str:
    """Mark a message for the catalogue where it is defined; it is translated
    (gettext) where it is shown, in the language of that moment."""
    return message


def gettext(lang: str | None, message: str, /, **values: Any) -> str:
    """The message in the language; with values, its %(name)s fields filled."""
    text = translations(lang).gettext(message)
    return text % values if values else text


def ngettext(
    lang: str | None, singular: str, plural: str, n: int, /, **values: Any
) -> str:
    """The form of the message for n; with values, its %(name)s fields filled
    (Jinja's own gettext passes none: it fills them itself)."""
    text = translations(lang).ngettext(singular, plural, n)
    return text % values if values else text


def locale(lang: str | None) -> Locale:
    return Locale.parse(LOCALES[language(lang)])


def format_number(value: float, lang: str | None, digits: int | None = None) -> str:
    """A number as the language writes it (1,234.5 / 1 234,5)."""
    if digits is None:
        return babel_numbers.format_decimal(value, locale=locale(lang))
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, pattern, locale=locale(lang))


def format_percent(value: float, lang: str | None, digits: int = 0) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + " %"
    if language(lang) == "en":
        pattern = pattern.replace(" %", "%")
    return babel_numbers.format_percent(value, pattern, locale=locale(lang))


def format_money(value: float, currency: str, lang: str | None) -> str:
    return babel_numbers.format_currency(value, currency, locale=locale(lang))


def format_date(value: date | datetime, lang: str | None, form: str = "medium") -> str:
    """A date as the language writes it ("6 Dec 2026" / "6.12.2026")."""
    return babel_dates.format_date(value, form, locale=locale(lang))


def install(env, lang_of) -> None:
    """Give a Jinja environment `_`, `gettext` and `ngettext` in the language
    lang_of() returns when the template renders (one environment, any language).

    New-style gettext: `_("Hello %(name)s", name=x)` and `{% trans count=n %}`
    both work, and the values are escaped where the template autoescapes.
    """
    if "jinja2.ext.InternationalizationExtension" not in env.extensions:
        env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(
        lambda message: gettext(lang_of(), message),
        lambda singular, plural, n: ngettext(lang_of(), singular, plural, n),
        newstyle=True,
    )


__all__ = [
    "N_",
    "FALLBACK",
    "LANGUAGES",
    "format_date",
    "format_money",
    "format_number",
    "format_percent",
    "gettext",
    "install",
    "language",
    "ngettext",
    "translations",
]
