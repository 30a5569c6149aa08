"""The reader's forms and the links we email: signup, confirm, download, unsubscribe.

Plain HTML posts get a 303 to a thank-you page; JSON callers get JSON. Links
from emails open a page whose button POSTs: no GET changes anything, because
mail scanners follow every link they see.
"""

from __future__ import annotations

import os
from typing import Any

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.security import safe_join

from . import (
    agents,
    attribution,
    beacon,
    identity,
    mail,
    people,
    privacy,
    reader_i18n,
    sitemeta,
    tokens,
)
from .errors import BadToken, TrackerError, wants_json
from .limits import forms as form_limit
from .requests import (
    allow_site_origin,
    check_origin,
    client_ip,
    json_body,
    new_id,
    now_iso,
    user_agent,
    visitor_for,
)
from .storage import get_storage

bp = Blueprint("forms", __name__)
bp.after_request(allow_site_origin)
bp.app_context_processor(reader_i18n.template_context)  # emails and pages alike

TRUE = {"yes", "on", "true", "1"}
FIELD_MAX = 2048


def form_data() -> dict[str, Any]:
    """Return the posted fields, from an HTML form or a JSON object."""
    if request.is_json:
        data = json_body()
        if not isinstance(data, dict):
            raise TrackerError("Send the form as form fields or as a JSON object.")
    else:
        data = request.form.to_dict()
    return {k: v[:FIELD_MAX] if isinstance(v, str) else v for k, v in data.items()}


def ticked(data: dict, name: str) -> bool:
    value = data.get(name)
    return value is True or str(value).lower() in TRUE


def done(page: str):
    """Answer a successful form: JSON for scripts, else a 303 to the thank-you page."""
    if wants_json():
        return {"ok": True, "message": reader_i18n.strings()["done"][page]}
    return redirect(sitemeta.status_page(page), 303)


def action_page(kind: str, value: Any, **context: Any) -> str:
    """Render the page of an emailed link: its button POSTs what the link asks."""
    t = reader_i18n.strings()
    return render_template(
        "action.html",
        title=t[f"{kind}_title"],
        message=t[f"{kind}_message"] % value,
        action=request.path,
        button=t[f"{kind}_button"],
        **context,
    )


def site_origin() -> str:
    origin = request.headers.get("Origin")
    return (
        origin if origin and sitemeta.origin_allowed(origin) else sitemeta.public_base()
    )


def consent_proof(data: dict) -> dict[str, Any]:
    """What the reader agreed to: when, on which form and page, in which words."""
    consent = sitemeta.manifest().get("consent") or {}
    version = str(data.get("consent_version") or consent.get("version") or "")[:64]
    same = version == consent.get("version")
    return {
        "ts": now_iso(),
        "form": str(data.get("form") or "")[:64] or None,
        "page": str(data.get("source") or "")[:300] or None,
        "version": version or None,
        "wording": {k: consent.get(k) if same else None for k in ("newsletter", "ads")},
        "ip_hash": identity.ip_hash(current_app.config["SECRET_KEY"], client_ip()),
    }


def timeline_event(kind: str, contact: dict, **fields: Any) -> dict[str, Any]:
    event = {"id": new_id(), "ts": now_iso(), "type": kind, "contact": contact["id"]}
    return {**event, **{k: v for k, v in fields.items() if v is not None}}


def attribution_fields(data: dict) -> dict[str, Any]:
    """Return which form, on which page and from which campaign a reader came."""
    utm = {
        k: str(data[f"utm_{k}"])[:200]
        for k in ("source", "medium", "campaign")
        if data.get(f"utm_{k}")
    }
    return {
        "form": str(data.get("form") or "")[:64] or None,
        "source": str(data.get("source") or "")[:300] or None,
        "utm": utm or None,
    }


def link(endpoint: str, **values: Any) -> str:
    """Return an absolute link to a tracker route, as emails need (on the site URL)."""
    return sitemeta.public_base() + url_for(endpoint, **values)


def email_context(contact: dict) -> dict[str, Any]:
    site = sitemeta.manifest().get("site") or {}
    return {
        "name": contact.get("first_name"),
        "site_name": site.get("name") or "Polku",
        "site_url": sitemeta.public_base() + "/",
        "pending_days": current_app.config["PENDING_DAYS"],
        "download_days": current_app.config["DOWNLOAD_DAYS"],
    }


def send(contact: dict, template: str, **context: Any) -> None:
    """Email the reader, in the site's language; the subject is `<template>_subject`."""
    context = {**email_context(contact), **context}
    subject = reader_i18n.strings()[f"{template}_subject"] % context
    msg = mail.build(
        current_app.config,
        contact["email"],
        subject,
        render_template(f"email/{template}.txt", **context),
        render_template(f"email/{template}.html", **context),
    )
    try:
        mail.send_one(current_app.config, msg)
    except mail.MailError as e:
        current_app.logger.error("%s", e)
        raise TrackerError(
            "We could not send the email just now. Please try again in a few minutes.",
            503,
        ) from None


