"""Helpers every blueprint shares: the caller's origin, IP and user agent."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response, current_app, request

from ..clock import now_iso  # noqa: F401 - the views take it from here
from ..db import get_storage
from ..errors import TrackerError
from . import identity
from .beacon import storable
from .site import origin_allowed


def new_id() -> str:
    return secrets.token_hex(12)


def client_ip() -> str:
    return request.remote_addr or "0.0.0.0"


def json_body() -> Any:
    """The request's JSON body, or None if it is not JSON that can be read
    (broken, nested deeper than Python's recursion limit, or holding text that
    cannot be stored: see beacon.storable)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return None
    return body if storable(body) else None


def user_agent() -> str:
    return request.headers.get("User-Agent", "")[:512]


def check_origin(signed: bool = False) -> None:
    """Refuse a request whose Origin names another site.

    `Origin: null` (a sandboxed frame, a data: page: anyone's) is refused on
    the forms and the beacon. Routes authenticated by a signed token or an API
    key (`signed`) also take it, and requests without an Origin, as mail
    providers send one-click unsubscribes.
    """
    origin = request.headers.get("Origin")
    if origin is None or (origin == "null" and signed):
        return
    if origin == "null" or not origin_allowed(origin):
        raise TrackerError("Requests are accepted only from the site's own pages.", 403)


def visitor_for(site: str, claimed: str | None = None) -> str:
    """Return the visitor id of this request (see identity.visitor_id)."""
    return identity.visitor_id(
        get_storage(),
        mode=current_app.config["CONSENT_MODE"],
        site=site,
        ip=client_ip(),
        user_agent=user_agent(),
        headers=request.headers,
        claimed=claimed,
    )


def allow_site_origin(response: Response) -> Response:
    """Let the site's pages read our answers (forms submitted in place)."""
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin_allowed(origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        if request.method == "OPTIONS":  # the preflight alone needs the rest
            response.headers["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
            response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Vary"] = "Origin"
    return response
