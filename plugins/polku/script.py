"""Ship the tracking script minified, and say how big it is."""

from __future__ import annotations

import gzip
import logging
import os

import rjsmin

log = logging.getLogger(__name__)

SOURCE = os.path.join("js", "polku.js")
MINIFIED = os.path.join("js", "polku.min.js")


def minify(source: str) -> tuple[str, int]:
    """Return the minified script and its gzipped size in bytes."""
    small = rjsmin.jsmin(source)
    return small, len(gzip.compress(small.encode(), compresslevel=9))


def minify_tracking_script(pelican) -> None:
    """Write polku.min.js beside the copied theme script in the output."""
    settings = pelican.settings
    static = os.path.join(
        settings["OUTPUT_PATH"], settings.get("THEME_STATIC_DIR", "theme")
    )
    source = os.path.join(static, SOURCE)
    if not os.path.isfile(source):
        log.warning(
            "journey: no tracking script at %s; pageviews will not be recorded", source
        )
        return
    with open(source, encoding="utf-8") as f:
        small, gz = minify(f.read())
    with open(os.path.join(static, MINIFIED), "w", encoding="utf-8") as f:
        f.write(small)
    log.info(
        "journey: tracking script %d bytes minified, %d bytes gzipped", len(small), gz
    )
