"""Sequences in content/sequences/: read by the build into the manifest, never
published, and a malformed one fails the build naming the file and the problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pelican import Pelican
from pelican.settings import read_settings

POST = "Title: Kilns\nDate: 2026-05-01\nTags: kilns\n\nA post about kilns.\n"
INDEX = "Title: Welcome\nTrigger: signup\n\nOur notes, never sent.\n"
STEP = "Subject: Hello {{ name }}\nDelay: 0\n\nHi {{ name or 'there' }}!\n"


def build(tmp_path: Path, files: dict[str, str]) -> Path:
    """A blog whose articles are read from the whole content folder."""
    content = tmp_path / "content"
    content.mkdir()
    (content / "kilns.md").write_text(POST)
    for name, text in files.items():
        path = content / "sequences" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    settings = read_settings(
        path=None,
        override={
            "PATH": str(content),
            "OUTPUT_PATH": str(tmp_path / "output"),
            "PLUGINS": ["pelican.plugins.polku"],
            "CACHE_CONTENT": False,
            "LOAD_CONTENT_CACHE": False,
            "JOURNEY_DATA_DIR": str(tmp_path / "var"),
            "FEED_ALL_ATOM": None,
            "CATEGORY_FEED_ATOM": None,
            "TIMEZONE": "Europe/Helsinki",
        },
    )
    Pelican(settings).run()
    return tmp_path


def test_a_sequence_reaches_the_manifest_and_is_never_published(tmp_path):
    site = build(
        tmp_path,
        {
            "welcome/index.md": INDEX,
            "welcome/01-hello.md": STEP,
            "welcome/02-more.md": STEP.replace("Delay: 0", "Delay: 3 päivää"),
        },
    )
    manifest = json.loads((site / "var" / "manifest.json").read_text())
    (seq,) = manifest["sequences"]
    assert seq["name"] == "welcome" and seq["trigger"] == {
        "kind": "signup",
        "value": "",
    }
    assert [s["id"] for s in seq["steps"]] == ["01-hello", "02-more"]
    assert seq["steps"][1]["delay"] == {"days": 3, "minutes": 0}
    assert "{{ name or 'there' }}" in seq["steps"][0]["text"]
    assert manifest["site"]["timezone"] == "Europe/Helsinki"
    journey = manifest["journey"]
    assert (journey["send_window"], journey["max_per_day"]) == ("08:00-20:00", 1)
    published = " ".join(p.read_text() for p in (site / "output").rglob("*.html"))
    assert "Our notes, never sent" not in published
    assert "Hi {{" not in published and "Hello {{" not in published
    assert [p["title"] for p in manifest["posts"]] == ["Kilns"]


@pytest.mark.parametrize(
    "files, where, problem",
    [
        (
            {"w/index.md": INDEX.replace("signup", "sometimes"), "w/01-a.md": STEP},
            "sequences/w/index.md",
            "unknown Trigger 'sometimes'",
        ),
        (
            {"w/index.md": INDEX, "w/01-a.md": STEP.replace("Delay: 0", "Delay: soon")},
            "sequences/w/01-a.md",
            "cannot read the delay 'soon'",
        ),
        (
            {
                "w/index.md": INDEX,
                "w/01-a.md": STEP.replace("Subject: Hello {{ name }}\n", ""),
            },
            "sequences/w/01-a.md",
            "missing Subject",
        ),
        (
            {
                "w/index.md": INDEX.replace("signup", "download:no-such-guide"),
                "w/01-a.md": STEP,
            },
            "sequences/w/index.md",
            "does not have",
        ),
        (
            {"w/index.md": "Exit: stage:famous\n" + INDEX, "w/01-a.md": STEP},
            "sequences/w/index.md",
            "unknown stage 'famous'",
        ),
        (
            {"w/index.md": INDEX, "w/01-a.md": STEP.replace("{{ name }}", "{{ name ")},
            "sequences/w/01-a.md",
            "template",
        ),
        ({"w/index.md": INDEX}, "sequences/w", "no emails"),
    ],
)
def test_a_malformed_sequence_fails_the_build_naming_file_and_problem(
    tmp_path, files, where, problem
):
    with pytest.raises(Exception) as failed:
        build(tmp_path, files)
    assert where in str(failed.value) and problem in str(failed.value)
