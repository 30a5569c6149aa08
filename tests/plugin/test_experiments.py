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


def build(tmp_path: Path, experiments: dict[str, str], **files: str) -> Path:
    """Build a blog with Pelican's default paths (every folder is content);
    files: more content, by path under content/ (`__` for `/`)."""
    content = tmp_path / "content"
    (content / "experiments").mkdir(parents=True)
    for name, text in files.items():
        path = content / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
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


WELCOME = {
    "sequences__welcome__index.md": "Title: Welcome\nTrigger: signup\n\nNotes.\n",
    "sequences__welcome__01-hello.md": "Subject: Hello\nDelay: 0\n\nHi.\n",
}
STEP = """Title: The first step's subject
Kind: step-subject
Target: welcome/01-hello
Variants: control
    name: {{ name or "Hello" }}, here is what the letter is
Goal: click
Sample: 1000
"""


def test_a_headline_test_knows_its_pages_url_and_the_page_marks_the_headline(
    tmp_path,
):
    site = build(tmp_path, {"offer-headline.md": GOOD})
    manifest = json.loads((site / "var" / "manifest.json").read_text())
    (offer,) = [p for p in manifest["posts"] if p["title"] == "Our offer"]
    assert manifest["experiments"]["offer-headline"]["page"] == offer["url"]
    html = (site / "output" / offer["url"]).read_text()
    assert (
        '<h1 class="post__title" data-polku-x="headline:offer">Our offer</h1>' in html
    )


def test_a_step_subject_may_use_the_steps_placeholders(tmp_path):
    site = build(tmp_path, {"welcome-subject.md": STEP}, **WELCOME)
    manifest = json.loads((site / "var" / "manifest.json").read_text())
    test = manifest["experiments"]["welcome-subject"]
    assert test["goal"] == "click"
    assert test["variants"][1]["text"].startswith("{{ name")


@pytest.mark.parametrize(
    "experiments, problem",
    [
        (
            {"welcome-subject.md": STEP.replace("{{ name or", "{{ name or or")},
            "Variants: 'name': the subject's template does not parse",
        ),
        (
            {"welcome-subject.md": STEP, "welcome-again.md": STEP},
            "welcome-again also tests step-subject welcome/01-hello",
        ),
    ],
)
def test_a_step_subject_that_cannot_be_sent_fails_the_build(
    tmp_path, experiments, problem
):
    with pytest.raises(JourneySettingsError, match=problem):
        build(tmp_path, experiments, **WELCOME)


def test_two_tests_of_one_target_may_follow_each_other(tmp_path):
    first = GOOD.replace("Start: 2026-12-01", "Start: 2026-11-01\nEnd: 2026-11-30")
    ended = GOOD.replace("Start: 2026-12-01", "Status: ended")
    site = build(
        tmp_path,
        {"offer-headline.md": GOOD, "offer-before.md": first, "offer-old.md": ended},
    )
    manifest = json.loads((site / "var" / "manifest.json").read_text())
    assert len(manifest["experiments"]) == 3


def test_the_demo_marks_the_tested_call_to_action_under_posts_and_in_the_block(
    demo,  # noqa: F811
):
    manifest = json.loads((demo / "var" / "manifest.json").read_text())
    post = next(
        p
        for p in manifest["posts"]
        if p["kind"] == "article" and (p.get("cta") or {}).get("kind") == "newsletter"
    )
    html = (demo / "output" / post["url"] / "index.html").read_text()
    assert 'class="polku-cta__heading" data-polku-x="newsletter">' in html
    assert 'data-polku-next-cta data-polku-x="newsletter"' in html
