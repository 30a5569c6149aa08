"""Ship the tracking script beside the theme's files, minified, and say how big it is.

The plugin's `static/polku.js` is the script; a theme that ships its own
`js/polku.js` in its static files overrides it.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil

import rjsmin

from . import inject

log = logging.getLogger(__name__)

SCRIPT = os.path.join(os.path.dirname(__file__), "static", "polku.js")
SOURCE = os.path.join("js", "polku.js")
MINIFIED = os.path.join("js", "polku.min.js")


def minify(source: str) -> tuple[str, int]:
    """Return the minified script and its gzipped size in bytes."""
    small = rjsmin.jsmin(source)
    return small, len(gzip.compress(small.encode(), compresslevel=9))


def theme_has_script(settings) -> bool:
    """True when the theme's static files bring their own js/polku.js."""
    return any(
        os.path.isfile(os.path.join(settings["THEME"], folder, SOURCE))
        for folder in settings.get("THEME_STATIC_PATHS", ["static"])
    )


def minify_tracking_script(pelican) -> None:
    """Write js/polku.js (unless the theme has one) and js/polku.min.js, and the
    stylesheet of the forms the plugin adds to other themes' pages."""
    inject.write_stylesheet(pelican)
    settings = pelican.settings
    static = os.path.join(
        settings["OUTPUT_PATH"], settings.get("THEME_STATIC_DIR", "theme")
    )
    source = os.path.join(static, SOURCE)
    if not theme_has_script(settings):
        os.makedirs(os.path.dirname(source), exist_ok=True)
        shutil.copyfile(SCRIPT, source)
    with open(source, encoding="utf-8") as f:
        small, gz = minify(f.read())
    with open(os.path.join(static, MINIFIED), "w", encoding="utf-8") as f:
        f.write(small)
    log.info(
        "journey: tracking script %d bytes minified, %d bytes gzipped", len(small), gz
    )
