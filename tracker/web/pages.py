"""What the reader's routes answer: the posted fields, a done answer, an action page.

Shared by the forms (forms.py) and the emailed links (links.py); every word is
in the site's language.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for

from .. import i18n
from ..errors import TrackerError, wants_json
from ..i18n import N_
from . import site as sitemeta
from .requests import json_body

TRUE = {"yes", "on", "true", "1"}
FIELD_MAX = 2048


# What a form or a button answers when it worked (JSON callers see it).
DONE = {
    "signup": N_("Thanks! Please check your inbox and confirm your subscription."),
    "confirmed": N_("Your subscription is confirmed. Welcome!"),
    "download": N_("Thanks! The link to the guide is on its way to your inbox."),
    "unsubscribed": N_("You are unsubscribed."),
    "one_click": N_("Unsubscribed."),
    "feedback": N_("Thank you for your answer!"),
    "quote": N_("Thank you! We have your request and will be in touch soon."),
}


def form_data() -> dict[str, Any]:
    """Return the posted fields, from an HTML form or a JSON object."""
    if request.is_json:
        data = json_body()
        if not isinstance(data, dict):
            raise TrackerError("Send the form as form fields or as a JSON object.")
    else:
        data = request.form.to_dict()
    return {k: v[:FIELD_MAX] if isinstance(v, str) else v for k, v in data.items()}


def ticked(data, name: str) -> bool:
    value = data.get(name)
    return value is True or str(value).lower() in TRUE


def done(page: str):
    """Answer a successful form: JSON for scripts, else a 303 to the thank-you page."""
    if wants_json():
        return {"ok": True, "message": sitemeta.gettext(DONE[page])}
    return redirect(sitemeta.status_page(page), 303)


def one_click_done() -> dict[str, Any]:
    """The answer to an RFC 8058 one-click unsubscribe (mail providers read it)."""
    return {"ok": True, "message": sitemeta.gettext(DONE["one_click"])}


def message_page(title: str, message: str) -> str:
    """A page that only says what happened (no form, nothing more to do)."""
    return render_template("message.html", title=title, message=message)


def action_page(title: str, message: str, button: str, **context: Any) -> str:
    """Render the page of an emailed link: its button POSTs what the link asks."""
    return render_template(
        "action.html",
        title=title,
        message=message,
        action=request.path,
        button=button,
        **context,
    )


SHOWN_AT = {"email", "consent_newsletter"}  # reasons shown next to their field


def form_page(kept: dict[str, Any]) -> str:
    """Render a refused form again (retry.py): the reason, the typed values."""
    if kept["kind"] == "quote":
        return quote_page(kept)
    signup = kept["kind"] == "signup"
    data = kept["data"]
    guide = None if signup else sitemeta.guide(data.get("guide", ""))
    consent = sitemeta.manifest().get("consent") or {}
    return render_template(
        "form.html",
        title=sitemeta.gettext("Please check the form"),
        message="" if kept["field"] in SHOWN_AT else kept["reason"],
        reason=kept["reason"],
        field=kept["field"],
        signup=signup,
        guide_title=guide.get("title") if guide else None,
        action=url_for("forms.subscribe" if signup else "forms.download"),
        data=data,
        ticked={k for k in ("consent_newsletter", "consent_ads") if ticked(data, k)},
        wording={k: str(consent.get(k) or "") for k in ("newsletter", "ads")},
    )


def quote_page(kept: dict[str, Any]) -> str:
    """The quote request form again (web/quotes.py), filled in, with the reason."""
    consent = sitemeta.manifest().get("consent") or {}
    return render_template(
        "quote_form.html",
        title=sitemeta.gettext("Please check the form"),
        message="" if kept["field"] else kept["reason"],
        reason=kept["reason"],
        field=kept["field"],
        action=url_for("quotes.request_quote"),
        data=kept["data"],
        ticked={k for k in ("consent_quote",) if ticked(kept["data"], k)},
        wording=str(consent.get("quote") or ""),
    )


def template_context() -> dict[str, Any]:
    """What every page and email shows of the site: its language (`<html lang>`),
    its name and its home page, so that the tracker's pages belong to the site."""
    try:
        site = sitemeta.manifest().get("site") or {}
        home = sitemeta.public_base() + "/"
    except (OSError, RuntimeError, ValueError):  # no app or request; no site yet
        site, home = {}, None
    return {
        "reader_lang": i18n.language(sitemeta.site_lang()),
        "site_title": str(site.get("name") or "") if isinstance(site, dict) else "",
        "site_home": home,
    }
