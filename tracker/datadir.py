"""The data directory: the contract between the build, the tracker and the commands.

The build writes the posts manifest and the guides here; the tracker and the
commands read them, and write the outbox and the audience lists. Everything
in it is private (never inside the public output/). One place names its files,
so that the plugin, the web app and the commands cannot disagree about them.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .storage.files import atomic_write

MANIFEST = "manifest.json"  # the posts, guides, status pages and consent wording
GUIDES = "guides"  # the guides' files, served only behind a signed link
AUDIENCES = "audiences"  # the audience lists
OUTBOX = "outbox"  # emails written as .eml when no SMTP host is set
PEOPLE = os.path.join("journal", "people")  # the embedded backend's decisions

# Folders of files that may name a person, apart from the storage itself.
PERSONAL = (OUTBOX, AUDIENCES)


def path(data_dir: str, name: str) -> str:
    return os.path.join(data_dir, name)


def read_manifest(data_dir: str) -> dict[str, Any]:
    """The manifest the build wrote, or {} before the first build.

    Raises ValueError (or OSError) when it exists but cannot be read.
    """
    try:
        with open(path(data_dir, MANIFEST), encoding="utf-8") as f:
            found = json.load(f)
    except FileNotFoundError:
        return {}
    return found if isinstance(found, dict) else {}


def write_manifest(data_dir: str, manifest: dict[str, Any]) -> str:
    """Replace the manifest atomically (readers see the old or the new, whole)."""
    target = path(data_dir, MANIFEST)
    atomic_write(target, json.dumps(manifest, indent=1, ensure_ascii=False).encode())
    return target


def lang_of(manifest: dict[str, Any]) -> str | None:
    """The site's language as the build wrote it into a manifest, or None."""
    site = manifest.get("site") if isinstance(manifest, dict) else None
    lang = site.get("lang") if isinstance(site, dict) else None
    return lang if isinstance(lang, str) else None


def site_lang(data_dir: str) -> str | None:
    """The site's language as the build wrote it here, or None."""
    try:
        return lang_of(read_manifest(data_dir))
    except (OSError, ValueError):
        return None


def has_people(data_dir: str) -> bool:
    """True when the embedded backend holds people here (the build then writes
    the audience lists)."""
    return os.path.isdir(path(data_dir, PEOPLE))


__all__ = [
    "AUDIENCES",
    "GUIDES",
    "MANIFEST",
    "OUTBOX",
    "PERSONAL",
    "atomic_write",
    "has_people",
    "lang_of",
    "path",
    "read_manifest",
    "site_lang",
    "write_manifest",
]
