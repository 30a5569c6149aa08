"""A reader's own choices: interests, how often the digest comes or a pause,
language, the ad-audience consent, leaving a sequence.

Pure: a contact in, (a new contact, what changed) out. When nothing changes,
the same contact comes back with None, and nothing is recorded. The web view
(tracker/web/preferences.py) records each change on the person's timeline
with the wording they were shown; the digest asks `digest_wanted`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from . import sendtime
from .people import Refused

EVERY, MONTHLY, PAUSE = "every", "monthly", "pause"
FREQUENCIES = (EVERY, MONTHLY)
PAUSE_DAYS_MAX = 366
MAX_INTERESTS = 100
ACTIVE, LEFT = "active", "left"

Change = tuple[Mapping, dict | None]


# -- what the site offers -----------------------------------------------------------


def _clean(value: Any) -> str:
    return " ".join(str(value or "").split())


def site_tags(manifest: Mapping) -> list[str]:
    """The tags of the site's posts, each once (first spelling), in reading order."""
    seen: dict[str, str] = {}
    for post in manifest.get("posts") or []:
        for tag in post.get("tags") or []:
            name = _clean(tag)
            if name:
                seen.setdefault(name.casefold(), name)
    return sorted(seen.values(), key=str.casefold)


def base_language(value: Any) -> str:
    """ "fi-FI", "fi_FI" and "FI" are all "fi"."""
    return _clean(value).split("-")[0].split("_")[0].lower()


def site_languages(manifest: Mapping, spoken: Iterable[str]) -> list[str]:
    """The site's languages that Polku's emails speak, the site's own first."""
    spoken = set(spoken)
    site = manifest.get("site") or {}
    found = [site.get("lang"), *(manifest.get("languages") or [])]
    found += [post.get("lang") for post in manifest.get("posts") or []]
    codes: list[str] = []
    for value in found:
        code = base_language(value)
        if code in spoken and code not in codes:
            codes.append(code)
    return codes


def sequence_title(manifest: Mapping, name: str) -> str:
    """The owner's title of a sequence (the build's manifest), else its name."""
    for sequence in manifest.get("sequences") or []:
        if isinstance(sequence, Mapping) and sequence.get("name") == name:
            return _clean(sequence.get("title")) or name
    return name


def sequences_of(contact: Mapping, manifest: Mapping) -> list[dict]:
    """The sequences the person is or was in, with the owner's title for each."""
    shown = [
        {
            **entry,
            "name": name,
            "title": sequence_title(manifest, name),
            "state": entry.get("state") or ACTIVE,
        }
        for name, entry in (contact.get("sequences") or {}).items()
        if isinstance(entry, Mapping)
    ]
    return sorted(shown, key=lambda s: (str(s.get("entered") or ""), s["name"]))


# -- the choices ---------------------------------------------------------------------


def _changed(contact: Mapping, now: str) -> dict:
    c = copy.deepcopy(dict(contact))
    c["updated"] = now
    return c


def choose_interests(
    contact: Mapping, chosen: Iterable[str], offered: Iterable[str], *, now: str
) -> Change:
    """Keep the topics the reader picked; only the site's own tags are taken."""
    by_fold = {tag.casefold(): tag for tag in offered}
    picked: set[str] = set()
    for raw in chosen:
        tag = by_fold.get(_clean(raw).casefold())
        if tag is None:
            raise Refused("Choose your interests from the topics listed.")
        picked.add(tag)
    value = sorted(picked, key=str.casefold)[:MAX_INTERESTS]
    if value == list(contact.get("interests") or []):
        return contact, None
    c = _changed(contact, now)
    c["interests"] = value
    return c, {"change": "interests", "value": value}


def digest_choice(contact: Mapping) -> dict[str, Any]:
    """How often the digest comes ("every" or "monthly") and a pause's last day."""
    chosen = contact.get("digest") or {}
    frequency = chosen.get("frequency")
    return {
        "frequency": frequency if frequency in FREQUENCIES else EVERY,
        "paused_until": chosen.get("paused_until") or None,
    }


