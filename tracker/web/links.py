"""The links we email: confirm, download the guide, unsubscribe, click, feedback.

Each link carries a signed token. A link that changes something opens a page
whose button POSTs: no GET changes anything, because mail scanners follow
every link they see (HEAD too). The routes sit on the forms blueprint
(`register`), so their endpoints are `forms.confirm`, `forms.guide_file`, ...
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, redirect, request, send_file

from .. import contacts
from ..db import get_storage
from ..errors import BadToken, TrackerError
from ..journey import preferences as prefs
from . import beacon, identity, pages, tokens
from . import site as sitemeta
from .requests import check_origin, new_id, now_iso, visitor_for
from .site import gettext as _

SCANNED = ("GET", "HEAD")  # what link scanners send: shows a page, changes nothing


def register(bp: Blueprint) -> None:
    """Add the emailed links' routes to the reader's blueprint."""
    both = ["GET", "POST"]
    bp.add_url_rule("/confirm/<token>", view_func=confirm, methods=both)
    bp.add_url_rule("/download/<token>", view_func=guide_file, methods=["GET"])
    bp.add_url_rule("/unsubscribe/<token>", view_func=unsubscribe, methods=both)
    bp.add_url_rule("/click/<token>", view_func=click, methods=["GET"])
    bp.add_url_rule("/feedback/<token>", view_func=feedback, methods=both)


def contact_for(purpose: str, token: str) -> tuple[dict, dict]:
    """The token's payload and the contact it names, or BadToken."""
    payload = tokens.read(purpose, token)
    contact = get_storage().get_contact(str(payload.get("c")))
    if contact is None:
        raise BadToken(contacts.USED, 410)
    return payload, contact


def ads_proof() -> dict[str, Any] | None:
    """The ad-audience consent given by ticking its box on the confirm page."""
    if not pages.ticked(request.form, "consent_ads"):
        return None
    proof = contacts.consent_proof({"form": "confirm-page", "source": request.path})
    return {**proof, "wording": proof["wording"]["ads"]}


def confirm(token: str):
    payload, contact = contact_for("confirm", token)
    ask = contacts.waiting_request(contact, payload)
    if request.method in SCANNED:
        consent = sitemeta.manifest().get("consent") or {}
        return pages.action_page(
            _("Confirm your subscription"),
            _(
                "Press the button to confirm the newsletter for %(email)s.",
                email=contact["email"],
            ),
            _("Confirm my subscription"),
            name=ask["first_name"],
            wording=ask["proof"]["wording"].get("newsletter"),
            ads_wording=consent.get("ads"),
            asked_ads=ask["ads"],
        )
    check_origin(signed=True)
    contacts.confirm(contact["id"], payload, ads_proof())
    return pages.done("confirmed")


def guide_file(token: str):
    payload, contact = contact_for("download", token)
    guide = sitemeta.guide(str(payload.get("g")))
    path = sitemeta.guide_path(guide) if guide else None
    if path is None:
        raise TrackerError("This guide is no longer available.", 404)
    if request.method == "GET":  # not HEAD: a scanner's peek fetches nothing
        contacts.first_fetch(contact["id"], str(payload.get("r")), guide["slug"])
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


def unsubscribe(token: str):
    """Stop all mail; a sequence's link also offers to stop only that series.

    A mail client's one-click POST (RFC 8058) stops all mail: the reader
    asked their mailbox to make it stop, and a series is only part of that.
    """
    payload, contact = contact_for("unsubscribe", token)
    series = sequence_title(payload.get("s"))
    if request.method in SCANNED:
        if series:
            return pages.action_page(
                _("Unsubscribe"),
                _(
                    "Stop the series “%(series)s”, or all emails to %(email)s?",
                    series=series,
                    email=contact["email"],
                ),
                _("Stop all emails"),
                series_button=_("Stop only this series"),
            )
        return pages.action_page(
            _("Unsubscribe"),
            _(
                "Press the button to stop all emails to %(email)s.",
                email=contact["email"],
            ),
            _("Unsubscribe"),
        )
    check_origin(signed=True)
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    if series and not one_click and request.form.get("scope") == "series":
        contacts.leave_sequence(contact["id"], str(payload["s"]))
        return pages.message_page(
            _("You have left the series"),
            _(
                "You will get no more emails of “%(series)s”. Other emails, "
                "such as the newsletter, still come.",
                series=series,
            ),
        )
    contacts.unsubscribe(contact["id"])
    if one_click:
        return pages.one_click_done()
    return pages.done("unsubscribed")


def sequence_title(name) -> str | None:
    """The owner's title of the sequence a link names, if it still exists."""
    manifest = sitemeta.manifest()
    names = {seq.get("name") for seq in manifest.get("sequences") or []}
    return prefs.sequence_title(manifest, name) if name in names else None


def click(token: str):
    """Record a click from one of our emails on the reader's journey, then go on.

    The target is inside the signed token, so this is no open redirect; and
    recording an observation changes no one's state, so scanners may follow it.
    """
    payload = tokens.read("click", token)
    target = str(payload.get("u") or "")
    try:
        origin, host, path, _query = beacon.split_url(target)
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


def feedback(token: str):
    """The digest's recommend-us question: GET shows the score, POST records it once."""
    payload, contact = contact_for("feedback", token)
    ask = str(payload.get("k") or "")
    if ask in contact.get("answered", []):
        raise BadToken("Thank you: your answer is already recorded.", 410)
    if request.method in SCANNED:
        score = feedback_score(request.args.get("score"))
        return pages.action_page(
            _("How likely are you to recommend us?"),
            _("Your score: %(score)s out of 10.", score=score),
            _("Send my answer"),
            score=score,
        )
    check_origin(signed=True)
    score = feedback_score(request.form.get("score"))
    comment = " ".join(str(request.form.get("comment") or "").split())[:2000] or None
    contacts.record_feedback(contact["id"], ask, score, comment)
    return pages.done("feedback")
