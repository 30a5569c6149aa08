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

from .. import mail, privacy
from ..errors import BadToken, TrackerError, wants_json
from ..i18n import reader as reader_i18n
from ..journey import attribution, people
from ..storage import get_storage
from . import agents, beacon, identity, tokens
from . import site as sitemeta
from .limits import forms as form_limit
from .limits import take_mail_quota
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
        "name": people.clean_name(contact.get("first_name")),
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
        if e.permanent:  # the address itself: trying again will not help
            raise TrackerError("We cannot send email to that address.") from None
        raise TrackerError(
            "We could not send the email just now. Please try again in a few minutes.",
            503,
        ) from None


def find_or_create(tx, email: str) -> dict:
    """Return the contact for email, or a new one that knows nothing but it."""
    return tx.find(email) or people.new_contact(email, now_iso(), new_id())


def this_browser() -> str | None:
    """The visitor id of the browser using an emailed link, to join its visits.

    Only the browser that proves the address is joined to the person, never
    the one that posted a form; and never one that asks not to be tracked.
    """
    if identity.no_tracking(request.headers):
        return None
    return visitor_for(sitemeta.public_base())


def believe(tx, contact: dict, request_: dict, kind: str) -> dict:
    """Apply what a proven request said: lead, name, referral, this browser."""
    contact = people.prove(contact, request_, now=now_iso())
    people.stitch(contact, this_browser())
    contact.setdefault("device", agents.device_class(user_agent()))
    note_referrer(tx, contact, request_.get("ref"))
    reward_referrer(tx, contact, kind)
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


def signup_request(data: dict, *, newsletter: bool, guide: str | None = None):
    """The request one form post makes, to be kept until its link is used."""
    fields = attribution_fields(data)
    return people.new_request(
        newsletter=newsletter,
        ads=ticked(data, "consent_ads"),
        first_name=people.clean_name(data.get("first_name")),
        proof=consent_proof(data),
        now=now_iso(),
        guide=guide,
        ref=str(data.get("ref") or "")[:64] or None,
        utm=fields["utm"],
    )


def keep_request(email: str, ask: dict, event: dict[str, Any] | None) -> dict:
    """Store a request on the address's contact (new if unknown); return it.

    `event` (the kind and its fields) goes on the timeline as asked, not done.
    """
    with get_storage().transaction() as tx:
        contact = people.add_request(find_or_create(tx, email), ask, now=now_iso())
        tx.save(contact, event and timeline_event(event.pop("type"), contact, **event))
    return contact


def refused(e: people.Refused) -> TrackerError:
    return TrackerError(str(e))


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
        raise refused(e) from None
    ask = signup_request(data, newsletter=True)
    known = get_storage().find_contact(email)
    if known and not people.asks_for_news(known, ads=ask["ads"]):
        return done("signup")  # nothing new to confirm: nothing sent, nothing kept
    if not take_mail_quota("MAIL_LIMIT_CONFIRM", "confirm", email):
        return done("signup")  # the same answer: the inbox is not flooded
    contact = keep_request(email, ask, {"type": "signup", **attribution_fields(data)})
    send(contact, "confirm", name=ask["first_name"], **confirm_context(contact, ask))
    config = current_app.config
    privacy.prune_daily(get_storage(), config["DATA_DIR"], int(config["PENDING_DAYS"]))
    return done("signup")


def confirm_context(contact: dict, ask: dict) -> dict[str, Any]:
    """What a confirmation email says will be agreed to, and its link."""
    token = tokens.make("confirm", {"c": contact["id"], "r": ask["id"]})
    return {
        "confirm_url": link("forms.confirm", token=token),
        "wording": ask["proof"]["wording"].get("newsletter"),
        "asked_ads": ask["ads"],
    }


def contact_for(purpose: str, token: str) -> tuple[dict, dict]:
    payload = tokens.read(purpose, token)
    contact = get_storage().get_contact(str(payload.get("c")))
    if contact is None:
        raise BadToken("This link has already been used or is no longer valid.", 410)
    return payload, contact


def waiting_request(contact: dict, payload: dict) -> dict:
    """The signup request a confirm link names, if it still waits."""
    ask = people.request_of(contact, payload.get("r"))
    if ask is None or not ask["newsletter"]:
        raise BadToken("This link has already been used or is no longer valid.", 410)
    return ask


