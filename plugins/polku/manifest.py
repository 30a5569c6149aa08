"""Write the posts manifest and the private guide files into the data directory.

The tracker, the digest and the reports read the manifest; nothing here is
ever written under the public output folder.
"""

from __future__ import annotations

import logging
import os
import shutil
from typing import Any

from tracker import clock, datadir

from . import sequences
from . import settings as journey_settings
from .context import landing_pages, plain_summary, plain_text

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def entry(item, kind: str) -> dict[str, Any]:
    """Describe one article or landing page for the tracker and the digest."""
    category = getattr(item, "category", None)
    return {
        "kind": kind,
        "url": item.url,
        "title": plain_text(item.title),
        "date": _iso(getattr(item, "date", None)),
        "category": str(category) if category else None,
        "tags": [str(t) for t in getattr(item, "tags", None) or []],
        "summary": plain_summary(item),
        "cta": getattr(item, "journey_cta", None),
        "lang": getattr(item, "lang", None),
        # The personalised block (block.py): nearest posts and the default next.
        "similar": [list(p) for p in getattr(item, "journey_similar", None) or []],
        "next": (getattr(item, "journey_next", None) or {}).get("url"),
    }


def build_manifest(context: dict, conf: journey_settings.JourneySettings) -> dict:
    """Return the manifest: posts, landing pages, guides, status pages, consent."""
    pages = context.get("pages", []) + context.get("hidden_pages", [])
    landing = landing_pages(context, conf.status_pages)
    by_slug = {p.slug: p.url for p in pages}
    guides = context.get("journey_guides", {})
    block = context.get("journey_block") or {}
    return {
        "version": MANIFEST_VERSION,
        "generated_at": clock.now().isoformat(timespec="seconds"),
        "site": {
            "name": context.get("SITENAME", ""),
            "url": context.get("SITEURL", ""),
            "lang": context.get("DEFAULT_LANG", "en"),
            # Where the tracker answers when it is not on the site's origin:
            # the owner's dashboard lives there.
            "tracker": conf.tracker_url,
            "timezone": context.get("TIMEZONE") or "UTC",
        },
        "journey": {
            "send_window": conf.send_window,
            "max_per_day": conf.max_per_day,
            # The personalised block's defaults and holdout (block.py).
            "holdout": block.get("holdout", 0.1),
            "block_cta": block.get("cta"),
            "block_pages": block.get("pages") or {},
        },
        "posts": [entry(a, "article") for a in context.get("articles", [])]
        + [entry(p, "landing") for p in landing],
        "guides": {
            slug: {k: g[k] for k in ("slug", "title", "url", "summary", "file")}
            for slug, g in guides.items()
        },
        "status_pages": {
            name: by_slug[slug]
            for name, slug in conf.status_pages.items()
            if slug in by_slug
        },
        # The A/B tests (plugins/polku/experiments.py), checked, by name.
        "experiments": context.get("journey_experiments", {}),
        "consent": dict(conf.consent),
        "consent_mode": conf.consent_mode,
        "sequences": sequences.collect(context, set(guides)),
    }


def copy_guides(guides: dict[str, dict], data_dir: str) -> None:
    """Copy each guide's file into <data dir>/guides/, the tracker's private folder."""
    target = datadir.path(data_dir, datadir.GUIDES)
    for guide in guides.values():
        if guide.get("source"):
            os.makedirs(target, exist_ok=True)
            shutil.copyfile(guide["source"], os.path.join(target, guide["file"]))


def write_manifest(generators) -> None:
    """Write <data dir>/manifest.json and the guides after every generator has run."""
    context = generators[0].context
    conf = journey_settings.read(context)
    output = os.path.abspath(context.get("OUTPUT_PATH", "output"))
    if os.path.commonpath([output, conf.data_dir]) == output:
        raise journey_settings.JourneySettingsError(
            f"POLKU_DATA_DIR: {conf.data_dir} is inside the public output "
            f"folder {output}; "
            "private data must live outside it"
        )
    manifest = build_manifest(context, conf)
    path = datadir.write_manifest(conf.data_dir, manifest)
    copy_guides(context.get("journey_guides", {}), conf.data_dir)
    log.info(
        "journey: manifest of %d posts and landing pages, %d guides -> %s",
        len(manifest["posts"]),
        len(manifest["guides"]),
        path,
    )
