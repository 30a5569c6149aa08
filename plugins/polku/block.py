"""The personalised block's defaults: what the static HTML shows every reader.

Each post and landing page gets its nearest posts (`similar.py`) and its
default next read; the site gets the block's default call to action
(`JOURNEY_DEFAULT_CTA`), the pages its calls to action link
(`JOURNEY_NEXT_PAGES`) and the holdout's share (`JOURNEY_HOLDOUT`). The
templates render the block from these; the manifest carries them to the
tracker, whose `GET /api/next` answers the holdout with exactly this.
"""

from __future__ import annotations

import logging

from . import settings as journey_settings
from . import similar
from .context import landing_pages, parse_cta, plain_text

log = logging.getLogger(__name__)


def block_pages(context: dict, conf: journey_settings.JourneySettings) -> dict:
    """{kind: {"url", "title"}} for the kinds whose page the build has."""
    pages = context.get("pages", []) + context.get("hidden_pages", [])
    by_slug = {p.slug: p for p in pages}
    found = {}
    for kind, slug in conf.next_pages.items():
        page = by_slug.get(slug)
        if page is None:
            log.warning("JOURNEY_NEXT_PAGES[%r]: no page has the slug %r", kind, slug)
            continue
        found[kind] = {"url": page.url, "title": plain_text(page.title)}
    return found


def default_cta(conf, guides: dict, pages: dict) -> dict | None:
    """The block's call to action for every reader: JOURNEY_DEFAULT_CTA."""
    chosen = parse_cta(conf.default_cta, "newsletter", guides, "JOURNEY_DEFAULT_CTA")
    if chosen and chosen["kind"] == "guide":
        return {
            "kind": "guide",
            "guide": chosen["slug"],
            "url": chosen["url"],
            "title": plain_text(chosen["title"]),
        }
    if chosen and chosen["kind"] == "newsletter" and "newsletter" in pages:
        return {"kind": "newsletter", **pages["newsletter"]}
    return None


def publish_block(generators) -> None:
    """Attach each page's default next read; keep the block's settings for the
    templates (JOURNEY.block) and the manifest (journey_block)."""
    context = generators[0].context
    conf = journey_settings.read(context)
    articles = list(context.get("articles", []))
    items = articles + landing_pages(context, conf.status_pages)
    similar.attach(items, articles, str(context.get("DEFAULT_LANG", "en")))
    for article in articles:  # `Cta: none`: the block shows the next read only
        article.journey_quiet = getattr(article, "journey_cta", None) is None
    pages = block_pages(context, conf)
    block = {
        "cta": default_cta(conf, context.get("journey_guides", {}), pages),
        "pages": pages,
        "holdout": conf.holdout,
    }
    context["journey_block"] = block
    journey = context.get("JOURNEY")
    if isinstance(journey, dict):
        journey["next_url"] = conf.route("/api/next")
        journey["block"] = block
