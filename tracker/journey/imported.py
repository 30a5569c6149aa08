"""Decisions a person made in another mail tool, brought in as imported proof.

An export says who is subscribed (and when they opted in and confirmed), who
unsubscribed, and whose address bounced or complained. Each becomes the record
Polku keeps for its own decisions, marked as imported: the consent proof names
the export and keeps the original times; an unsubscribe keeps its time; a
bounce or a complaint is a suppression whose evidence is the import.

What Polku itself was told stays when it is newer: an unsubscribe here stays
one, a subscriber confirmed here keeps their own proof, a signup waiting here
is not cancelled by an older unsubscribe, and a confirmation here after an
export's bounce shows that the address works. An export that gives no time
for an unsubscribe or a bounce cannot show it is newer: Polku's own decision
stays. Pure: plain records in, one `Decision` out.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass

from . import people
from .suppression import is_suppressed

SUBSCRIBED, UNSUBSCRIBED = "subscribed", "unsubscribed"
CLEANED, COMPLAINED = "cleaned", "complained"
STATUSES = (SUBSCRIBED, UNSUBSCRIBED, CLEANED, COMPLAINED)

# What one row did (the summary's lines).
IMPORTED, ALREADY, SUPPRESSED, ASK, SKIPPED = (
    "imported",
    "already",
    "suppressed",
    "ask",
    "skipped",
)
OUTCOMES = (IMPORTED, ALREADY, SUPPRESSED, UNSUBSCRIBED, ASK, SKIPPED)

RECONFIRM = "reconfirm"  # the form a re-confirmation request names as its own

# Why a row changed nothing (English message ids; the commands translate them).
UNSUBSCRIBED_HERE = "unsubscribed in Polku"
SUPPRESSED_HERE = "the address is suppressed (it bounced or complained)"
NO_CONSENT_TIME = "the export gives no time of consent (use --reconfirm)"


@dataclass(frozen=True)
class Entry:
    """One person as an export describes them; times are ISO 8601 in UTC."""

    email: str
    status: str  # one of STATUSES
    name: str | None = None
    consented_at: str | None = None  # opted in
    confirmed_at: str | None = None  # confirmed the opt-in (double opt-in)
    changed_at: str | None = None  # unsubscribed, cleaned or complained


@dataclass(frozen=True)
class Export:
    """Which tool's export, and as of when (its date, or the import's)."""

    tool: str
    at: str

    @property
    def source(self) -> str:
        return f"imported from {self.tool} export of {self.at[:10]}"


@dataclass(frozen=True)
class Decision:
    """What to do with one row: the contact to save and its timeline event.

    `contact` None with SUPPRESSED: keep no one, suppress the address by its
    keyed hash alone (there is no consent to keep anything else for).
    """

    outcome: str
    contact: dict | None = None
    event: dict | None = None
    reason: str | None = None


def proof(entry: Entry, export: Export, *, now: str) -> dict:
    """The newsletter consent an export shows: its times, its source, the import's
    time. No wording and no form: the other tool's are not known."""
    consented = entry.consented_at or entry.confirmed_at
    return {
        "ts": consented,
        "form": None,
        "page": None,
        "version": None,
        "wording": None,
        "ip_hash": None,
        "confirmed_at": entry.confirmed_at or consented,
        "confirm_ip_hash": None,
        "imported": True,
        "source": export.source,
        "imported_at": now,
    }


def reconfirm_proof(export: Export, consent: dict, *, now: str) -> dict:
    """The request a re-confirmation email asks the person to confirm: the site's
    own consent wording, as on its signup form; the click is the proof."""
    return {
        "ts": now,
        "form": RECONFIRM,
        "page": None,
        "version": consent.get("version"),
        "wording": {"newsletter": consent.get("newsletter"), "ads": None},
        "ip_hash": None,
        "source": f"re-confirmation of {export.tool} export of {export.at[:10]}",
    }


def decide(
    contact: dict | None,
    entry: Entry,
    export: Export,
    *,
    now: str,
    contact_id: str,
    proven: bool = True,
    suppressed: bool = False,
) -> Decision:
    """Decide one row against what Polku holds (contact, or None).

    proven: the export's consent is believed (False with --reconfirm: a
    subscribed row asks for a confirmation instead). suppressed: the address
    is suppressed without a contact (a keyed hash kept after an erasure).
    """
    suppressed = suppressed or (contact is not None and is_suppressed(contact))
    if entry.status == SUBSCRIBED:
        return _subscribe(contact, entry, export, now, contact_id, proven, suppressed)
    if entry.status == UNSUBSCRIBED:
        return _unsubscribe(contact, entry, export, now, contact_id, proven)
    if suppressed:
        return Decision(ALREADY)
    return _suppress(contact, entry, export, now, contact_id, proven)


