"""Choosing a language and filling in what a translation lacks, for every catalogue.

The tracker speaks the site's language: `site.lang` in the build's manifest
("fi", "fi-FI", "fi_FI" all pick Finnish). Each catalogue (the dashboard's, the
reader's) is a `Catalog` of string tables; English is the fallback for any key
a translation lacks, and the language of a site the catalogue does not speak.
"""

from __future__ import annotations

from typing import Any

from ..web import site as sitemeta

FALLBACK = "en"


def site_lang() -> str | None:
    """Return the site's language as the build wrote it, or None."""
    try:
        site = sitemeta.manifest().get("site") or {}
    except (OSError, ValueError, RuntimeError):  # no app, or a broken manifest
        return None
    lang = site.get("lang") if isinstance(site, dict) else None
    return lang if isinstance(lang, str) else None


class Catalog:
    """UI strings in several languages, English filling in what a translation lacks."""

    def __init__(self, languages: dict[str, dict[str, Any]]) -> None:
        self.languages = languages
        self.english = languages[FALLBACK]

    def language(self, lang: str | None) -> str:
        """Return the supported language for a site language such as "fi-FI"."""
        code = (lang or FALLBACK).split("-")[0].split("_")[0].lower()
        return code if code in self.languages else FALLBACK

    def strings(self, lang: str | None) -> dict[str, Any]:
        """Return every string in the language, English where a translation lacks one.

        A value that is a dict (a group of labels) is filled in key by key.
        """
        chosen = self.languages[self.language(lang)]
        merged: dict[str, Any] = {}
        for key, value in self.english.items():
            other = chosen.get(key)
            if isinstance(value, dict):
                merged[key] = {**value, **(other if isinstance(other, dict) else {})}
            else:
                merged[key] = other if other is not None else value
        return merged
