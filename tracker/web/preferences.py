"""The reader's own page: what we store about them, and their choices.

`GET /preferences/<token>` shows it and changes nothing. `POST` carries one
form's `action`: interests, the digest (every one, monthly, a pause),
leaving a sequence, language, the ad-audience consent, the download of all
their data (`privacy.export`, as `polku contacts export`) and, after a
confirmation step, erasure (`privacy.erase_everywhere`, as `polku contacts
erase`). The token (purpose "preferences", bound to the contact's id) is the
authentication, as on the other emailed links. Each change is one decision
of journey.preferences, made in one `storage.transaction()` and recorded on
the person's timeline with the wording the page showed (their consent log).

`POST /preferences` emails the link to an address. The answer is the same
whether the address is known or not, and so is the work before it: the
quota is counted and the email built for any address; only a known one's is
sent, after the answer has gone (`call_on_close`), so neither the page nor
its timing tells who is on the list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from .. import contacts, i18n, mail, privacy
from ..db import get_storage
from ..errors import BadToken, TrackerError, wants_json
from ..i18n import N_
from ..journey import people
from ..journey import preferences as prefs
from ..mail import retry
from . import links, pages
from . import site as sitemeta
from .limits import forms as form_limit
from .limits import take_mail_quota
from .preferences_page import WORDS, show, today
from .requests import allow_site_origin, check_origin, new_id, now_iso
from .site import gettext as _

bp = Blueprint("preferences", __name__)
bp.after_request(allow_site_origin)

FORM = "preferences-page"


@bp.after_request
def private(response):
    """The page shows personal data and its address is a key: never cached,
    never sent on as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def check_here(signed: bool = False) -> None:
    """The page's own forms post from the tracker's origin; others as elsewhere."""
    origin = request.headers.get("Origin")
    here = sitemeta.origin_of(request.host_url)
    if origin and sitemeta.origin_of(origin) == here:
        return
    check_origin(signed=signed)


# -- asking for the link -------------------------------------------------------------


@bp.get("/preferences")
def ask_page():
    """The form that asks for the link; changes nothing."""
    sent = _(ASKED) if "sent" in request.args else None
    return ask_form(sent=sent)


ASKED = N_(
    "Thank you. If we store anything about that address, a link to your page "
    "is on its way to it."
)


def ask_form(**context: Any) -> str:
    return render_template(
        "preferences_ask.html",
        title=_("Your data and your choices"),
        message=_(
            "Give your email address and we will send you a link to your own "
            "page: what we store about you, your choices, and a way to delete it."
        ),
        action=url_for("preferences.ask"),
        **context,
    )


@bp.route("/preferences", methods=["POST", "OPTIONS"])
@form_limit
def ask():
    if request.method == "OPTIONS":
        return "", 204
    check_here()
    data = pages.form_data()
    if data.get("website"):
        return asked()  # a bot filled the honeypot
    try:
        email = people.normalise_email(data.get("email"))
    except people.Refused as e:
        if wants_json():
            raise TrackerError(str(e), field="email") from None
        return ask_form(error=_(str(e)), email=str(data.get("email") or "")), 400
    fresh = take_mail_quota("MAIL_LIMIT_PREFERENCES", "preferences", email)
    known = get_storage().find_contact(email)
    msg = link_email(known or {"id": new_id(), "email": email})  # built alike
    response = current_app.make_response(asked())
    if fresh and known is not None:
        response.call_on_close(later(msg, known))
    return response


def asked():
    if wants_json():
        return {"ok": True, "message": _(ASKED)}
    return redirect(url_for("preferences.ask_page", sent=1), 303)


def link_email(contact: dict):
    """The email with the link to the person's page, in their language."""
    context = contacts.email_context(contact)
    with sitemeta.speaking(contact.get("lang")):
        subject = _("Your data and your choices at %(site)s", site=context["site_name"])
        text = render_template("email/preferences.txt", **context)
        html = render_template("email/preferences.html", **context)
    return mail.build(
        current_app.config,
        contact["email"],
        subject,
        text,
        html,
        send="preferences",
        contact=contact["id"],
    )


def later(msg, contact: dict) -> Callable[[], None]:
    """Send msg once the answer has gone, keeping the server's answer as every
    email does (mail.retry: a 4xx is tried again later). A link the person asks
    for goes even to a suppressed address, as the guide does."""
    config, logger, storage = current_app.config, current_app.logger, get_storage()

    def send() -> None:
        try:
            answer = retry.deliver(
                storage,
                lambda m: mail.send_one(config, m),
                msg,
                send="preferences",
                contact=contact,
                needs=retry.ASKED,
            )
        except Exception:  # after the answer: nobody else can be told
            logger.exception("could not send the preferences link")
            return
        if answer.result not in (retry.SENT, retry.QUEUED):
            reason = answer.status or answer.reason
            logger.error("could not send the preferences link: %s", reason)

    return send


