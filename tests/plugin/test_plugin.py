"""The journey plugin on an ordinary Pelican blog a user brings, built in-process."""

from __future__ import annotations

import inspect
import json
import logging
from pathlib import Path

import pytest
from pelican import Pelican
from pelican.plugins.polku.context import parse_cta
from pelican.plugins.polku.settings import JourneySettingsError, read
from pelican.settings import read_settings

from ..conftest import ROOT

POSTS = {
    "plain-post.md": """Title: A plain post
Date: 2026-03-01 10:00

No summary, no category, no tags. Template tags the site does not know stay
text: {{ unknown_variable }} and {% unknown_tag %}. So do extensions it lacks:

!!! note "Admonition"
    not enabled here

[[WikiLink]] and ==highlight== stay as they are.
""",
    "rich-post.md": """Title: Äänekoski ja Ørsted — ünïcödé title
Date: 2026-04-02
Category: Notes
Tags: code, tables
Summary: A post with code, a table, an image and a footnote.
Cta: guide:missing-guide

```python
print("hello")
```

| a | b |
|---|---|
| 1 | 2 |

![A fox]({static}/images/fox.svg)

A claim.[^1]

[^1]: The footnote.
""",
}


def build_tiny_site(tmp_path: Path, overrides: dict | None = None) -> Path:
    """Build a small blog in tmp_path with our theme and plugin; return output/."""
    content = tmp_path / "content"
    (content / "images").mkdir(parents=True)
    (content / "pages").mkdir()
    for name, text in POSTS.items():
        (content / name).write_text(text, encoding="utf-8")
    (content / "images" / "fox.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"/>'
    )
    (content / "pages" / "about.md").write_text(
        "Title: About\n\nA page without a date.\n"
    )
    settings = read_settings(
        path=None,
        override={
            "PATH": str(content),
            "OUTPUT_PATH": str(tmp_path / "output"),
            "THEME": str(ROOT / "theme"),
            "PLUGINS": ["pelican.plugins.polku"],
            "CACHE_CONTENT": False,
            "LOAD_CONTENT_CACHE": False,
            "JOURNEY_DATA_DIR": str(tmp_path / "var"),
            "SITEURL": "",
            **(overrides or {}),
        },
    )
    Pelican(settings).run()
    return tmp_path / "output"


