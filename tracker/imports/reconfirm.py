"""--reconfirm: a list whose consent cannot be shown is asked again, by email.

Each address gets the signup form's own double opt-in email: its request kept
as the form keeps one (`contacts.keep_request`), its link and wording as the
form's (`forms.confirm_context`), sent by `contacts.send_email`; only those
who press the button the link opens are subscribed, with their own proof.
The per-address mail limit and the suppression record apply as on the form.
An address asked once is never asked again by an import (the ASKED ledger
keeps its keyed hash, so even after an unconfirmed signup is pruned a re-run
mails no one twice). Needs an app and a request context for the links, as
the digest's command gives.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import clock, contacts, privacy
from ..errors import TrackerError
from ..i18n import N_
from ..journey import imported, people
from ..journey.imported import Entry, Export
from ..storage import Storage
from ..web import forms
from ..web import site as sitemeta
from ..web.limits import take_mail_quota
from ..web.requests import new_id
from .subscribers import Summary

ASKED = "reconfirm-asked"
LIMITED = N_("over the per-address limit of confirmation emails")
REFUSED = N_("the mail server refused the address")
FAILED = N_("the email could not be sent now; run the import again later")


def ask_all(
    storage: Storage,
    export: Export,
    summary: Summary,
    *,
    secret: str,
    progress: Callable[[int], None] = lambda n: None,
) -> Summary:
    """Send each address in summary.ask its confirmation email; count each."""
    consent = sitemeta.manifest().get("consent") or {}
    asked = storage.ledger_keys(ASKED)
    for entry in summary.ask:
        key = privacy.address_key(secret, entry.email)
        if key in asked:
            summary.count(imported.ALREADY)
        else:
            outcome, reason = ask_one(storage, export, entry, consent)
            summary.count(outcome, reason)
            if outcome == imported.ASK:
                storage.ledger_add(ASKED, key)
                asked.add(key)
        progress(1)
    return summary


def ask_one(
    storage: Storage, export: Export, entry: Entry, consent: dict
) -> tuple[str, str | None]:
    """Ask one address, looked at again just before: (outcome, reason)."""
    known = storage.find_contact(entry.email)
    now = clock.now_iso()
    decision = imported.decide(
        known,
        entry,
        export,
        now=now,
        contact_id=new_id(),
        proven=False,
        suppressed=forms.suppressed(entry.email, known),
    )
    if decision.outcome != imported.ASK:
        return decision.outcome, decision.reason
    if not take_mail_quota("MAIL_LIMIT_CONFIRM", "confirm", entry.email):
        return imported.SKIPPED, LIMITED
    ask = people.new_request(
        newsletter=True,
        ads=False,
        first_name=people.clean_name(entry.name),
        proof=imported.reconfirm_proof(export, consent, now=now),
        now=now,
    )
    event = {"type": "signup", "form": imported.RECONFIRM, "source": export.source}
    contact = contacts.keep_request(entry.email, ask, event)
    try:
        contacts.send_email(
            contact,
            "confirm",
            sitemeta.gettext("Please confirm your subscription"),
            ask["id"],
            name=ask["first_name"],
            **forms.confirm_context(contact, ask),
        )
    except TrackerError as e:
        return imported.SKIPPED, REFUSED if e.status < 500 else FAILED
    return imported.ASK, None
