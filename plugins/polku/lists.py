"""The audience lists: written by `polku audiences`, and at build time when the
data directory holds contacts."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable

from tracker import clock, datadir
from tracker.audiences import find_members
from tracker.storage import Storage, open_storage

from . import settings as journey_settings
from .audiences import FORMATS, write_audiences

log = logging.getLogger(__name__)


def write_lists(
    storage: Storage,
    manifest: dict,
    definitions: dict | None,
    out_dir: str,
    formats: Iterable[str] = FORMATS,
) -> tuple[int, list[dict]]:
    """Write every configured audience in the formats; return how many
    audiences, and the files below their platform's minimum (`small_lists`)."""
    now = clock.now()
    found, source = find_members(storage, manifest, definitions, now)
    small = write_audiences(out_dir, found, list(formats), source, now=now)
    return len(found), small


SMALL_HEADING = (
    "%(count)d list is below its platform's minimum for a matchable list "
    "(written anyway):",
    "%(count)d lists are below their platform's minimum for a matchable list "
    "(written anyway):",
)
COLUMNS = ("File", "Platform", "People", "Minimum")


def small_lists(
    small: list[dict],
    gettext: Callable[[str], str] = lambda m: m,
    ngettext: Callable[[str, str, int], str] = lambda s, p, n: s if n == 1 else p,
) -> str:
    """The lists below their platform's minimum, summed up in one table."""
    if not small:
        return ""
    rows = [tuple(gettext(c) for c in COLUMNS)]
    for entry in small:
        minimum = f"{entry['minimum']:,}".replace(",", "\u00a0")
        if entry.get("note"):
            minimum += f" ({gettext(entry['note'])})"
        rows.append((entry["file"], entry["platform"], str(entry["rows"]), minimum))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [ngettext(*SMALL_HEADING, len(small)) % {"count": len(small)}]
    for row in rows:
        cells = [
            row[i].rjust(widths[i]) if i == 2 else row[i].ljust(widths[i])
            for i in range(len(COLUMNS))
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    return "\n".join(lines)


def write_audience_lists(pelican) -> None:
    """Write <data dir>/audiences/ from the stored journey, and say so in the log."""
    conf = journey_settings.read(pelican.settings)
    if not datadir.has_people(conf.data_dir) and not os.environ.get(
        "POLKU_DATABASE_URL"
    ):
        log.info("journey: no contacts in %s yet; no audience lists", conf.data_dir)
        return
    manifest = datadir.read_manifest(conf.data_dir)
    storage = open_storage(
        {
            "DATA_DIR": conf.data_dir,
            "DATABASE_URL": os.environ.get("POLKU_DATABASE_URL"),
        }
    )
    target = datadir.path(conf.data_dir, datadir.AUDIENCES)
    try:
        count, small = write_lists(
            storage, manifest, pelican.settings.get("JOURNEY_AUDIENCES"), target
        )
    finally:
        storage.close()
    if small:
        log.warning("journey: %s", small_lists(small))
    log.info("journey: wrote %d audience lists to %s", count, target)
