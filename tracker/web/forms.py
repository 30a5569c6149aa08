"""The reader's forms: newsletter signup and guide download.

Plain HTML posts get a 303 to a thank-you page, or when refused to the form
again, filled in, with the reason (retry.py); JSON callers get JSON. Nothing
a form says is believed until the link it emails is used (links.py, whose
routes this blueprint carries too, so their endpoints are `forms.*`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from .. import contacts, privacy
from ..db import get_storage
from ..errors import BadToken, TrackerError
from ..journey import people, suppression
from ..journey.suppression import is_suppressed
from . import links, pages, retry, tokens
from . import site as sitemeta
from .limits import forms as form_limit
from .limits import take_mail_quota
from .requests import allow_site_origin, check_origin, now_iso
from .site import gettext as _

bp = Blueprint("forms", __name__)
bp.after_request(allow_site_origin)
bp.app_context_processor(pages.template_context)  # emails and pages alike
links.register(bp)


def signup_request(data: dict, *, newsletter: bool, guide: str | None = None):
    """The request one form post makes, to be kept until its link is used."""
    fields = contacts.attribution_fields(data)
    return people.new_request(
        newsletter=newsletter,
        ads=pages.ticked(data, "consent_ads"),
        first_name=people.clean_name(data.get("first_name")),
        proof=contacts.consent_proof(data),
        now=now_iso(),
        guide=guide,
        ref=str(data.get("ref") or "")[:64] or None,
        utm=fields["utm"],
    )


def email_address(data: dict) -> str:
    try:
        return people.normalise_email(data.get("email"))
    except people.Refused as e:
        raise TrackerError(str(e), field="email") from None


def confirm_context(contact: dict, ask: dict) -> dict[str, Any]:
    """What a confirmation email says will be agreed to, and its link."""
    token = tokens.make("confirm", {"c": contact["id"], "r": ask["id"]})
    return {
        "confirm_url": sitemeta.link("forms.confirm", token=token),
        "wording": ask["proof"]["wording"].get("newsletter"),
        "asked_ads": ask["ads"],
    }


def suppressed(email: str, known: dict | None) -> bool:
    """The address bounced or complained: kept on its contact, or, once the
    person was erased, as a keyed hash (see privacy.erase_everywhere)."""
    if known is not None:
        return is_suppressed(known)
    secret = current_app.config["SECRET_KEY"]
    return privacy.still_suppressed(get_storage(), secret, email)


def reprove_days() -> dict[str, int]:
    config = current_app.config
    return {
        "complaint_days": int(config["COMPLAINT_REPROVE_DAYS"]),
        "bounce_days": int(config["BOUNCE_REPROVE_DAYS"]),
    }


def held_back(email: str, known: dict | None, form: str) -> bool:
    """True when a suppression stands against this newsletter signup.

    A suppression older than its setting lets the signup through: the
    confirmation goes out, and using its link lifts the suppression. Before
    that the reader gets the usual answer and nothing is sent; the owner sees
    the refusal and its reason on the person's timeline (as often as a
    confirmation could have been sent: the quota of POLKU_MAIL_LIMIT_CONFIRM).
    An erased address, kept only as a hash, is never mailed again.
    """
    if not suppressed(email, known):
        return False
    if known is None:
        return True
    stands = known["suppressed"]
    now, days = now_iso(), reprove_days()
    if suppression.may_reprove(stands, now, **days):
        return False
    if take_mail_quota("MAIL_LIMIT_CONFIRM", "suppressed", email):
        until = suppression.reprove_from(stands, **days)
        with get_storage().transaction() as tx:
            current = tx.get(known["id"])
            if current is not None:
                event = contacts.timeline_event(
                    "signup_suppressed",
                    current,
                    reason=stands.get("reason"),
                    since=stands.get("at"),
                    until=until,
                    form=form,
                )
                tx.save(current, event)
    return True


@bp.route("/subscribe", methods=["POST", "OPTIONS"])
@form_limit
def subscribe():
    if request.method == "OPTIONS":
        return "", 204
    check_origin()
    data = pages.form_data()
    if data.get("website"):
        return pages.done("signup")  # a bot filled the honeypot
    email = email_address(data)
    if not pages.ticked(data, "consent_newsletter"):
        raise TrackerError(
            "Please tick the box to agree to receive the newsletter.",
            field="consent_newsletter",
        )
    ask = signup_request(data, newsletter=True)
    known = get_storage().find_contact(email)
    if held_back(email, known, "signup"):
        return pages.done("signup")  # a suppressed address: nothing sent or kept
    if known and not is_suppressed(known):
        if not people.asks_for_news(known, ads=ask["ads"]):
            return pages.done("signup")  # nothing new to confirm: nothing sent
    if not take_mail_quota("MAIL_LIMIT_CONFIRM", "confirm", email):
        return pages.done("signup")  # the same answer: the inbox is not flooded
    event = {"type": "signup", **contacts.attribution_fields(data)}
    contact = contacts.keep_request(email, ask, event)
    subject = _("Please confirm your subscription")
    context = confirm_context(contact, ask)
    contacts.send_email(
        contact, "confirm", subject, ask["id"], name=ask["first_name"], **context
    )
    config = current_app.config
    privacy.prune_daily(
        get_storage(),
        config["DATA_DIR"],
        int(config["PENDING_DAYS"]),
        config["SECRET_KEY"],
    )
    return pages.done("signup")


@bp.route("/download", methods=["POST", "OPTIONS"])
@form_limit
def download():
    if request.method == "OPTIONS":
        return "", 204
    check_origin()
    data = pages.form_data()
    if data.get("website"):
        return pages.done("download")
    email = email_address(data)
    guide = sitemeta.guide(str(data.get("guide") or ""))
    if guide is None or not sitemeta.guide_path(guide):
        raise TrackerError("We do not have that guide.", 404, field="guide")
    if not take_mail_quota("MAIL_LIMIT_GUIDE", "guide", guide["slug"], email):
        return pages.done("download")  # the same answer: the inbox is not flooded
    known = get_storage().find_contact(email)
    news = pages.ticked(data, "consent_newsletter")
    news = news and not held_back(email, known, "download")
    news = news and (
        known is None or is_suppressed(known) or people.asks_for_news(known, ads=False)
    )
    news = news and take_mail_quota("MAIL_LIMIT_CONFIRM", "confirm", email)
    ask = signup_request(data, newsletter=news, guide=guide["slug"])
    contact = contacts.keep_request(email, ask, None)
    token = tokens.make(
        "download", {"c": contact["id"], "g": guide["slug"], "r": ask["id"]}
    )
    contacts.send_email(
        contact,
        "download",
        _("Your guide: %(guide_title)s", guide_title=guide["title"]),
        ask["id"],
        asked=True,  # the guide: a link the person asks for
        name=ask["first_name"],
        guide_title=guide["title"],
        download_url=sitemeta.link("forms.guide_file", token=token),
        **(confirm_context(contact, ask) if news else {"confirm_url": None}),
    )
    return pages.done("download")


@bp.route("/form/<token>")
def form_again(token: str):
    """A refused form, filled in as it was typed, with the reason; changes nothing."""
    kept = retry.read(token)
    if kept == retry.EXPIRED:
        raise BadToken("This form has expired. Please fill it in again.", 410)
    if not isinstance(kept, dict):
        raise BadToken("This link is not valid. Please check that it was copied whole.")
    return pages.form_page(kept)
