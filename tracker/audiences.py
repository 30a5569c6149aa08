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

# What `profiles` reads of an observation besides ts, type, visitor and contact.
FIELDS = ("path",)


def find_members(
    storage: Storage, manifest: dict, definitions: dict | None, now: datetime
) -> tuple[membership.AudienceMembers, dict]:
    """Return every configured audience's members, and where they came from.

    One pass over the observations that are someone's (anonymous traffic is
    left out where the storage can), then one over the people, streamed and
    narrowed to what the rules and the files read: a million contacts are
    never all held, only the members' rows.
    """
    chosen = parse_audiences(definitions, manifest)
    # Asked for first: a backend may read the people while the observations
    # are counted.
    everyone = storage.stream_people(membership.READS, membership.DECISION_READS)
    observed = storage.observations_of_people(reading.OBSERVED, FIELDS)
    profiles = reading.profiles(observed, None, manifest)
    counted = [0]

    def people():
        for person in everyone:
            counted[0] += 1
            yield person

    found = membership.members_of(chosen, people(), profiles, now)
    source = {
        "contacts": counted[0],
        "data": "the tracker's contacts, their decisions and observations",
        "definitions": "JOURNEY_AUDIENCES" if definitions else "built-in defaults",
    }
    return found, source


def interests_by_contact(
    storage: Storage, manifest: dict, contacts: list[dict]
) -> dict:
    """Return contact id -> {category or tag: posts read}, to order a digest."""
    observed = storage.observations_of_people(reading.OBSERVED, FIELDS)
    profiles = reading.profiles(observed, contacts, manifest)
    result = {}
    for contact_id, profile in profiles.items():
        counts = dict(profile.categories)
        counts.update(profile.tags)
        result[contact_id] = counts
    return result
