"""The reader's words, in English and Finnish: the tracker's emails and pages.

The language follows the site's (the manifest's `site.lang`); anything missing
in a translation falls back to English. Templates get the strings as `reader`
and the language as `reader_lang` (see `template_context`, registered by the
forms blueprint for every template). Strings with `%s` take one value through
Python's `%` or Jinja's `format` filter; email subjects take named ones.

Errors are raised in English everywhere (tokens, people, requests, Werkzeug)
and translated at the edge (errors.py): a sentence written here is looked up
by its English wording.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
)

from ..web.site import site_lang
from . import FALLBACK, Catalog

EN: dict[str, Any] = {
    # the pages whose button does what an emailed link asks
    "confirm_title": "Confirm your subscription",
    "confirm_message": "Press the button to confirm the newsletter for %s.",
    "confirm_button": "Confirm my subscription",
    "confirm_name": "We will greet you as %s.",
    "confirm_agree": "By confirming you agree to this:",
    "ads_separate": "Including your address in our ad audiences is a separate "
    "choice: it happens only if you tick the box above yourself.",
    "ads_asked": "The signup form asked for it too.",
    "unsubscribe_title": "Unsubscribe",
    "unsubscribe_message": "Press the button to stop all emails to %s.",
    "unsubscribe_button": "Unsubscribe",
    "feedback_title": "How likely are you to recommend us?",
    "feedback_message": "Your score: %s out of 10.",
    "feedback_button": "Send my answer",
    "comment_label": "Anything you would like to tell us? (optional)",
    "back_to_site": "Back to the site",
    "error_title": "Sorry",
    # what a form or a button answers when it worked (JSON callers see it)
    "done": {
        "signup": "Thanks! Please check your inbox and confirm your subscription.",
        "confirmed": "Your subscription is confirmed. Welcome!",
        "download": "Thanks! The link to the guide is on its way to your inbox.",
        "unsubscribed": "You are unsubscribed.",
        "one_click": "Unsubscribed.",
        "feedback": "Thank you for your answer!",
    },
    # emails
    "hello": "Hello,",
    "hello_name": "Hello %s,",
    "confirm_subject": "Please confirm your subscription",
    "confirm_intro": "Please confirm that you want the %s newsletter",
    "confirm_how": "The link opens a page with a button; nothing happens until "
    "you press it.",
    "confirm_ignore": "If you did not ask for this, ignore this email and we will "
    "forget the address within %s days.",
    "confirm_what": "Confirming means you agree to this:",
    "confirm_ads_later": "You also asked to be in our ad audiences: the page "
    "the link opens asks you about that separately.",
    "download_subject": "Your guide: %(guide_title)s",
    "download_title": "Your guide",
    "download_intro": "Here is your copy of %s",
    "quoted": '"%s"',
    "download_button": "Download the guide",
    "download_valid": "The link works for %s days.",
    "also_newsletter": "You also asked for our newsletter.",
    "confirm_link": "Confirm the subscription",
    "confirm_here": "Please confirm it here:",
    # errors, raised in English elsewhere and looked up by their wording
    "form_fields": "Send the form as form fields or as a JSON object.",
    "tick_newsletter": "Please tick the box to agree to receive the newsletter.",
    "email_required": "Email address is required.",
    "email_invalid": "That email address does not look right.",
    "already_confirmed": "This subscription is already confirmed.",
    "mail_failed": "We could not send the email just now. Please try again in a "
    "few minutes.",
    "address_refused": "We cannot send email to that address.",
    "link_used": "This link has already been used or is no longer valid.",
    "link_expired": "This link has expired. Please ask for a new one.",
    "link_cut": "This link is not valid. Please check that it was copied whole.",
    "link_invalid": "This link is not valid.",
    "no_guide": "We do not have that guide.",
    "guide_gone": "This guide is no longer available.",
    "score_range": "Choose a score from 0 to 10.",
    "already_answered": "Thank you: your answer is already recorded.",
    "foreign_origin": "Requests are accepted only from the site's own pages.",
    "bad_request": BadRequest.description,
    "not_found": NotFound.description,
    "method_not_allowed": MethodNotAllowed.description,
    "too_large": RequestEntityTooLarge.description,
    # in place of a message with no translation of its own (see GENERIC)
    "rate_limited": "Too many tries in a short time. Please wait a minute and "
    "try again.",
    "unavailable": "We cannot save anything just now. Please try again shortly.",
}

FI: dict[str, Any] = {
    "confirm_title": "Vahvista uutiskirjeen tilaus",
    "confirm_message": "Vahvista uutiskirjeen tilaus osoitteelle %s painamalla "
    "painiketta.",
    "confirm_button": "Vahvista tilaus",
    "confirm_name": "Tervehdimme sinua nimellä %s.",
    "confirm_agree": "Vahvistamalla hyväksyt tämän:",
    "ads_separate": "Osoitteesi liittäminen mainosyleisöihimme on erillinen "
    "valinta: se tehdään vain, jos rastitat yllä olevan ruudun itse.",
    "ads_asked": "Tilauslomakkeella pyydettiin myös sitä.",
    "unsubscribe_title": "Peru tilaus",
    "unsubscribe_message": "Paina painiketta, niin emme lähetä enää viestejä "
    "osoitteeseen %s.",
    "unsubscribe_button": "Peru tilaus",
    "feedback_title": "Kuinka todennäköisesti suosittelisit meitä?",
    "feedback_message": "Arviosi: %s / 10.",
    "feedback_button": "Lähetä vastaus",
    "comment_label": "Haluatko kertoa meille vielä jotain? (vapaaehtoinen)",
    "back_to_site": "Takaisin sivustolle",
    "error_title": "Pahoittelut",
    "done": {
        "signup": "Kiitos! Katso sähköpostisi ja vahvista tilaus.",
        "confirmed": "Tilauksesi on vahvistettu. Tervetuloa!",
        "download": "Kiitos! Oppaan latauslinkki on matkalla sähköpostiisi.",
        "unsubscribed": "Tilauksesi on peruttu.",
        "one_click": "Tilaus peruttu.",
        "feedback": "Kiitos vastauksestasi!",
    },
    "hello": "Hei,",
    "hello_name": "Hei %s,",
    "confirm_subject": "Vahvista uutiskirjeen tilaus",
    "confirm_intro": "Vahvista vielä, että haluat tilata uutiskirjeen sivustolta %s",
    "confirm_how": "Linkki avaa sivun, jolla on painike. Mitään ei tapahdu, ennen "
    "kuin painat sitä.",
    "confirm_ignore": "Jos et pyytänyt tätä, voit jättää viestin huomiotta. "
    "Poistamme osoitteen %s päivän kuluessa.",
    "confirm_what": "Vahvistamalla hyväksyt tämän:",
    "confirm_ads_later": "Pyysit myös osoitteesi liittämistä mainosyleisöihimme: "
    "linkin avaama sivu kysyy sitä erikseen.",
    "download_subject": "Oppaasi: %(guide_title)s",
    "download_title": "Oppaasi",
    "download_intro": "Tässä pyytämäsi opas %s",
    "quoted": "”%s”",
    "download_button": "Lataa opas",
    "download_valid": "Linkki toimii %s päivää.",
    "also_newsletter": "Pyysit myös uutiskirjettämme.",
    "confirm_link": "Vahvista tilaus",
    "confirm_here": "Vahvista tilaus tästä:",
    "form_fields": "Lähetä lomake lomakekenttinä tai JSON-objektina.",
    "tick_newsletter": "Hyväksy uutiskirjeen tilaus rastittamalla ruutu.",
    "email_required": "Kirjoita sähköpostiosoitteesi.",
    "email_invalid": "Sähköpostiosoite ei näytä oikealta.",
    "already_confirmed": "Tilaus on jo vahvistettu.",
    "mail_failed": "Viestin lähettäminen ei onnistunut juuri nyt. Yritä uudelleen "
    "muutaman minuutin kuluttua.",
    "address_refused": "Tähän osoitteeseen ei voi lähettää sähköpostia.",
    "link_used": "Tätä linkkiä on jo käytetty, tai se ei ole enää voimassa.",
    "link_expired": "Linkki on vanhentunut. Pyydä uusi.",
    "link_cut": "Linkki ei kelpaa. Tarkista, että kopioit sen kokonaan.",
    "link_invalid": "Linkki ei kelpaa.",
    "no_guide": "Meillä ei ole sellaista opasta.",
    "guide_gone": "Opas ei ole enää saatavilla.",
    "score_range": "Valitse arvio väliltä 0–10.",
    "already_answered": "Kiitos, vastauksesi on jo tallessa.",
    "foreign_origin": "Pyyntöjä otetaan vastaan vain sivuston omilta sivuilta.",
    "bad_request": "Pyyntöä ei voitu käsitellä.",
    "not_found": "Sivua ei löytynyt. Jos kirjoitit osoitteen itse, tarkista se vielä.",
    "method_not_allowed": "Tätä ei voi tehdä tässä osoitteessa.",
    "too_large": "Lähetetty tieto on liian suuri.",
    "rate_limited": "Liian monta yritystä lyhyessä ajassa. Odota hetki ja yritä "
    "uudelleen.",
    "unavailable": "Tietoja ei voi juuri nyt tallentaa. Yritä hetken kuluttua "
    "uudelleen.",
}

CATALOG = Catalog({"en": EN, "fi": FI})

# An English message's key, to find its translation (first key wins on a tie).
KEYS = {text: key for key, text in reversed(EN.items()) if isinstance(text, str)}
# The sentence for a status whose messages carry details that have no
# translation: the rate limit's figures, the storage's reasons.
GENERIC = {429: "rate_limited", 503: "unavailable"}


def language() -> str:
    """Return the language the reader is addressed in: the site's, if supported."""
    return CATALOG.language(site_lang())


def strings() -> dict[str, Any]:
    """Return the reader's strings in the site's language."""
    return CATALOG.strings(site_lang())


def template_context() -> dict[str, Any]:
    """The strings for every template, as `reader`, and the language, `reader_lang`."""
    lang = language()
    return {"reader": CATALOG.strings(lang), "reader_lang": lang}


def translate(message: str, status: int | None = None) -> str:
    """Return a message raised in English in the site's language.

    A sentence written here is translated; another takes the generic sentence
    for its status, if there is one. In English every message stays as raised.
    """
    lang = language()
    key = KEYS.get(message) or GENERIC.get(status or 0)
    if lang == FALLBACK or key is None:
        return message
    return CATALOG.strings(lang)[key]
