"""The audience lists: written by `polku audiences`, and at build time when the
data directory holds contacts."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

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
) -> tuple[int, list[str]]:
    """Write every configured audience in the formats; return (audiences, warnings)."""
    now = clock.now()
    found, source = find_members(storage, manifest, definitions, now)
    warnings = write_audiences(out_dir, found, list(formats), source, now=now)
    return len(found), warnings


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
        count, warnings = write_lists(
            storage, manifest, pelican.settings.get("JOURNEY_AUDIENCES"), target
        )
    finally:
        storage.close()
    for warning in warnings:
        log.warning("journey: %s", warning)
    log.info("journey: wrote %d audience lists to %s", count, target)
