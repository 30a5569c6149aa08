"""A post as the site's manifest lists it, for the digest's tests."""

from __future__ import annotations


def post(slug, date, kind="article", category="Business", tags=(), **extra):
    return {
        "kind": kind,
        "url": f"posts/{slug}/",
        "title": slug.replace("-", " ").title(),
        "date": date,
        "category": category,
        "tags": list(tags),
        "summary": f"What {slug} is about.",
        **extra,
    }
