"""The build's manifest: what the tracker learns about posts and pages."""

from __future__ import annotations

from types import SimpleNamespace

from pelican.plugins.polku.manifest import build_manifest


def page(slug, template="page"):
    return SimpleNamespace(
        slug=slug, url=f"{slug}/", title=slug.title(), template=template, summary=""
    )


def test_status_pages_are_neither_posts_nor_landing_pages():
    conf = SimpleNamespace(
        status_pages={"signup": "thanks-signup", "error": "oops"},
        consent={},
        consent_mode="explicit",
        tracker_url="",
        send_window="08:00-20:00",
        max_per_day=1,
    )
    context = {
        "articles": [],
        "pages": [page("newsletter", "landing")],
        "hidden_pages": [page("thanks-signup", "landing"), page("oops")],
    }
    manifest = build_manifest(context, conf)
    assert [p["url"] for p in manifest["posts"]] == ["newsletter/"]
    assert manifest["status_pages"] == {
        "signup": "thanks-signup/",
        "error": "oops/",
    }
