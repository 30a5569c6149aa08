"""The dashboard's quote and booking requests: open until the owner answers.

The requests are the forms' (web/quotes.py), kept on their contacts as the
requests of unproven addresses (journey.quotes). The overview says how many
wait; this page lists them, and a POST (CSRF-checked by `auth`, as every
dashboard POST) marks one answered.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for

from ..contacts import timeline_event
from ..db import get_storage
from ..journey import people
from ..journey import quotes as rules
from ..web.requests import now_iso
from ..web.site import gettext as _
from .blueprint import bp


def requests_now() -> tuple[list[dict], list[dict]]:
    """The open requests and the last answered, kept until a contact changes."""
    storage = get_storage()
    version = storage.people_version()
    kept = current_app.extensions.get("polku.quote_requests")
    if version is not None and kept and kept[0] == (id(storage), version):
        return kept[1]
    contacts = list(storage.people_facts(having="quotes"))  # facts hold the quotes
    found = (rules.open_requests(contacts), rules.answered_requests(contacts))
    if version is not None:
        current_app.extensions["polku.quote_requests"] = ((id(storage), version), found)
    return found


@bp.app_template_global()
def open_quote_requests() -> list[dict]:
    """For the overview's note (read only when a page asks)."""
    return requests_now()[0]


@bp.get("/quotes")
def quotes():
    waiting, answered = requests_now()
    return render_template("admin/quotes.html", waiting=waiting, answered=answered)


@bp.post("/quotes/<contact_id>/<quote_id>/answered")
def mark_answered(contact_id: str, quote_id: str):
    with get_storage().transaction() as tx:
        contact = tx.get(contact_id)
        if contact is None:
            abort(404, _("No such contact (perhaps erased)."))
        try:
            updated = rules.answer(contact, quote_id, now=now_iso())
        except people.Refused:
            abort(404, _("No such request (perhaps erased)."))
        if updated != contact:
            tx.save(updated, timeline_event("quote_answered", updated, quote=quote_id))
    flash(_("The request is marked answered."))
    return redirect(url_for("admin.quotes"), 303)
