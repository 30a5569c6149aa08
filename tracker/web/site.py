"""What the tracker knows of the site: the build's manifest, its origins, its language.

Links in emails are built on the site's origin (`link`); the reader's words are
in the site's language (`gettext`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from flask import current_app, g, has_request_context, request, url_for
from werkzeug.security import safe_join

from .. import datadir, i18n

_cache: dict[str, tuple[float, dict]] = {}


def load_manifest(data_dir: str) -> dict[str, Any]:
    """Return the posts manifest the build wrote, re-read when it changes."""
    path = datadir.path(data_dir, datadir.MANIFEST)
    try:
        mtime = os.stat(path).st_mtime
    except FileNotFoundError:
        return {}
    cached = _cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    _cache[path] = (mtime, manifest)
    return manifest


def manifest() -> dict[str, Any]:
    """Return the manifest; within a request it is looked up once (hot path)."""
    if not has_request_context():
        return load_manifest(current_app.config["DATA_DIR"])
    if "polku_manifest" not in g:
        g.polku_manifest = load_manifest(current_app.config["DATA_DIR"])
    return g.polku_manifest


def site_lang() -> str | None:
    """Return the site's language as the build wrote it, or None; within
    `speaking`, the language a reader chose for themselves."""
    if has_request_context() and g.get("polku_reader_lang"):
        return g.polku_reader_lang
    try:
        return datadir.lang_of(manifest())
    except (OSError, ValueError, RuntimeError):  # no app, or a broken manifest
        return None


@contextmanager
def speaking(lang: str | None) -> Iterator[None]:
    """Speak to one reader in the language they chose (their own page, the
    email they asked for): pages, emails and answers alike, within the block."""
    before = g.get("polku_reader_lang")
    g.polku_reader_lang = lang or before
    try:
        yield
    finally:
        g.polku_reader_lang = before


def gettext(message: str, /, **values: Any) -> str:
    """The English message in the site's language, its %(name)s filled with values."""
    return i18n.gettext(site_lang(), message, **values)


def ngettext(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """The message for n in the site's language; %(num)d is n."""
    return i18n.ngettext(site_lang(), singular, plural, n, num=n, **values)


def origin_of(url: str) -> str:
    """Return url's scheme://host[:port], lowercased; "" if it is malformed."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket, as in "http://[::1"
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def site_origins(config: dict, built: dict) -> list[str]:
    """Return the configured site origins: POLKU_SITE_URL, else the build's SITEURL."""
    raw = str(config.get("SITE_URL") or "") or (built.get("site") or {}).get("url", "")
    return [
        origin_of(u.strip()) for u in raw.split(",") if u.strip().startswith("http")
    ]


def is_dev_origin(origin: str) -> bool:
    try:
        parts = urlsplit(origin)
    except ValueError:  # a malformed Origin header is no local origin
        return False
    return parts.scheme == "http" and parts.hostname in (
        "127.0.0.1",
        "localhost",
        "::1",
    )


def origin_allowed(origin: str) -> bool:
    """True if origin is the site's (or, in development, any local port)."""
    if has_request_context():
        answers = g.setdefault("polku_origins", {})
        if origin not in answers:
            answers[origin] = _check_origin(origin)
        return answers[origin]
    return _check_origin(origin)


def _check_origin(origin: str) -> bool:
    return origin_allowed_by(current_app.config, manifest(), origin)


def origin_allowed_by(config: dict, built: dict, origin: str) -> bool:
    """origin_allowed's answer from the settings and the build's manifest
    given (the beacon's fast path has no app context)."""
    return _origin_allowed(
        origin.lower().rstrip("/"),
        str(config.get("SITE_URL") or ""),
        (built.get("site") or {}).get("url", ""),
        config["ENV"] == "production",
    )


@lru_cache(maxsize=256)
def _origin_allowed(
    origin: str, site_url: str, built_url: str, production: bool
) -> bool:
    """The answer for one origin and settings; cached, as it is asked per event."""
    config = {"SITE_URL": site_url}
    if origin in site_origins(config, {"site": {"url": built_url}}):
        return True
    return not production and is_dev_origin(origin)


def public_base() -> str:
    """Return the site origin that links and redirects are built on.

    In development with no site configured, that is the origin the reader used
    (`polku serve` on any local port).
    """
    origins = site_origins(current_app.config, manifest())
    if origins:
        return origins[0]
    if has_request_context():
        here = origin_of(request.headers.get("Origin") or request.host_url)
        if is_dev_origin(here):
            return here
    return "http://127.0.0.1:8000"


def tracker_base() -> str:
    """The tracker's own origin (the build's TRACKER_URL), else the site's: where
    the owner's dashboard is, when the tracker runs on another origin."""
    site = manifest().get("site")
    given = site.get("tracker") if isinstance(site, dict) else None
    tracker = origin_of(str(given or ""))
    return tracker if tracker.startswith("http") else public_base()


def site_link(path: str) -> str:
    """Return an absolute URL on the public site for a manifest path."""
    return urljoin(public_base() + "/", path.lstrip("/"))


def link(endpoint: str, **values: Any) -> str:
    """Return an absolute link to a tracker route, as emails need (on the site URL)."""
    return public_base() + url_for(endpoint, **values)


def status_page(name: str) -> str:
    """Return the URL of a status page (thank-you or error) of the built site."""
    path = (manifest().get("status_pages") or {}).get(name) or "/"
    return site_link(path)


SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def guide(slug: str) -> dict | None:
    """Return the guide the build published under slug, if any."""
    if not SLUG.match(slug or ""):
        return None
    return (manifest().get("guides") or {}).get(slug)


def guide_path(guide: dict) -> str | None:
    """Return the guide's file in the data directory, if it is there."""
    folder = datadir.path(current_app.config["DATA_DIR"], datadir.GUIDES)
    path = safe_join(folder, guide.get("file") or "")
    return path if path and os.path.isfile(path) else None
