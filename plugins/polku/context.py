"""Give the templates the tracker's URLs, consent wording, guides and CTAs."""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from markupsafe import Markup

from . import sequences
from . import settings as journey_settings

log = logging.getLogger(__name__)

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
GUIDE_EXTENSIONS = (".pdf", ".epub", ".zip")


def check_settings(pelican) -> None:
    """Fail the build early, with the setting's name, on a bad journey setting;
    keep the sequences' emails out of the published pages."""
    journey_settings.read(pelican.settings)
    sequences.exclude(pelican.settings)


LANDING_TEMPLATES = ("landing", "download", "quote")


def landing_pages(context: dict, status_pages: dict[str, str]) -> list:
    """The site's landing pages (a signup, a guide, a quote request), status
    pages apart: each gets the personalised block and is in the manifest."""
    pages = context.get("pages", []) + context.get("hidden_pages", [])
    status = set(status_pages.values())
    return [
        p
        for p in pages
        if getattr(p, "template", "page") in LANDING_TEMPLATES and p.slug not in status
    ]


def plain_text(html) -> str:
    """Return HTML (a title, a summary) as one line of plain text."""
    return " ".join(Markup(str(html or "")).striptags().split())


def plain_summary(item) -> str:
    """Return an item's summary as plain text (Pelican's summary is HTML)."""
    return plain_text(getattr(item, "summary", ""))


def find_guide_file(guides_dir: str, slug: str) -> str | None:
    """Return the path of the guide file named by slug, or None."""
    for ext in GUIDE_EXTENSIONS:
        path = os.path.join(guides_dir, slug + ext)
        if os.path.isfile(path):
            return path
    return None


def collect_guides(pages, conf: journey_settings.JourneySettings) -> dict[str, dict]:
    """Return the guides that download pages offer (`Template: download`)."""
    guides: dict[str, dict] = {}
    for page in pages:
        slug = page.metadata.get("guide")
        if getattr(page, "template", "") != "download" or not slug:
            continue
        slug = str(slug).strip()
        if not SLUG.match(slug):
            log.warning(
                "%s: Guide %r is not a slug (a-z, 0-9, -)", page.source_path, slug
            )
            continue
        path = find_guide_file(conf.guides_dir, slug)
        if path is None:
            log.warning(
                "%s: no file for guide %r in %s (expected %s)",
                page.source_path,
                slug,
                conf.guides_dir,
                " or ".join(slug + e for e in GUIDE_EXTENSIONS),
            )
        guides[slug] = {
            "slug": slug,
            "title": page.metadata.get("guide_title") or page.title,
            "url": page.url,
            "summary": plain_summary(page),
            "file": os.path.basename(path) if path else None,
            "source": path,
        }
    return guides


def parse_cta(
    value: Any, default: str, guides: dict[str, dict], where: str
) -> dict | None:
    """Turn `Cta:` metadata into what the templates render, or None for no CTA.

    An unknown value falls back to the default with a warning: a typo in one post
    should not stop a writer's build.
    """
    raw = str(value if value is not None else default).strip().lower()
    if raw in ("none", "off", "no"):
        return None
    if raw == "newsletter":
        return {"kind": "newsletter"}
    if raw.startswith("guide:"):
        guide = guides.get(raw.split(":", 1)[1].strip())
        if guide:
            return {
                "kind": "guide",
                **{k: guide[k] for k in ("slug", "title", "url", "summary")},
            }
    log.warning("%s: unknown Cta %r; using %r", where, raw, default)
    if value is None:
        return {"kind": "newsletter"}
    return parse_cta(None, default, guides, where)


def template_globals(
    conf: journey_settings.JourneySettings, guides: dict, lang: str
) -> dict:
    """Return the JOURNEY global that every template sees."""
    public = {
        slug: {k: g[k] for k in ("slug", "title", "url", "summary")}
        for slug, g in guides.items()
    }
    return {
        "event_url": conf.route("/api/event"),
        "pixel_url": conf.route("/api/pixel.gif"),
        "subscribe_url": conf.route("/subscribe"),
        "download_url": conf.route("/download"),
        "quote_url": conf.route("/quote"),
        "consent_mode": conf.consent_mode,
        "consent": dict(conf.consent),
        "guides": public,
        "lang": lang,
    }


def publish_context(generators) -> None:
    """Set JOURNEY for the templates and a `journey_cta` on every article and page."""
    context = generators[0].context
    conf = journey_settings.read(context)
    pages = context.get("pages", []) + context.get("hidden_pages", [])
    guides = collect_guides(pages, conf)
    context["JOURNEY"] = template_globals(
        conf, guides, str(context.get("DEFAULT_LANG", "en"))
    )
    for items, default in (
        (context.get("articles", []), conf.default_cta),
        (pages, "none"),
    ):
        for item in items:
            where = getattr(item, "source_path", "?")
            item.journey_cta = parse_cta(
                item.metadata.get("cta"), default, guides, where
            )
    context["journey_guides"] = guides