def _subscribe(contact, entry, export, now, contact_id, proven, suppressed):
    if suppressed:
        return Decision(SKIPPED, reason=SUPPRESSED_HERE)
    if contact and contact["status"] == "confirmed":
        return Decision(ALREADY)
    if contact and contact["status"] == "unsubscribed":
        return Decision(SKIPPED, reason=UNSUBSCRIBED_HERE)
    if not proven:
        asked = (contact or {}).get("requests") or {}
        if any(r["proof"].get("form") == RECONFIRM for r in asked.values()):
            return Decision(ALREADY)
        return Decision(ASK)
    consented = entry.consented_at or entry.confirmed_at
    if not consented:
        return Decision(SKIPPED, reason=NO_CONSENT_TIME)
    c = _copy_or_new(contact, entry, now, contact_id)
    c["status"] = "confirmed"
    c["consent"]["newsletter"] = proof(entry, export, now=now)
    c["lead_at"] = min(t for t in (c["lead_at"], consented) if t)
    c["first_name"] = c["first_name"] or people.clean_name(entry.name)
    c["ref_code"] = c["ref_code"] or secrets.token_urlsafe(9)
    c["pending"] = None
    c["updated"] = now
    event = {"type": "import", "status": SUBSCRIBED, "source": export.source}
    return Decision(IMPORTED, c, {**event, "consented_at": consented})


def _unsubscribe(contact, entry, export, now, contact_id, proven):
    when = entry.changed_at or export.at
    event = {"type": "unsubscribe", "via": "import", "source": export.source}
    event["unsubscribed_at"] = when
    if contact is None:
        c = people.new_contact(entry.email, now, contact_id)
        consented = entry.consented_at or entry.confirmed_at
        if proven and consented:  # their history: they were on the list
            kept = proof(entry, export, now=now)
            c["consent"]["newsletter"] = {**kept, "withdrawn_at": when}
            c["lead_at"] = consented
        c["status"] = "unsubscribed"
        return Decision(UNSUBSCRIBED, c, event)
    if contact["status"] == "unsubscribed":
        return Decision(ALREADY)
    own = _asked_here(contact)
    if own and (not entry.changed_at or own >= when):
        return Decision(ALREADY)  # a newer decision made in Polku stays (or one
        # the export cannot show to be older: it gives no time)
    c = people.unsubscribe(contact, now=when)
    c["updated"] = now
    return Decision(UNSUBSCRIBED, c, event)


def _suppress(contact, entry, export, now, contact_id, proven):
    when = entry.changed_at or export.at
    reason = "hard_bounce" if entry.status == CLEANED else "complaint"
    evidence = {"type": "imported", "ts": when, "source": export.source}
    record = {
        "reason": reason,
        "at": when,
        "evidence": [{**evidence, "status": entry.status}],
    }
    kind = {"type": "bounce", "kind": "hard"} if reason == "hard_bounce" else {}
    event = {"type": "complaint", **kind, "via": "import", "status": entry.status}
    event["source"] = export.source
    consented = entry.consented_at or entry.confirmed_at
    if contact is None:
        if not proven or not consented:
            return Decision(SUPPRESSED)  # the address alone, by its keyed hash
        c = people.new_contact(entry.email, now, contact_id)
        c["lead_at"] = consented  # their history: they were on the list
    else:
        here = _confirmed_at(contact)
        if reason == "hard_bounce" and here and (not entry.changed_at or here > when):
            return Decision(ALREADY)  # the address received mail since
        c = copy.deepcopy(contact)
    c["suppressed"] = record
    c["updated"] = now
    return Decision(SUPPRESSED, c, event)


def _copy_or_new(contact, entry, now, contact_id) -> dict:
    if contact is None:
        return people.new_contact(entry.email, now, contact_id)
    return copy.deepcopy(contact)


def _confirmed_at(contact: dict) -> str | None:
    """When the address last proved it receives mail: the newsletter confirmed."""
    consent = (contact.get("consent") or {}).get("newsletter") or {}
    if contact.get("status") != "confirmed" or consent.get("withdrawn_at"):
        return None
    return consent.get("confirmed_at") or consent.get("ts")


def _asked_here(contact: dict) -> str | None:
    """When the person last asked for the newsletter: confirmed, or a signup
    still waiting for its link."""
    waiting = (contact.get("requests") or {}).values()
    times = [r["ts"] for r in waiting if r["newsletter"]]
    confirmed = _confirmed_at(contact)
    return max([*times, *([confirmed] if confirmed else [])], default=None)
