"""Who is in each audience list, from what is stored (storage meets the core's rules).

The plugin's `lists.write_lists` writes the files from this, for `polku
audiences` and for the build alike, so both write the same lists with the same
rules. Only storage and the pure core here: nothing of the web app or the plugin.
"""

from __future__ import annotations

from datetime import datetime

from .journey import members as membership
from .journey import profiles as reading
from .journey.audiences import parse_audiences
from .storage import Storage


def find_members(
    storage: Storage, manifest: dict, definitions: dict | None, now: datetime
) -> tuple[membership.AudienceMembers, dict]:
    """Return every configured audience's members, and where they came from."""
    chosen = parse_audiences(definitions, manifest)
    people = list(storage.iter_people())
    contacts = [contact for contact, _ in people]
    timelines = {contact["id"]: events for contact, events in people}
    profiles = reading.profiles(storage.iter_events(), contacts, manifest)
    found = membership.members(chosen, contacts, profiles, timelines, now)
    source = {
        "contacts": len(contacts),
        "data": "the tracker's contacts, their decisions and observations",
        "definitions": "JOURNEY_AUDIENCES" if definitions else "built-in defaults",
    }
    return found, source


def interests_by_contact(
    storage: Storage, manifest: dict, contacts: list[dict]
) -> dict:
    """Return contact id -> {category or tag: posts read}, to order a digest."""
    profiles = reading.profiles(storage.iter_events(), contacts, manifest)
    result = {}
    for contact_id, profile in profiles.items():
        counts = dict(profile.categories)
        counts.update(profile.tags)
        result[contact_id] = counts
    return result