def ads_proof() -> dict[str, Any] | None:
    """The ad-audience consent given by ticking its box on the confirm page."""
    if not ticked(request.form, "consent_ads"):
        return None
    proof = consent_proof({"form": "confirm-page", "source": request.path})
    return {**proof, "wording": proof["wording"]["ads"]}


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    payload, contact = contact_for("confirm", token)
    ask = waiting_request(contact, payload)
    if request.method in ("GET", "HEAD"):  # HEAD too: link scanners send it
        consent = sitemeta.manifest().get("consent") or {}
        return action_page(
            "confirm",
            contact["email"],
            name=ask["first_name"],
            wording=ask["proof"]["wording"].get("newsletter"),
            ads_wording=consent.get("ads"),
            asked_ads=ask["ads"],
        )
    check_origin(signed=True)
    with get_storage().transaction() as tx:
        contact = tx.get(contact["id"])
        if contact is None:
            raise BadToken(
                "This link has already been used or is no longer valid.", 410
            )
        ask = waiting_request(contact, payload)
        now = now_iso()
        ip_hash = identity.ip_hash(current_app.config["SECRET_KEY"], client_ip())
        contact = believe(tx, contact, ask, "signup")
        contact = people.confirm(
            contact, ask["id"], now=now, ip_hash=ip_hash, ads=ads_proof()
        )
        touch = attribution.credit(get_storage(), contact, now, ask.get("utm"))
        attribution.apply(contact, touch)
        contact.setdefault("lead_page", contact["consent"]["newsletter"].get("page"))
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
        raise refused(e) from None
    guide = sitemeta.guide(str(data.get("guide") or ""))
    if guide is None or not guide_path(guide):
        raise TrackerError("We do not have that guide.", 404)
    if not take_mail_quota("MAIL_LIMIT_GUIDE", "guide", guide["slug"], email):
        return done("download")  # the same answer: the inbox is not flooded
    known = get_storage().find_contact(email)
    news = ticked(data, "consent_newsletter")
    news = news and (known is None or people.asks_for_news(known, ads=False))
    news = news and take_mail_quota("MAIL_LIMIT_CONFIRM", "confirm", email)
    ask = signup_request(data, newsletter=news, guide=guide["slug"])
    contact = keep_request(email, ask, None)
    token = tokens.make(
        "download", {"c": contact["id"], "g": guide["slug"], "r": ask["id"]}
    )
    send(
        contact,
        "download",
        name=ask["first_name"],
        guide_title=guide["title"],
        download_url=link("forms.guide_file", token=token),
        **(confirm_context(contact, ask) if news else {"confirm_url": None}),
    )
    return done("download")


def guide_path(guide: dict) -> str | None:
    folder = os.path.join(current_app.config["DATA_DIR"], "guides")
    path = safe_join(folder, guide.get("file") or "")
    return path if path and os.path.isfile(path) else None


def first_fetch(contact_id: str, request_id: str, guide: str) -> None:
    """The guide's link is used: the address is proven, the download recorded."""
    with get_storage().transaction() as tx:
        contact = tx.get(contact_id)
        ask = people.request_of(contact or {}, request_id)
        if contact is None or ask is None or ask.get("fetched"):
            return
        contact = believe(tx, contact, ask, "download")
        ask = {**ask, "fetched": now_iso()}
        if ask["newsletter"]:  # its confirmation link still waits
            contact["requests"] = {**contact["requests"], ask["id"]: ask}
        else:
            contact["requests"] = {
                k: v for k, v in contact["requests"].items() if k != ask["id"]
            }
        now = now_iso()
        touch = attribution.credit(get_storage(), contact, now, ask.get("utm"))
        attribution.apply(contact, touch)
        proof = ask["proof"]
        contact["lead_page"] = contact.get("lead_page") or proof.get("page")
        fields = {"form": proof.get("form"), "source": proof.get("page")}
        event = timeline_event(
            "download",
            contact,
            guide=guide,
            attribution=touch,
            utm=ask.get("utm"),
            **fields,
        )
        tx.save(contact, event)


@bp.get("/download/<token>")
def guide_file(token: str):
    payload, contact = contact_for("download", token)
    guide = sitemeta.guide(str(payload.get("g")))
    path = guide_path(guide) if guide else None
    if path is None:
        raise TrackerError("This guide is no longer available.", 404)
    if request.method == "GET":  # not HEAD: a scanner's peek fetches nothing
        first_fetch(contact["id"], str(payload.get("r")), guide["slug"])
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
def unsubscribe(token: str):
    _, contact = contact_for("unsubscribe", token)
    if request.method in ("GET", "HEAD"):  # HEAD too: link scanners send it
        return action_page("unsubscribe", contact["email"])
    check_origin(signed=True)
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
    # A click links this browser's visit that day, unless it asks not to be.
    visitor = None if identity.no_tracking(request.headers) else visitor_for(origin)
    if contact and get_storage().get_contact(contact) is None:
        contact = ""  # erased since the email went out: the click stays anonymous
    event = {
        "id": new_id(),
        "ts": now_iso(),
        "type": "click",
        "contact": contact or None,
        "visitor": visitor,
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
def feedback(token: str):
    """The digest's recommend-us question: GET shows the score, POST records it once."""
    payload, contact = contact_for("feedback", token)
    ask = str(payload.get("k") or "")
    if ask in contact.get("answered", []):
        raise BadToken("Thank you: your answer is already recorded.", 410)
    if request.method in ("GET", "HEAD"):  # HEAD too: link scanners send it
        score = feedback_score(request.args.get("score"))
        return action_page("feedback", score, score=score)
    check_origin(signed=True)
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
