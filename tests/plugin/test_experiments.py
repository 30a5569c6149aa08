"""A/B tests written in Markdown: checked at build, never published, in the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pelican import Pelican
from pelican.plugins.polku.settings import JourneySettingsError
from pelican.settings import read_settings

from ..conftest import ROOT

GOOD = """Title: Headline of the offer page
Kind: headline
Target: offer
Variants: control
    plain: A website you can update yourself
Goal: event:Booked a call
Sample: 4000
Start: 2026-12-01

Notes for the owner: never shown to anyone.
"""


def build(tmp_path: Path, experiments: dict[str, str]) -> Path:
    """Build a blog with Pelican's default paths (every folder is content)."""
    content = tmp_path / "content"
    (content / "experiments").mkdir(parents=True)
    (content / "post.md").write_text("Title: A post\nDate: 2026-11-01\n\nText.\n")
    (content / "offer.md").write_text(
        "Title: Our offer\nSlug: offer\nTemplate: landing\nStatus: hidden\n\nHi.\n"
    )
    for name, text in experiments.items():
        (content / "experiments" / name).write_text(text, encoding="utf-8")
    settings = read_settings(
        path=None,
        override={
            "PATH": str(content),
            "PAGE_PATHS": [""],
            "OUTPUT_PATH": str(tmp_path / "output"),
            "THEME": str(ROOT / "theme"),
            "PLUGINS": ["pelican.plugins.polku"],
            "CACHE_CONTENT": False,
            "LOAD_CONTENT_CACHE": False,
            "JOURNEY_DATA_DIR": str(tmp_path / "var"),
            "STATIC_PATHS": [""],
        },
    )
    Pelican(settings).run()
    return tmp_path


def test_an_experiment_reaches_the_manifest_and_no_page(tmp_path):
    site = build(tmp_path, {"offer-headline.md": GOOD, "notes.txt": "not read"})
    manifest = json.loads((site / "var" / "manifest.json").read_text())
    test = manifest["experiments"]["offer-headline"]
    assert test["goal"] == "event:Booked a call" and test["target"] == "offer"
    assert [v["name"] for v in test["variants"]] == ["control", "plain"]
    assert [p["title"] for p in manifest["posts"]] == ["A post", "Our offer"]
    published = [p for p in (site / "output").rglob("*") if p.is_file()]
    for path in published:
        text = path.read_text(errors="replace")
        assert "Notes for the owner" not in text, path
        assert "A website you can update yourself" not in text, path


def test_a_site_without_experiments_has_none(tmp_path):
    site = build(tmp_path, {})
    manifest = json.loads((site / "var" / "manifest.json").read_text())
    assert manifest["experiments"] == {}


@pytest.mark.parametrize(
    "text, problem",
    [
        (GOOD.replace("Goal: event:Booked a call", "Goal: fame"), "Goal: 'fame'"),
        (GOOD.replace("    plain: A website", "plain: A website"), "Variants: needs"),
        (GOOD.replace("Target: offer", "Target: prices"), "no landing page"),
        (
            GOOD.replace("Kind: headline", "Kind: cta").replace(
                "Target: offer", "Target: guide:nothing"
            ),
            "no download page offers the guide 'nothing'",
        ),
        (
            GOOD.replace("Kind: headline", "Kind: step-subject").replace(
                "Target: offer", "Target: welcome/01-hello"
            ),
            "no step 01-hello.md in sequences/welcome/",
        ),
    ],
)
def test_a_malformed_experiment_fails_the_build_naming_file_and_problem(
    tmp_path, text, problem
):
    with pytest.raises(JourneySettingsError, match=problem) as failed:
        build(tmp_path, {"offer-headline.md": text})
    assert str(failed.value).startswith("experiments/offer-headline.md: ")


def test_the_demo_tests_its_newsletter_call_to_action(demo):  # noqa: F811
    manifest = json.loads((demo / "var" / "manifest.json").read_text())
    (test,) = manifest["experiments"].values()
    assert (test["kind"], test["target"], test["goal"]) == (
        "cta",
        "newsletter",
        "signup",
    )
    assert test["status"] == "running" and len(test["variants"]) >= 2
    assert not (demo / "output" / "experiments").exists()
