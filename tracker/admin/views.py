"""The dashboard's pages: the journey at a glance, contacts, and one person.

Thin views: parse the query, ask `data` (which reads the storage), render.
Login and the checks every request passes are in `auth`; downloads in `exports`.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from ..db import get_storage
from ..journey import stages
from ..privacy import erase_everywhere
from ..web.site import gettext as _
from . import data, journey_map
from .blueprint import bp

PAGE_SIZE = 50


@bp.get("/")
def overview():
    return render_template("admin/overview.html", data=data.overview_data(request.args))


@bp.get("/contacts")
def contacts():
    try:
        page = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        page = 1
    band = journey_map.band_members(request.args)
    shown, total = data.contact_rows(request.args, page, PAGE_SIZE, band)
    return render_template(
        "admin/contacts.html",
        rows=shown,
        total=total,
        band=band,
        page=page,
        page_size=PAGE_SIZE,
        stages=stages.STAGES,
        segments=data.SEGMENTS,
        args=request.args,
    )


def load_contact(contact_id: str) -> dict:
    contact = get_storage().get_contact(contact_id)
    if contact is None:
        abort(404, _("No such contact (perhaps erased)."))
    return contact


@bp.get("/contacts/<contact_id>")
def contact(contact_id: str):
    found = load_contact(contact_id)
    page = data.one_contact(found, get_storage().timeline(contact_id))
    return render_template("admin/contact.html", **page)


@bp.post("/contacts/<contact_id>/erase")
def erase_contact(contact_id: str):
    found = load_contact(contact_id)
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm the erasure."))
        return redirect(url_for("admin.contact", contact_id=contact_id), 303)
    config = current_app.config
    erase_everywhere(get_storage(), config["DATA_DIR"], found, config["SECRET_KEY"])
    flash(_("The contact was erased."))
    return redirect(url_for("admin.contacts"), 303)