def pause_end(raw: Any, today: date) -> str:
    """The day a pause ends (the digest comes again that day), or Refused."""
    try:
        day = date.fromisoformat(_clean(raw))
    except ValueError:
        raise Refused("Give the day the pause ends as a date.") from None
    if day <= today:
        raise Refused("Choose a day after today for the pause to end.")
    if day > today + timedelta(days=PAUSE_DAYS_MAX):
        raise Refused("Choose a day within a year for the pause to end.")
    return day.isoformat()


def choose_digest(
    contact: Mapping, choice: str, until: Any, *, today: date, now: str
) -> Change:
    """Every digest, at most one a month, or a pause (which keeps the frequency)."""
    current = digest_choice(contact)
    if choice in FREQUENCIES:
        value = {"frequency": choice, "paused_until": None}
    elif choice == PAUSE:
        value = {**current, "paused_until": pause_end(until, today)}
    else:
        raise Refused("Choose how often the digest comes.")
    if value == current and contact.get("digest"):
        return contact, None
    c = _changed(contact, now)
    c["digest"] = value
    return c, {"change": "digest", "value": value}


def choose_lang(
    contact: Mapping, lang: str, offered: Iterable[str], *, now: str
) -> Change:
    """The language of the reader's emails (and of their page)."""
    if lang not in list(offered):
        raise Refused("Choose one of the languages listed.")
    if contact.get("lang") == lang:
        return contact, None
    c = _changed(contact, now)
    c["lang"] = lang
    return c, {"change": "lang", "value": lang}


def has_ads(contact: Mapping) -> bool:
    ads = (contact.get("consent") or {}).get("ads")
    return isinstance(ads, Mapping) and not ads.get("withdrawn_at")


def grant_ads(contact: Mapping, proof: Mapping, *, now: str) -> Change:
    """The separate ad-audience consent, given on the reader's own page.

    The page's link proves the address, so the proof is confirmed at once.
    """
    if has_ads(contact):
        return contact, None
    c = _changed(contact, now)
    c.setdefault("consent", {})["ads"] = {**proof, "confirmed_at": now}
    return c, {"change": "ads", "value": "granted"}


def withdraw_ads(contact: Mapping, *, now: str) -> Change:
    """Out of every ad audience; the proof of what was given stays, dated."""
    if not has_ads(contact):
        return contact, None
    c = _changed(contact, now)
    c["consent"]["ads"] = {**c["consent"]["ads"], "withdrawn_at": now}
    return c, {"change": "ads", "value": "withdrawn"}


def leave_sequence(contact: Mapping, name: str, *, now: str) -> Change:
    """Leave a sequence the person is in: no further step of it reaches them."""
    entry = (contact.get("sequences") or {}).get(name)
    if not isinstance(entry, Mapping) or (entry.get("state") or ACTIVE) != ACTIVE:
        raise Refused("You are not in that email series any more.")
    c = _changed(contact, now)
    # `ended` and `reason` as the scheduler writes them (journey.enrolment)
    left = {"state": LEFT, "left_at": now, "ended": now, "reason": "preferences"}
    c["sequences"][name] = {**entry, **left}
    return c, {"type": "sequence_left", "sequence": name}


# -- time in the site's zone, and the digest ----------------------------------------


def zone(name: Any) -> tzinfo:
    """The site's time zone by its IANA name; UTC for none or an unknown one."""
    try:
        return sendtime.zone(str(name) if name else None)
    except sendtime.DelayError:  # unknown, malformed, a folder
        return UTC


def local(moment: str | datetime, tz: Any) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(tz))


def local_day(moment: str | datetime, tz: Any) -> date:
    """The calendar day a moment falls on in the site's time zone."""
    return local(moment, tz).date()


def digest_wanted(
    contact: Mapping, *, run_at: str, previous_run: str | None, tz: Any
) -> bool:
    """May this digest run reach the reader, by their own choice?

    No digest before a pause's last day; a monthly reader gets the first
    run of each calendar month in the site's time zone (the previous run,
    `previous_run`, started in another month, or there was none).
    """
    if not contact.get("digest"):
        return True  # most readers never chose: every digest, no pause
    choice = digest_choice(contact)
    day = local_day(run_at, tz)
    if choice["paused_until"] and day.isoformat() < choice["paused_until"]:
        return False
    if choice["frequency"] == MONTHLY and previous_run:
        before = local_day(previous_run, tz)
        return (before.year, before.month) != (day.year, day.month)
    return True
