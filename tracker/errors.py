"""Domain errors, translated at the edge: JSON for API callers, pages for people.

- JSON callers (`/api/*`, or `Accept: application/json`) get
  `{"ok": false, "error": "...", "status": N}`.
- A plain HTML form post gets a 303 to the form again (web/retry.py): the
  reason next to its field, what the reader typed filled in; nothing stored.
- Anything else, links from emails included, gets a readable page with the
  status, never a redirect.

Messages are raised in English (here, in tokens, people, requests, Werkzeug);
readers get them in the site's language, through the catalogue where the
English sentence is a message id; the API's callers (`/api/*`) as raised.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from . import i18n
from .storage import StorageUnavailable
from .web import retry
from .web.site import site_lang

log = logging.getLogger(__name__)


class TrackerError(Exception):
    """A request the tracker refuses, with a one-sentence reason."""

    status = 400

    def __init__(
        self, message: str, status: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the form field the reason is about, if one
        if status is not None:
            self.status = status


class BadToken(TrackerError):
    """A link whose token is forged, expired or already used."""

    status = 400


def is_api() -> bool:
    """True on the developers' API (`/api/*`, under any prefix)."""
    return "/api/" in request.path


def wants_json() -> bool:
    if is_api():
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > (request.accept_mimetypes["text/html"])
    )


# Plain HTML forms: an error sends the reader back to the form, filled in.
FORM_ENDPOINTS = {"forms.subscribe", "forms.download", "quotes.request_quote"}


# The sentence for a status whose messages carry details that have no
# translation: the rate limit's figures, the storage's reasons.
GENERIC = {
    429: "Too many tries in a short time. Please wait a minute and try again.",
    503: "We cannot save anything just now. Please try again shortly.",
}


def translate(message: str, status: int | None = None) -> str:
    """Return a message raised in English in the site's language.

    A message the catalogue has is translated; another takes the generic
    sentence for its status, if there is one. In English every message stays
    as raised.
    """
    lang = i18n.language(site_lang())
    if lang == i18n.FALLBACK:
        return message
    translated = i18n.gettext(lang, message)
    if translated != message or (status or 0) not in GENERIC:
        return translated
    return i18n.gettext(lang, GENERIC[status or 0])


def respond(message: str, status: int, field: str | None = None):
    """Answer a refusal; readers get it in the site's language, the API in English."""
    if not is_api():
        message = translate(message, status)
    if wants_json():
        return jsonify(ok=False, error=message, status=status), status
    if request.endpoint not in FORM_ENDPOINTS:
        title = i18n.gettext(site_lang(), "Sorry")
        return render_template("message.html", title=title, message=message), status
    return redirect(retry.link(message, field), 303)


def init_app(app: Flask) -> None:
    @app.errorhandler(TrackerError)
    def tracker_error(e: TrackerError):
        return respond(e.message, e.status, e.field)

    @app.errorhandler(StorageUnavailable)
    def unavailable(e: StorageUnavailable):
        log.error("storage unavailable: %s", e)
        response = respond(str(e), 503)
        response = app.make_response(response)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        return respond(e.description or e.name, e.code or 500)
