"""The personalised block's defaults, built: nearest posts, the default next
read and call to action in the static HTML and the manifest, the settings."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from pelican.plugins.polku.settings import JourneySettingsError, read
from pelican.plugins.polku.similar import attach, nearest


def post(title, tags, summary="", date=None):
    return SimpleNamespace(
        title=title, tags=tags, summary=summary, category=None, url=title, date=date
    )


def test_posts_sharing_topics_and_words_are_nearest():
    items = [
        post("Alt text for images", ["accessibility"], "Describe images for people"),
        post("Form labels", ["accessibility", "forms"], "Labels people can use"),
        post("Why a slow page costs you", ["speed"], "Every second loses customers"),
        post("Images that load fast", ["speed", "images"], "Fast images, slow page"),
    ]
    near = nearest(items, items)
    assert near[0][0][0] == 1  # alt text -> form labels (accessibility)
    assert near[2][0][0] == 3  # slow page -> fast images (speed, slow page)
    assert all(col != row for row, found in enumerate(near) for col, _ in found)
    assert all(
        s1 >= s2
        for found in near
        for (_, s1), (_, s2) in zip(found, found[1:], strict=False)
    )


def test_a_post_with_no_neighbour_gets_the_newest_other_post():
    from datetime import datetime

    items = [
        post("Alpha", [], "", datetime(2026, 1, 1)),
        post("Beta", [], "", datetime(2026, 3, 1)),
        post("Gamma", [], "", datetime(2026, 2, 1)),
    ]
    attach(items, items)
    assert items[0].journey_next["url"] == "Beta"
    assert items[1].journey_next["url"] == "Gamma"
    assert items[0].journey_similar == []


@pytest.mark.parametrize("value", [-0.1, 1.5, "10%", True, None])
def test_a_holdout_share_outside_0_to_1_fails_the_build(value):
    with pytest.raises(JourneySettingsError, match="JOURNEY_HOLDOUT"):
        read({"PATH": "/tmp/c", "JOURNEY_HOLDOUT": value})


def test_the_block_pages_take_only_known_kinds():
    with pytest.raises(JourneySettingsError, match="JOURNEY_NEXT_PAGES"):
        read({"PATH": "/tmp/c", "JOURNEY_NEXT_PAGES": {"shop": "shop"}})
    conf = read({"PATH": "/tmp/c", "JOURNEY_NEXT_PAGES": {"offer": "check-up"}})
    assert conf.next_pages == {"newsletter": "newsletter", "offer": "check-up"}
    assert conf.holdout == 0.1


def manifest(site: Path) -> dict:
    return json.loads((site / "var" / "manifest.json").read_text())


def test_the_manifest_carries_neighbours_defaults_and_the_holdout(demo):
    built = manifest(demo)
    articles = [p for p in built["posts"] if p["kind"] == "article"]
    urls = {p["url"] for p in articles}
    for entry in articles:
        assert entry["similar"], entry["url"]
        assert all(url in urls and url != entry["url"] for url, _ in entry["similar"])
        assert entry["next"] == entry["similar"][0][0]
    assert built["journey"]["holdout"] == 0.1
    assert built["journey"]["block_cta"]["kind"] == "newsletter"
    assert built["journey"]["block_cta"]["url"] == "newsletter/"
    assert built["journey"]["block_pages"]["newsletter"]["url"] == "newsletter/"


def test_every_post_and_landing_page_has_the_default_block(demo):
    built = manifest(demo)
    for entry in built["posts"]:
        html = (demo / "output" / entry["url"] / "index.html").read_text()
        page = BeautifulSoup(html, "html.parser")
        blocks = page.select("[data-polku-next]")
        assert len(blocks) == 1, entry["url"]
        block = blocks[0]
        assert block["data-polku-next"] == "/api/next"
        read_next = block.select_one("[data-polku-next-read]")
        assert read_next["href"] == "/" + entry["next"]
        cta = block.select_one("[data-polku-next-cta]")
        if entry["url"] == "newsletter/" or (
            entry["kind"] == "article" and not entry["cta"]
        ):
            assert cta is None, entry["url"]  # its own page, or `Cta: none`
        else:
            assert cta["href"] == "/newsletter/", entry["url"]
        for kind in ("newsletter", "guide", "offer", "referral", "feedback"):
            assert block[f"data-label-{kind}"]
