"""The quote or booking request form: `POST /quote`.

As the signup form (forms.py): honeypot, the per-IP form limit, the Origin
check; a plain HTML post gets a 303 to the thank-you page, or back to the
form with the reason (retry.py); a JSON caller gets JSON. Nothing the post
says is believed: the request is kept as the request of an unproven address
(journey.quotes), it makes no one a lead and joins no browser to anyone.

The owner (POLKU_OWNER_EMAIL) is emailed at once, with the pages the posting
browser read before asking (unless it asks not to be tracked), at most
POLKU_MAIL_LIMIT_QUOTE times per address, POLKU_MAIL_LIMIT_QUOTE_IP per IP
address and POLKU_MAIL_LIMIT_QUOTE_ALL in all: the form cannot flood the
owner's inbox, however many addresses and IPs post it. Over a limit, the request
still waits on the dashboard.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for

from .. import contacts, i18n, mail
from ..db import get_storage
from ..errors import TrackerError
from ..journey import attribution, people, quotes
from ..journey.visits import timeline
from ..mail import retry
from . import identity, pages
from . import site as sitemeta
from .forms import email_address
from .limits import forms as form_limit
from .limits import take_mail_quota
from .requests import allow_site_origin, check_origin, client_ip, now_iso, visitor_for
from .site import gettext as _

bp = Blueprint("quotes", __name__)
bp.after_request(allow_site_origin)

REGIONS = {"fi": "FI", "sv": "SE", "et": "EE"}  # a site's language -> its country
PAGES_SHOWN = 50  # the owner's email lists at most the last 50 pages read


def refused(message: str, field: str):
    return TrackerError(message, field=field)


def region() -> str | None:
    """Where phone numbers without a country code are read."""
    chosen = str(current_app.config["PHONE_REGION"] or "").strip().upper()
    return chosen or REGIONS.get(i18n.language(sitemeta.site_lang()))


def read_request(data: dict) -> tuple[str, dict[str, Any]]:
    """The address and the request the form asks for, or the first refusal."""
    name = people.clean_name(data.get("name"))
    if name is None:
        raise refused("Please give your name.", "name")
    email = email_address(data)
    try:
        phone = quotes.clean_phone(data.get("phone"), region())
    except people.Refused as e:
        raise refused(str(e), "phone") from None
    try:
        message = quotes.clean_message(data.get("message"))
    except people.Refused as e:
        raise refused(str(e), "message") from None
    if not pages.ticked(data, "consent_quote"):
        raise refused(
            "Please tick the box to let us keep your details to answer you.",
            "consent_quote",
        )
    proof = contacts.consent_proof(data)
    consent = sitemeta.manifest().get("consent") or {}
    same = proof["version"] == consent.get("version")
    proof["wording"] = {"quote": consent.get("quote") if same else None}
    fields = contacts.attribution_fields(data)
    ask = quotes.new_quote(
        name=name,
        phone=phone,
        message=message,
        proof=proof,
        now=now_iso(),
        utm=fields["utm"],
    )
    return email, ask


def keep(email: str, ask: dict) -> dict:
    """Store the request on the address's contact, on its timeline as asked."""
    with get_storage().transaction() as tx:
        contact = quotes.add_quote(
            contacts.find_or_create(tx, email), ask, now=now_iso()
        )
        event = contacts.timeline_event(
            "quote_request",
            contact,
            quote=ask["id"],
            form=ask["proof"].get("form"),
            source=ask["proof"].get("page"),
            utm=ask.get("utm"),
        )
        tx.save(contact, event)
    return contact


def pages_read(claimed: Any) -> list[dict] | None:
    """The visits of the browser that posted the form, up to now (None: it asks
    not to be tracked). Shown to the owner, never joined to the person."""
    if identity.no_tracking(request.headers):
        return None
    origin = sitemeta.origin_of(request.headers.get("Origin") or "")
    if not sitemeta.origin_allowed(origin):
        origin = sitemeta.public_base()
    visitor = visitor_for(origin, claimed if isinstance(claimed, str) else None)
    now = now_iso()
    seen = get_storage().events_of_visitors({visitor}, attribution.since(now))
    views = sorted(
        (e for e in seen if e.get("type") == "pageview" and e["ts"] <= now),
        key=lambda e: e["ts"],
    )
    return [item for item in timeline(views[-PAGES_SHOWN:]) if item["kind"] == "visit"]


def tell_owner(contact: dict, ask: dict, visits: list[dict] | None) -> None:
    """Email the owner the request and the visitor's journey, within the limits."""
    owner = str(current_app.config["OWNER_EMAIL"] or "").strip()
    if not owner:
        current_app.logger.info("quote request kept; no POLKU_OWNER_EMAIL to tell")
        return
    if not take_mail_quota("MAIL_LIMIT_QUOTE", "quote", contact["email"]):
        current_app.logger.warning("quote request kept; over the address's limit")
        return
    if not take_mail_quota("MAIL_LIMIT_QUOTE_IP", "quote-ip", client_ip()):
        current_app.logger.warning("quote request kept; over the per-IP mail limit")
        return
    # Many addresses from many IPs pass both limits above: the owner's inbox
    # has a limit of its own.
    if not take_mail_quota("MAIL_LIMIT_QUOTE_ALL", "quote-all", "owner"):
        current_app.logger.warning("quote request kept; over the owner's mail limit")
        return
    site = sitemeta.manifest().get("site") or {}
    context = {
        "ask": ask,
        "email": contact["email"],
        "proven": bool(contact.get("lead_at")),
        "visits": visits,
        "site_name": site.get("name") or "Polku",
        "dashboard": sitemeta.tracker_base() + url_for("admin.quotes"),
        "contact_url": sitemeta.tracker_base()
        + url_for("admin.contact", contact_id=contact["id"]),
    }
    subject = _(
        "Quote request from %(name)s (%(site)s)",
        name=ask["name"],
        site=context["site_name"],
    )
    config = current_app.config
    msg = mail.build(
        config,
        owner,
        subject,
        render_template("email/quote.txt", **context),
        render_template("email/quote.html", **context),
        headers=reply_to(contact["email"]),
        key=f"quote:{ask['id']}",
        send="quote",
    )
    storage = get_storage()
    answer = retry.deliver(
        storage,
        lambda m: mail.send_one(config, m),
        msg,
        send="quote",
        contact=storage.find_contact(owner),  # the owner may be a subscriber too
        needs=retry.ASKED,
    )
    if answer.result not in (retry.SENT, retry.QUEUED):
        current_app.logger.error(
            "quote request kept; could not email the owner: %s",
            answer.status or answer.reason,
        )


def reply_to(address: str) -> dict[str, str]:
    """The owner answers the request with Reply; a non-ASCII address is left out."""
    return {"Reply-To": address} if address.isascii() else {}


@bp.route("/quote", methods=["POST", "OPTIONS"])
@form_limit
def request_quote():
    if request.method == "OPTIONS":
        return "", 204
    check_origin()
    data = pages.form_data()
    if data.get("website"):
        return pages.done("quote")  # a bot filled the honeypot: nothing kept
    email, ask = read_request(data)
    visits = pages_read(data.get("visitor"))
    contact = keep(email, ask)
    tell_owner(contact, ask, visits)
    return pages.done("quote")