def confirm_link(contact: dict) -> str:
    token = tokens.make("confirm", {"c": contact["id"], "n": contact["nonce"]})
    return link("forms.confirm", token=token)


def find_or_create(tx, email: str, visitor: str | None) -> dict:
    """Return the contact for email; a new one gets this visitor's visits."""
    contact = tx.find(email)
    if contact is None:
        contact = people.new_contact(email, now_iso(), new_id())
        contact["device"] = agents.device_class(user_agent())
        people.stitch(contact, visitor)
    return contact


def note_referrer(tx, contact: dict, code: Any) -> None:
    """Remember who referred a new reader (the code names no one to the reader)."""
    if isinstance(code, str) and code and not contact.get("referred_by"):
        referrer = tx.find_by("ref_code", code[:64])
        if referrer and referrer["id"] != contact["id"]:
            contact["referred_by"] = referrer["id"]


def reward_referrer(tx, contact: dict, kind: str) -> None:
    """Credit the referrer when the person they brought converts; one lead makes
    them an advocate."""
    referrer = tx.get(contact.get("referred_by") or "")
    credited = contact.setdefault("referral_credited", [])
    if referrer is None or kind in credited:
        return
    credited.append(kind)
    now = now_iso()
    referrer = {**referrer, "advocate_at": referrer.get("advocate_at") or now}
    event = timeline_event("referral", referrer, referred=contact["id"], via=kind)
    tx.save(referrer, event)


@bp.route("/subscribe", methods=["POST", "OPTIONS"])
@form_limit
def subscribe():
    if request.method == "OPTIONS":
        return "", 204
    check_origin()
    data = form_data()
    if data.get("website"):
        return done("signup")  # a bot filled the honeypot
    try:
        email = people.normalise_email(data.get("email"))
        if not ticked(data, "consent_newsletter"):
            raise people.Refused(
                "Please tick the box to agree to receive the newsletter."
            )
    except people.Refused as e:
        raise TrackerError(str(e)) from None
    visitor = visitor_for(site_origin(), data.get("visitor"))
    with get_storage().transaction() as tx:
        contact = find_or_create(tx, email, visitor)
        note_referrer(tx, contact, data.get("ref"))
        contact, send_confirmation = people.request_subscription(
            contact,
            first_name=people.clean_name(data.get("first_name")),
            ads=ticked(data, "consent_ads"),
            proof=consent_proof(data),
            now=now_iso(),
        )
        if contact.get("pending"):
            contact["pending"]["visitor"] = visitor
            contact["signup_utm"] = attribution_fields(data)["utm"]
        tx.save(contact, timeline_event("signup", contact, **attribution_fields(data)))
    if send_confirmation:
        send(contact, "confirm", confirm_url=confirm_link(contact))
    config = current_app.config
    privacy.prune_daily(get_storage(), config["DATA_DIR"], int(config["PENDING_DAYS"]))
    return done("signup")


def contact_for(purpose: str, token: str, nonce: bool = False) -> tuple[dict, dict]:
    payload = tokens.read(purpose, token)
    contact = get_storage().get_contact(str(payload.get("c")))
    if contact is None or (nonce and contact.get("nonce") != payload.get("n")):
        raise BadToken("This link has already been used or is no longer valid.", 410)
    return payload, contact


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@form_limit
def confirm(token: str):
    payload, contact = contact_for("confirm", token, nonce=True)
    if request.method in ("GET", "HEAD"):  # HEAD too: link scanners send it
        return action_page("confirm", contact["email"])
    check_origin()
    with get_storage().transaction() as tx:
        contact = tx.get(contact["id"])
        if (
            contact is None
            or contact["nonce"] != payload.get("n")
            or not contact["pending"]
        ):
            raise BadToken(
                "This link has already been used or is no longer valid.", 410
            )
        visitor = contact["pending"].get("visitor")
        ip_hash = identity.ip_hash(current_app.config["SECRET_KEY"], client_ip())
        now = now_iso()
        contact = people.confirm(contact, now=now, ip_hash=ip_hash)
        people.stitch(contact, visitor)
        touch = attribution.credit(
            get_storage(), contact, now, contact.get("signup_utm")
        )
        attribution.apply(contact, touch)
        contact.setdefault("lead_page", contact["consent"]["newsletter"].get("page"))
        reward_referrer(tx, contact, "signup")
        tx.save(contact, timeline_event("confirm", contact, attribution=touch))
    return done("confirmed")


