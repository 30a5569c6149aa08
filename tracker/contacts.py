"""What the forms, the emailed links, the conversion API and mail share about a person.

A service, not a blueprint: views call it inside a request. Each decision is
made by the pure functions of journey.people and made durable in one
`storage.transaction()` before it is acknowledged.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request

from . import mail
from .db import get_storage
from .errors import BadToken, TrackerError
from .journey import attribution, people, preferences, suppression
from .mail import retry
from .web import agents, identity, tokens
from .web import site as sitemeta
from .web.requests import client_ip, new_id, now_iso, user_agent, visitor_for

USED = "This link has already been used or is no longer valid."
SUBSCRIBED = "You are already subscribed: this link has done its work."


# -- what a request says about where a person came from ---------------------------


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


def timeline_event(kind: str, contact: dict, **fields: Any) -> dict[str, Any]:
    event = {"id": new_id(), "ts": now_iso(), "type": kind, "contact": contact["id"]}
    return {**event, **{k: v for k, v in fields.items() if v is not None}}


def credit(contact: dict, now: str, form_utm: dict | None = None) -> dict[str, Any]:
    """Credit a conversion at now to the person's visits; keep it on the contact."""
    visitors = set(contact.get("visitors", []))
    visits = get_storage().events_of_visitors(visitors, attribution.since(now))
    touch = attribution.credit(visits, now, form_utm)
    attribution.apply(contact, touch)
    return touch


# -- a person, found, believed and credited ----------------------------------------


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


# -- what a person asked for, and what their links do ------------------------------


def keep_request(email: str, ask: dict, event: dict[str, Any] | None) -> dict:
    """Store a request on the address's contact (new if unknown); return it.

    `event` (the kind and its fields) goes on the timeline as asked, not done.
    """
    with get_storage().transaction() as tx:
        contact = people.add_request(find_or_create(tx, email), ask, now=now_iso())
        tx.save(contact, event and timeline_event(event.pop("type"), contact, **event))
    return contact


def waiting_request(contact: dict, payload: dict) -> dict:
    """The signup request a confirm link names, if it still waits."""
    ask = people.request_of(contact, payload.get("r"))
    if ask is None or not ask["newsletter"]:
        # A second click on the link of a confirmed subscriber says so, not
        # "invalid": the reader did nothing wrong.
        raise BadToken(SUBSCRIBED if contact["status"] == "confirmed" else USED, 410)
    return ask


def confirm(contact_id: str, payload: dict, ads: dict | None) -> None:
    """The address is proven by its confirm link: subscribe the person."""
    with get_storage().transaction() as tx:
        contact = tx.get(contact_id)
        if contact is None:
            raise BadToken(USED, 410)
        ask = waiting_request(contact, payload)
        now = now_iso()
        ip_hash = identity.ip_hash(current_app.config["SECRET_KEY"], client_ip())
        contact = believe(tx, contact, ask, "signup")
        contact = people.confirm(contact, ask["id"], now=now, ip_hash=ip_hash, ads=ads)
        # The person proved the address works and wants mail: a suppression
        # (a bounce, a complaint) is lifted, and the timeline says which.
        lifted = (contact.get("suppressed") or {}).get("reason")
        if lifted:
            contact = suppression.lift(contact)
        touch = credit(contact, now, ask.get("utm"))
        contact.setdefault("lead_page", contact["consent"]["newsletter"].get("page"))
        event = timeline_event("confirm", contact, attribution=touch, lifted=lifted)
        tx.save(contact, event)


def first_fetch(contact_id: str, request_id: str, guide: str) -> None:
    """The guide's link is used: the address is proven, the download recorded."""
    with get_storage().transaction() as tx:
        contact = tx.get(contact_id)
        ask = people.request_of(contact or {}, request_id)
        if contact is None or ask is None or ask.get("fetched"):
            return
        now = now_iso()
        contact = believe(tx, contact, ask, "download")
        contact = people.fetched(contact, ask, now=now)
        touch = credit(contact, now, ask.get("utm"))
        proof = ask["proof"]
        contact["lead_page"] = contact.get("lead_page") or proof.get("page")
        event = timeline_event(
            "download",
            contact,
            guide=guide,
            attribution=touch,
            utm=ask.get("utm"),
            form=proof.get("form"),
            source=proof.get("page"),
        )
        tx.save(contact, event)