def test_ordinary_blog_builds(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    out = build_tiny_site(tmp_path)
    plain = (out / "a-plain-post.html").read_text()
    assert "{{ unknown_variable }}" in plain and "{% unknown_tag %}" in plain
    assert "[[WikiLink]]" in plain
    rich = next(
        p for p in out.glob("*.html") if "ucode" in p.name or "aanekoski" in p.name
    )
    html = rich.read_text()
    assert "Äänekoski" in html
    assert 'class="highlight"' in html and "<table" in html and "footnote" in html
    assert "fox.svg" in html
    # An unknown guide falls back to the newsletter, with a warning naming the file.
    assert 'action="/subscribe"' in html
    assert "missing-guide" in caplog.text
    assert (out / "pages" / "about.html").is_file()


def test_manifest_written_to_data_dir_only(tmp_path):
    out = build_tiny_site(tmp_path)
    data = json.loads((tmp_path / "var" / "manifest.json").read_text())
    assert [p["title"] for p in data["posts"]][0].startswith("Äänekoski")
    plain = next(p for p in data["posts"] if p["title"] == "A plain post")
    assert (
        plain["category"]
        and plain["tags"] == []
        and plain["cta"] == {"kind": "newsletter"}
    )
    assert not list(out.rglob("manifest.json"))


@pytest.mark.parametrize("lang, word", [("fi", "Tilaa"), ("en", "Subscribe")])
def test_ui_strings_follow_default_lang(tmp_path, lang, word):
    out = build_tiny_site(tmp_path, {"DEFAULT_LANG": lang})
    html = (out / "a-plain-post.html").read_text()
    assert f'lang="{lang}"' in html
    assert word in html


def test_bad_setting_fails_the_build_with_its_name(tmp_path):
    with pytest.raises(
        JourneySettingsError, match="JOURNEY_CONSENT_MODE: unknown mode 'sneaky'"
    ):
        build_tiny_site(tmp_path, {"JOURNEY_CONSENT_MODE": "sneaky"})


def test_data_dir_inside_output_is_refused(tmp_path):
    with pytest.raises(JourneySettingsError, match="inside the public output"):
        build_tiny_site(
            tmp_path, {"JOURNEY_DATA_DIR": str(tmp_path / "output" / "var")}
        )


def test_environment_data_dir_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("POLKU_DATA_DIR", str(tmp_path / "elsewhere"))
    build_tiny_site(tmp_path)
    assert (tmp_path / "elsewhere" / "manifest.json").is_file()


def test_tracker_url_and_prefix_reach_the_forms(tmp_path):
    out = build_tiny_site(
        tmp_path, {"TRACKER_URL": "https://t.example/", "TRACKER_PREFIX": "polku"}
    )
    html = (out / "a-plain-post.html").read_text()
    assert 'action="https://t.example/polku/subscribe"' in html
    assert 'data-api="https://t.example/polku/api/event"' in html


def test_settings_reject_a_relative_tracker_url():
    with pytest.raises(JourneySettingsError, match="TRACKER_URL"):
        read({"PATH": "/tmp/c", "TRACKER_URL": "track.example"})


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, {"kind": "newsletter"}),
        ("newsletter", {"kind": "newsletter"}),
        ("none", None),
        (
            "Guide:g",
            {"kind": "guide", "slug": "g", "title": "G", "url": "g/", "summary": ""},
        ),
        ("guide:unknown", {"kind": "newsletter"}),
        ("banana", {"kind": "newsletter"}),
    ],
)
def test_parse_cta(value, expected):
    guides = {
        "g": {"slug": "g", "title": "G", "url": "g/", "summary": "", "file": "g.pdf"}
    }
    assert parse_cta(value, "newsletter", guides, "post.md") == expected


def small_theme(tmp_path: Path, override_tracking: bool = False) -> Path:
    """A theme of one template that uses the plugin's partials, and nothing else."""
    templates = tmp_path / "small-theme" / "templates"
    templates.mkdir(parents=True)
    (templates / "article.html").write_text(
        '{% extends "!simple/article.html" %}\n'
        '{% import "polku/forms.html" as forms with context %}\n'
        "{% block content %}{{ super() }}{{ forms.signup_form() }}"
        '{% include "polku/tracking.html" %}{% endblock %}\n'
    )
    if override_tracking:
        (templates / "polku").mkdir()
        (templates / "polku" / "tracking.html").write_text("<p>the theme's own</p>")
    return templates.parent


def test_signal_generator_init_gives_any_theme_the_plugins_partials(tmp_path):
    out = build_tiny_site(tmp_path, {"THEME": str(small_theme(tmp_path))})
    html = (out / "a-plain-post.html").read_text()
    assert 'action="/subscribe"' in html and "Get new posts by email" in html
    assert 'src="/theme/js/polku.min.js"' in html
    assert (out / "theme" / "js" / "polku.min.js").stat().st_size > 100


def test_a_theme_overrides_a_partial_of_the_plugin(tmp_path):
    theme = small_theme(tmp_path, override_tracking=True)
    out = build_tiny_site(tmp_path, {"THEME": str(theme)})
    html = (out / "a-plain-post.html").read_text()
    assert "<p>the theme's own</p>" in html and "polku.min.js" not in html


def test_register_only_connects_module_level_receivers():
    from blinker import ANY
    from pelican import signals
    from pelican.plugins import polku

    polku.register()
    signals_used = (
        signals.initialized,
        signals.generator_init,
        signals.all_generators_finalized,
        signals.finalized,
    )
    ours = [
        receiver
        for signal in signals_used
        for receiver in signal.receivers_for(ANY)
        if getattr(receiver, "__module__", "").startswith(polku.__name__)
    ]
    assert len(ours) == inspect.getsource(polku.register).count(".connect(")
    assert all("<locals>" not in f.__qualname__ for f in ours)