@bp.route("/download", methods=["POST", "OPTIONS"])
@form_limit
def download():
    if request.method == "OPTIONS":
        return "", 204
    check_origin()
    data = form_data()
    if data.get("website"):
        return done("download")
    try:
        email = people.normalise_email(data.get("email"))
    except people.Refused as e:
        raise TrackerError(str(e)) from None
    guide = sitemeta.guide(str(data.get("guide") or ""))
    if guide is None or not guide_path(guide):
        raise TrackerError("We do not have that guide.", 404)
    visitor = visitor_for(site_origin(), data.get("visitor"))
    name = people.clean_name(data.get("first_name"))
    fields = attribution_fields(data)
    with get_storage().transaction() as tx:
        contact = find_or_create(tx, email, visitor)
        note_referrer(tx, contact, data.get("ref"))
        contact = people.make_lead(contact, now=now_iso(), first_name=name)
        wants_news = ticked(data, "consent_newsletter")
        send_confirmation = False
        if wants_news:
            contact, send_confirmation = people.request_subscription(
                contact,
                first_name=name,
                ads=ticked(data, "consent_ads"),
                proof=consent_proof(data),
                now=now_iso(),
            )
        touch = attribution.credit(get_storage(), contact, now_iso(), fields["utm"])
        attribution.apply(contact, touch)
        contact["lead_page"] = contact.get("lead_page") or fields["source"]
        reward_referrer(tx, contact, "download")
        event = timeline_event(
            "download", contact, guide=guide["slug"], attribution=touch, **fields
        )
        tx.save(contact, event)
    token = tokens.make("download", {"c": contact["id"], "g": guide["slug"]})
    send(
        contact,
        "download",
        guide_title=guide["title"],
        download_url=link("forms.guide_file", token=token),
        confirm_url=confirm_link(contact) if send_confirmation else None,
    )
    return done("download")


def guide_path(guide: dict) -> str | None:
    folder = os.path.join(current_app.config["DATA_DIR"], "guides")
    path = safe_join(folder, guide.get("file") or "")
    return path if path and os.path.isfile(path) else None


@bp.get("/download/<token>")
def guide_file(token: str):
    payload, contact = contact_for("download", token)
    guide = sitemeta.guide(str(payload.get("g")))
    path = guide_path(guide) if guide else None
    if path is None:
        raise TrackerError("This guide is no longer available.", 404)
    get_storage().append_event(
        {
            "id": new_id(),
            "ts": now_iso(),
            "type": "event",
            "name": "guide-fetched",
            "contact": contact["id"],
            "props": {"guide": guide["slug"]},
        }
    )
    return send_file(path, as_attachment=True, download_name=os.path.basename(path))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@form_limit
def unsubscribe(token: str):
    _, contact = contact_for("unsubscribe", token)
    if request.method in ("GET", "HEAD"):  # HEAD too: link scanners send it
        return action_page("unsubscribe", contact["email"])
    check_origin()
    with get_storage().transaction() as tx:
        current = tx.get(contact["id"])
        if current and current["status"] != "unsubscribed":
            tx.save(
                people.unsubscribe(current, now=now_iso()),
                timeline_event("unsubscribe", current),
            )
    if request.form.get("List-Unsubscribe") == "One-Click":
        return {"ok": True, "message": reader_i18n.strings()["done"]["one_click"]}
    return done("unsubscribed")


@bp.get("/click/<token>")
def click(token: str):
    """Record a click from one of our emails on the reader's journey, then go on.

    The target is inside the signed token, so this is no open redirect; and
    recording an observation changes no one's state, so scanners may follow it.
    """
    payload = tokens.read("click", token)
    target = str(payload.get("u") or "")
    try:
        origin, host, path, _ = beacon.split_url(target)
    except beacon.InvalidBeacon:
        raise BadToken("This link is not valid.") from None
    if not sitemeta.origin_allowed(origin):
        raise BadToken("This link is not valid.")
    contact = str(payload.get("c") or "")
    if contact and get_storage().get_contact(contact) is None:
        contact = ""  # erased since the email went out: the click stays anonymous
    event = {
        "id": new_id(),
        "ts": now_iso(),
        "type": "click",
        "contact": contact or None,
        "visitor": visitor_for(origin),
        "host": host,
        "path": path,
        "props": {"email": str(payload.get("e") or "")[:64]}
        if payload.get("e")
        else None,
    }
    get_storage().append_event({k: v for k, v in event.items() if v is not None})
    return redirect(target, 302)


def feedback_score(raw: Any) -> int:
    try:
        score = int(str(raw))
    except ValueError:
        score = -1
    if not 0 <= score <= 10:
        raise TrackerError("Choose a score from 0 to 10.")
    return score


@bp.route("/feedback/<token>", methods=["GET", "POST"])
@form_limit
def feedback(token: str):
    """The digest's recommend-us question: GET shows the score, POST records it once."""
    payload, contact = contact_for("feedback", token)
    ask = str(payload.get("k") or "")
    if ask in contact.get("answered", []):
        raise BadToken("Thank you: your answer is already recorded.", 410)
    if request.method in ("GET", "HEAD"):  # HEAD too: link scanners send it
        score = feedback_score(request.args.get("score"))
        return action_page("feedback", score, score=score)
    check_origin()
    score = feedback_score(request.form.get("score"))
    comment = " ".join(str(request.form.get("comment") or "").split())[:2000] or None
    with get_storage().transaction() as tx:
        current = tx.get(contact["id"])
        if current is None or ask in current.get("answered", []):
            raise BadToken("Thank you: your answer is already recorded.", 410)
        updated = people.record_feedback(
            current, ask=ask, score=score, comment=comment, now=now_iso()
        )
        event = timeline_event("feedback", updated, score=score, comment=comment)
        tx.save(updated, event)
    return done("feedback")
