"""Make the audience lists from what is stored (storage meets the plugin's audiences).

Used by `polku audiences` and by the plugin at build time, so both write the
same files with the same rules.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from pelican.plugins.polku import audiences

from . import clock
from .storage import Storage


def write_lists(
    storage: Storage,
    manifest: dict,
    definitions: dict | None,
    out_dir: str,
    formats: Iterable[str] = audiences.FORMATS,
) -> tuple[int, list[str]]:
    """Write every configured audience in the formats; return (audiences, warnings)."""
    now = clock.now()
    chosen = audiences.parse_audiences(definitions, manifest)
    people = list(storage.iter_people())
    contacts = [contact for contact, _ in people]
    timelines = {contact["id"]: events for contact, events in people}
    profiles = audiences.profiles(storage.iter_events(), contacts, manifest)
    found = audiences.members(chosen, contacts, profiles, timelines, now)
    source = {
        "contacts": len(contacts),
        "data": "the tracker's contacts, their decisions and observations",
        "definitions": "JOURNEY_AUDIENCES" if definitions else "built-in defaults",
    }
    warnings = audiences.write_audiences(out_dir, found, list(formats), source, now=now)
    return len(chosen), warnings


def interests_by_contact(
    storage: Storage, manifest: dict, contacts: list[dict]
) -> dict:
    """Return contact id -> {category or tag: posts read}, to order a digest."""
    profiles = audiences.profiles(storage.iter_events(), contacts, manifest)
    result = {}
    for contact_id, profile in profiles.items():
        counts = dict(profile.categories)
        counts.update(profile.tags)
        result[contact_id] = counts
    return result


def has_contacts(data_dir: str) -> bool:
    """True when the data directory holds people (the build then writes lists)."""
    return os.path.isdir(os.path.join(data_dir, "journal", "people"))
