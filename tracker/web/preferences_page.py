"""What the reader's own page shows: what is stored about them, their choices
and their consent log, in the words a change then records (WORDS).

The view model of web/preferences.py's page, apart so that each module stays
small: it reads the person's decisions, formats times in the site's time
zone and the reader's language, and renders templates/preferences.html.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from flask import render_template, request

from .. import clock, i18n
from ..db import get_storage
from ..i18n import N_
from ..journey import preferences as prefs
from . import site as sitemeta
from .site import gettext as _

# What the page shows for each choice: the words a change records.
WORDS = {
    "interests": N_("Topics you want to hear about"),
    "every": N_("Every digest"),
    "monthly": N_("At most one digest a month"),
    "pause": N_("A pause: no digest before the day below"),
    "lang": N_("The language of your emails"),
    "ads_withdraw": N_("Take me out of the ad audiences"),
    "leave": N_("Leave %(title)s"),
}
STATUSES = {
    "none": N_("not subscribed"),
    "pending": N_("waiting for your confirmation"),
    "confirmed": N_("subscribed"),
    "unsubscribed": N_("unsubscribed"),
}
SEQUENCE_STATES = {
    "active": N_("in progress"),
    "finished": N_("finished"),
    "exited": N_("ended"),
    "left": N_("you left it"),
}
LOG = {  # the decisions the page lists, as the reader reads them
    "signup": N_("Asked for the newsletter"),
    "confirm": N_("Confirmed the newsletter"),
    "unsubscribe": N_("Unsubscribed"),
    "preference": N_("Changed a choice on this page"),
    "sequence_left": N_("Left an email series"),
}


def site_zone() -> str:
    site = sitemeta.manifest().get("site") or {}
    return str(site.get("timezone") or "UTC")


def today():
    return prefs.local_day(clock.now(), site_zone())


def show(contact: dict, saved: str | None = None, error: str | None = None) -> str:
    manifest = sitemeta.manifest()
    zone = site_zone()
    lang = sitemeta.site_lang()
    locale = i18n.locale(lang)

    def when(ts: Any) -> str:
        if not ts:
            return ""
        return format_datetime(prefs.local(str(ts), zone), "medium", locale=locale)

    def day(value: Any) -> str:
        return format_date(value, "long", locale=locale) if value else ""

    chosen = set(contact.get("interests") or [])
    tags = [{"name": t, "chosen": t in chosen} for t in prefs.site_tags(manifest)]
    offered = prefs.site_languages(manifest, i18n.LANGUAGES)
    own = contact.get("lang") or prefs.base_language(lang)
    languages = [
        {"code": c, "label": Locale.parse(c).get_display_name(c), "chosen": c == own}
        for c in offered
    ]
    sequences = [
        {
            **s,
            "state": _(SEQUENCE_STATES.get(s["state"], s["state"])),
            "entered": when(s.get("entered")),
            "can_leave": s["state"] == prefs.ACTIVE,
            "leave": _(WORDS["leave"], title=s["title"]),
        }
        for s in prefs.sequences_of(contact, manifest)
    ]
    ads_wording = (manifest.get("consent") or {}).get("ads")
    return render_template(
        "preferences.html",
        title=_("Your data and your choices"),
        message=None,
        action=request.path,
        saved=_("Saved.") if saved else None,
        error=error,
        email=contact["email"],
        name=contact.get("first_name"),
        status=_(STATUSES.get(contact.get("status"), "not subscribed")),
        interests=sorted(chosen, key=str.casefold),
        tags=tags,
        digest=digest_view(contact, day),
        language=next((o["label"] for o in languages if o["chosen"]), None),
        languages=languages,
        consents=consent_rows(contact, when),
        sequences=sequences,
        ads={"granted": prefs.has_ads(contact), "wording": ads_wording},
        log=log_rows(contact, when),
        zone=zone,
        words={k: _(v) for k, v in WORDS.items() if k != "leave"},
    )


def digest_view(contact: dict, day) -> dict[str, Any]:
    choice = prefs.digest_choice(contact)
    first = today() + timedelta(days=1)
    summary = _(WORDS[choice["frequency"]])
    paused = choice["paused_until"]
    if paused:
        summary += " · " + _(
            "paused until %(day)s", day=day(date.fromisoformat(paused))
        )
    return {
        "choice": prefs.PAUSE if paused else choice["frequency"],
        "paused_until": paused,
        "summary": summary,
        "first_day": first.isoformat(),
        "last_day": (today() + timedelta(days=prefs.PAUSE_DAYS_MAX)).isoformat(),
    }


def consent_rows(contact: dict, when) -> list[dict]:
    rows = []
    titles = {"newsletter": N_("The newsletter"), "ads": N_("Our ad audiences")}
    for kind, title in titles.items():
        proof = (contact.get("consent") or {}).get(kind)
        if not isinstance(proof, dict):
            continue
        given = when(proof.get("confirmed_at") or proof.get("ts"))
        state = _("given on %(when)s", when=given)
        if proof.get("withdrawn_at"):
            state += "; " + _("withdrawn on %(when)s", when=when(proof["withdrawn_at"]))
        wording = proof.get("wording")
        rows.append({"title": _(title), "state": state, "wording": wording or None})
    return rows


def log_rows(contact: dict, when) -> list[dict]:
    """The person's decisions, newest first: when, what, in which words."""
    rows = []
    for event in get_storage().decisions(contact["id"]):
        if event.get("type") not in LOG:
            continue
        value = event.get("value")
        if isinstance(value, list):
            detail = ", ".join(map(str, value))
        elif isinstance(value, dict):
            detail = ", ".join(f"{k}: {v}" for k, v in value.items() if v)
        else:
            detail = str(event.get("sequence") or value or "")
        rows.append(
            {
                "ts": event["ts"],
                "when": when(event["ts"]),
                "what": _(LOG[event["type"]]),
                "detail": detail,
                "wording": event.get("wording"),
            }
        )
    return rows[::-1]