def unsubscribe(contact_id: str) -> None:
    with get_storage().transaction() as tx:
        current = tx.get(contact_id)
        if current and current["status"] != "unsubscribed":
            tx.save(
                people.unsubscribe(current, now=now_iso()),
                timeline_event("unsubscribe", current),
            )


def leave_sequence(contact_id: str, name: str) -> None:
    """The reader stops one series from its email's link; the rest still comes."""
    with get_storage().transaction() as tx:
        current = tx.get(contact_id) or {}
        try:
            updated, change = preferences.leave_sequence(current, name, now=now_iso())
        except people.Refused:
            return  # finished or left already: nothing more of it will come
        change = dict(change)
        tx.save(updated, timeline_event(change.pop("type"), updated, **change))


def record_feedback(contact_id: str, ask: str, score: int, comment: str | None):
    """Keep the answer to one recommend-us question, once."""
    with get_storage().transaction() as tx:
        current = tx.get(contact_id)
        if current is None or ask in current.get("answered", []):
            raise BadToken("Thank you: your answer is already recorded.", 410)
        updated = people.record_feedback(
            current, ask=ask, score=score, comment=comment, now=now_iso()
        )
        event = timeline_event("feedback", updated, score=score, comment=comment)
        tx.save(updated, event)


# -- the reader's emails -----------------------------------------------------------


def email_context(contact: dict) -> dict[str, Any]:
    """What every email to a reader shows: their name, the site, and the link to
    their own page (what we store, their choices), signed for them."""
    site = sitemeta.manifest().get("site") or {}
    own_page = tokens.make("preferences", {"c": contact["id"]})
    return {
        "name": people.clean_name(contact.get("first_name")),
        "site_name": site.get("name") or "Polku",
        "site_url": sitemeta.public_base() + "/",
        "preferences_url": sitemeta.link("preferences.page", token=own_page),
        "pending_days": int(current_app.config["PENDING_DAYS"]),
        "download_days": int(current_app.config["DOWNLOAD_DAYS"]),
    }


def send_email(
    contact: dict,
    template: str,
    subject: str,
    key: str | None = None,
    asked: bool = False,
    **context: Any,
) -> None:
    """Email the reader `email/<template>.txt` and `.html`, in the site's language.

    key: what this email answers (a request's id): its stable Message-ID.
    asked: a link the person asked for (the guide): a later try is not stopped
    by a suppression. The server's answer is kept (mail.retry): a 4xx queues
    the email (the reader is told it is on its way), a 5xx suppresses the
    address and tells the reader, a policy block is the owner's alert.
    """
    context = {**email_context(contact), **context}
    config = current_app.config
    msg = mail.build(
        config,
        contact["email"],
        subject,
        render_template(f"email/{template}.txt", **context),
        render_template(f"email/{template}.html", **context),
        key=key and f"{template}:{key}",
        send=template,
        contact=contact.get("id"),
    )
    answer = retry.deliver(
        get_storage(),
        lambda m: mail.send_one(config, m),
        msg,
        send=template,
        contact=contact,
        needs=retry.ASKED if asked else retry.MAILABLE,
    )
    if answer.result in (retry.SENT, retry.QUEUED):
        return
    current_app.logger.error(
        "could not send %s to %s: %s",
        template,
        contact["email"],
        answer.status or answer.reason,
    )
    if answer.result in (retry.BOUNCED, retry.REFUSED):  # the address itself
        raise TrackerError("We cannot send email to that address.")
    raise TrackerError(
        "We could not send the email just now. Please try again in a few minutes.",
        503,
    )
