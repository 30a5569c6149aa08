"""A small site's manifest for the personalised block's tests: two topics,
two guides, and the block's default and pages as the build writes them."""

from __future__ import annotations


def post(slug, tags, date, cta=None, similar=(), nxt=None, kind="article"):
    return {
        "kind": kind,
        "url": f"posts/{slug}/" if kind == "article" else f"{slug}/",
        "title": slug.replace("-", " ").title(),
        "date": date,
        "category": "Websites",
        "tags": list(tags),
        "summary": "",
        "cta": cta,
        "similar": [[f"posts/{s}/", score] for s, score in similar],
        "next": f"posts/{nxt}/" if nxt else None,
    }


NEWS = {"kind": "newsletter"}
GUIDE = {"kind": "guide", "slug": "accessibility-guide"}
SPEED = {"kind": "guide", "slug": "speed-guide"}

MANIFEST = {
    "site": {"name": "Kettu", "url": "https://kettu.example", "lang": "en"},
    "posts": [
        post("labels", ["accessibility"], "2026-06-02", GUIDE, [("alt-text", 0.4)]),
        post("alt-text", ["accessibility", "content"], "2026-10-13", GUIDE),
        post("contrast", ["accessibility"], "2026-08-01", NEWS, [("slow", 0.9)]),
        post("slow", ["speed"], "2026-05-19", SPEED, [("images", 0.6)], nxt="images"),
        post("images", ["speed", "content"], "2026-09-01", SPEED),
        post("fonts", ["speed"], "2026-11-01", NEWS),
        post("newsletter", [], "", None, kind="landing"),
    ],
    "guides": {
        "accessibility-guide": {
            "slug": "accessibility-guide",
            "title": "The accessibility guide",
            "url": "guide-accessibility/",
        },
        "speed-guide": {
            "slug": "speed-guide",
            "title": "The speed guide",
            "url": "guide-speed/",
        },
    },
    "journey": {
        "holdout": 0.1,
        "block_cta": {
            "kind": "newsletter",
            "url": "newsletter/",
            "title": "Newsletter",
        },
        "block_pages": {
            "newsletter": {"url": "newsletter/", "title": "Newsletter"},
            "offer": {"url": "check-up/", "title": "Book a check-up"},
        },
    },
}