# -- the page --------------------------------------------------------------------------


@bp.route("/preferences/<token>", methods=["GET", "POST"])
def page(token: str):
    _payload, contact = links.contact_for("preferences", token)
    with sitemeta.speaking(contact.get("lang")):
        if request.method in links.SCANNED:
            return show(contact, saved=request.args.get("saved"))
        check_here(signed=True)
        action = str(request.form.get("action") or "")
        if action == "download":
            return download(contact)
        if action == "erase":
            return erase(contact)
        if action not in CHANGES:
            raise TrackerError("Choose what to change.")
        try:
            change, wording = CHANGES[action](request.form)
            decide(contact["id"], change, wording)
        except people.Refused as e:
            fresh = get_storage().get_contact(contact["id"]) or contact
            return show(fresh, error=_(str(e))), 400
    return redirect(url_for("preferences.page", token=token, saved=action), 303)


def decide(contact_id: str, change, wording: str) -> None:
    """Apply one choice to the fresh contact and record it, with its wording."""
    with get_storage().transaction() as tx:
        current = tx.get(contact_id)
        if current is None:
            raise BadToken(contacts.USED, 410)
        updated, record = change(current)
        if record is None:
            return  # nothing changed: nothing to record
        kind = record.pop("type", "preference")
        event = contacts.timeline_event(
            kind, updated, wording=wording, form=FORM, **record
        )
        tx.save(updated, event)


def interests(form):
    offered = prefs.site_tags(sitemeta.manifest())
    chosen = form.getlist("interests")
    return (
        lambda c: prefs.choose_interests(c, chosen, offered, now=now_iso()),
        _(WORDS["interests"]),
    )


def digest(form):
    choice = str(form.get("frequency") or "")
    until = form.get("paused_until")
    shown = (*prefs.FREQUENCIES, prefs.PAUSE)
    wording = _(WORDS[choice]) if choice in shown else ""
    if choice == prefs.PAUSE:
        wording += f" {until}"
    day = today()
    return (
        lambda c: prefs.choose_digest(c, choice, until, today=day, now=now_iso()),
        wording,
    )


def language(form):
    offered = prefs.site_languages(sitemeta.manifest(), i18n.LANGUAGES)
    lang = str(form.get("lang") or "")
    return (
        lambda c: prefs.choose_lang(c, lang, offered, now=now_iso()),
        _(WORDS["lang"]),
    )


def ads(form):
    if form.get("choice") == "withdraw":
        return (
            lambda c: prefs.withdraw_ads(c, now=now_iso()),
            _(WORDS["ads_withdraw"]),
        )
    if not pages.ticked(form, "consent_ads"):
        raise people.Refused("Tick the box to give your consent.")
    proof = contacts.consent_proof({"form": FORM, "source": url_for(".ask_page")})
    wording = proof["wording"]["ads"]
    if not wording:
        raise people.Refused("There is nothing to consent to here.")
    proof = {**proof, "wording": wording}
    return (lambda c: prefs.grant_ads(c, proof, now=now_iso()), wording)


def leave(form):
    name = str(form.get("sequence") or "")
    title = prefs.sequence_title(sitemeta.manifest(), name)
    return (
        lambda c: prefs.leave_sequence(c, name, now=now_iso()),
        _(WORDS["leave"], title=title),
    )


CHANGES = {
    "interests": interests,
    "digest": digest,
    "lang": language,
    "ads": ads,
    "leave": leave,
}


def download(contact: dict):
    """Everything stored about the person, as `polku contacts export` gives it."""
    data = privacy.export(get_storage(), contact)
    response = current_app.response_class(
        json.dumps(data, indent=2, ensure_ascii=False), mimetype="application/json"
    )
    response.headers["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


def erase(contact: dict):
    """A confirmation page first; then the erasure `polku contacts erase` does."""
    if request.form.get("confirm") != "yes":
        return render_template(
            "preferences_erase.html",
            title=_("Delete your data?"),
            message=_(
                "This deletes everything we store about %(email)s.",
                email=contact["email"],
            ),
            action=request.path,
            back=request.path,
        )
    config = current_app.config
    privacy.erase_everywhere(
        get_storage(), config["DATA_DIR"], contact, config["SECRET_KEY"]
    )
    return render_template(
        "message.html",
        title=_("Your data is deleted"),
        message=_(
            "We have deleted %(email)s and everything we stored about you. "
            "No more emails will come from us.",
            email=contact["email"],
        ),
    )
