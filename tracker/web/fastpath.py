"""`POST /api/event` as one small WSGI function in front of Flask.

A beacon is small and its answer fixed; Flask's request context, URL map,
hooks and response object cost more than recording it. This middleware sits
in front of the Flask app (inside the proxy fix, so the address it sees is
the reader's). A POST to the beacon route that passes every check the view
makes (the same functions: origin, content type, size, `beacon.parse`, the
page URL's origin) is recorded with `beacon.observation`, as the view records
it, and gets the view's 202 with the view's headers.

Everything else goes on to Flask untouched: other routes and methods, and any
beacon a check refuses or that is unusual (no Content-Length, chunked, an
A/B exposure), with the body already read handed on, so refusals have one
source of answers. A storage failure is handed on too, in the environ: the
view raises it instead of storing, and answers it as it always does (503),
so nothing is stored twice. tests/web/test_fastpath.py compares the answers
and the records of both, byte for byte, over good and hostile beacons.
"""

from __future__ import annotations

import io
from functools import lru_cache

from flask import Flask
from werkzeug.http import parse_options_header

from ..clock import now_iso
from ..db import get_storage
from ..storage import Storage
from . import agents, beacon, identity
from .collect import ACCEPTED, FAILED, TEXT_TYPES
from .requests import new_id
from .site import load_manifest, origin_allowed_by

STATUS = "202 ACCEPTED"
LENGTH = str(len(ACCEPTED))


@lru_cache(maxsize=64)
def mimetype(content_type: str) -> str:
    """The request's mimetype, as Werkzeug reads it."""
    return parse_options_header(content_type)[0].lower()


class BeaconFastPath:
    """WSGI middleware: beacons that pass every check, answered here."""

    def __init__(self, flask: Flask, app) -> None:
        self.flask, self.app = flask, app
        self.path = ""  # the route's, once the blueprints are registered

    def __call__(self, environ, start_response):
        path = self.path or self.route()
        if environ.get("PATH_INFO") != path or environ["REQUEST_METHOD"] != "POST":
            return self.app(environ, start_response)
        try:
            headers = self.accept(environ)
        except Exception:  # noqa: BLE001 - Flask finds the same and answers it
            headers = None
        if headers is None:
            return self.app(environ, start_response)
        start_response(STATUS, headers)
        return [ACCEPTED]

    def route(self) -> str:
        self.path = next(
            r.rule
            for r in self.flask.url_map.iter_rules()
            if r.endpoint == "collect.event"
        )
        return self.path

    def accept(self, environ) -> list[tuple[str, str]] | None:
        """Record the beacon and return the answer's headers; None: Flask's turn."""
        config = self.flask.config
        built = load_manifest(config["DATA_DIR"])
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and (
            origin == "null" or not origin_allowed_by(config, built, origin)
        ):
            return None  # from here on, an Origin given is an allowed one
        if mimetype(environ.get("CONTENT_TYPE", "")) not in TEXT_TYPES:
            return None
        fields = self.fields(environ)
        if fields is None or fields["name"] == beacon.EXPOSURE:
            return None
        page = beacon.page_fields(fields["url"], fields.get("referrer"))
        site = page["origin"]
        if site != origin and not origin_allowed_by(config, built, site):
            return None
        storage = self.storage()
        user_agent = environ.get("HTTP_USER_AGENT", "")[:512]
        dnt = {"DNT": environ.get("HTTP_DNT"), "Sec-GPC": environ.get("HTTP_SEC_GPC")}

        def visitor(claimed) -> str:
            return identity.visitor_id(
                storage,
                mode=config["CONSENT_MODE"],
                site=site,
                ip=environ.get("REMOTE_ADDR") or "0.0.0.0",
                user_agent=user_agent,
                headers=dnt,
                claimed=claimed,
            )

        event = beacon.observation(
            fields,
            fields["name"],
            page,
            agents.kind(user_agent),
            visitor,
            new_id(),
            now_iso(),
        )
        try:
            storage.append_event(event)
        except Exception as e:  # noqa: BLE001 - the view answers it
            environ[FAILED] = e
            return None
        headers = [("Content-Type", "application/json"), ("Content-Length", LENGTH)]
        if origin:
            headers.append(("Access-Control-Allow-Origin", origin))
        headers.append(("Vary", "Origin"))
        return headers

    def fields(self, environ) -> dict | None:
        """The beacon's checked fields, or None; the body read is handed on."""
        length = environ.get("CONTENT_LENGTH") or ""
        if (
            not (length.isascii() and length.isdigit())
            or int(length) > beacon.MAX_BYTES
        ):
            return None
        if "HTTP_TRANSFER_ENCODING" in environ:
            return None
        body = environ["wsgi.input"].read(int(length))
        environ["wsgi.input"] = io.BytesIO(body)
        if len(body) != int(length):
            return None
        try:
            return beacon.parse(body)
        except beacon.InvalidBeacon:
            return None

    def storage(self) -> Storage:
        """The app's storage, opened as the views open it (once per process)."""
        found = self.flask.extensions.get("polku.storage")
        if found is None:
            with self.flask.app_context():
                found = get_storage()
        return found
