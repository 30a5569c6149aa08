"""Read `content/sequences/<name>/` into the manifest, checked at build time.

The folder is never published as pages (`exclude` keeps Pelican's readers
out of it); each file is read with Pelican's own Markdown reader, so the
writers' metadata and Markdown mean what they mean in their posts. The rules
of what a sequence may say live in the journey core
(`tracker.journey.sequences`); a malformed one fails the build with the
file's name and the problem.
"""

from __future__ import annotations

import os
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from pelican.readers import MarkdownReader

from tracker.i18n import LANGUAGES
from tracker.journey.sequences import SequenceError, StepSource, definition

FOLDER = "sequences"
_sandbox = SandboxedEnvironment()


def exclude(settings: dict[str, Any]) -> None:
    """Keep the sequences out of the articles and pages, whatever the paths."""
    for key in ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES"):
        excluded = list(settings.get(key) or [])
        if FOLDER not in excluded:
            settings[key] = [*excluded, FOLDER]


def _source_text(path: str) -> str:
    """The email's Markdown without its metadata block: the plain-text part."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    start = 0
    for start, line in enumerate(lines):  # noqa: B007 - the first body line
        if not line.strip():
            break
        if ":" not in line and not line.startswith((" ", "\t")):
            break
    else:
        start = len(lines)
    return "\n".join(lines[start:]).strip() + "\n"


def _read(reader: MarkdownReader, path: str) -> tuple[str, dict[str, Any]]:
    try:
        html, meta = reader.read(path)
    except Exception as e:  # Markdown or metadata Pelican cannot read
        raise SequenceError(f"{path}: cannot read it: {e}") from None
    plain = {
        k.lower(): (str(Markup(v).striptags()) if k == "summary" else v)
        for k, v in meta.items()
    }
    return html, plain


def _check_template(text: str, where: str) -> None:
    """The placeholders must be well formed: the tracker fills them at send time."""
    try:
        _sandbox.parse(text)
    except TemplateSyntaxError as e:
        raise SequenceError(
            f"{where}: a placeholder's template does not parse: {e.message} "
            "(write `{{ name }}`, `{{ next_reads }}`, `{{ recommend }}`)"
        ) from None


def collect(settings: dict[str, Any], guides: set[str]) -> list[dict]:
    """Every sequence under the content folder, checked, for the manifest."""
    if not settings.get("PATH"):
        return []
    root = os.path.join(settings["PATH"], FOLDER)
    if not os.path.isdir(root):
        return []
    reader = MarkdownReader({**settings, "FORMATTED_FIELDS": []})
    found = []
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder) or name.startswith((".", "_")):
            continue
        index = os.path.join(folder, "index.md")
        if not os.path.isfile(index):
            raise SequenceError(
                f"sequences/{name}: missing index.md (Title, Trigger, Exit...)"
            )
        _, meta = _read(reader, index)
        steps = []
        for filename in sorted(os.listdir(folder)):
            if filename == "index.md" or not filename.endswith((".md", ".markdown")):
                continue
            path = os.path.join(folder, filename)
            html, step_meta = _read(reader, path)
            text = _source_text(path)
            for part in (html, text, str(step_meta.get("subject") or "")):
                _check_template(part, f"sequences/{name}/{filename}")
            steps.append(StepSource(filename, step_meta, html, text))
        found.append(definition(name, meta, steps, guides, set(LANGUAGES)))
    return found
