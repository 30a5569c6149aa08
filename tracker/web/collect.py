"""Collection: pageviews and named events from the script, and the no-JS pixel."""

from __future__ import annotations

import base64

from flask import Blueprint, Response, request

from ..db import get_storage
from ..errors import TrackerError
from . import agents, beacon
from .requests import (
    allow_site_origin,
    check_origin,
    new_id,
    now_iso,
    user_agent,
    visitor_for,
)
from .site import manifest, origin_allowed, public_base

bp = Blueprint("collect", __name__)
bp.after_request(allow_site_origin)

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
TEXT_TYPES = ("text/plain", "application/json")
ACCEPTED = b'{"ok": true}\n'


FAILED = "polku.fastpath.failed"  # environ key: the fast path's storage error


def record(fields: dict, name: str = "pageview") -> None:
    """Store one observation: a pageview, a named event or a bot's hit."""
    try:
        page = beacon.page_fields(fields["url"], fields.get("referrer"))
    except beacon.InvalidBeacon as e:
        raise TrackerError(str(e)) from None
    origin = page["origin"]
    if not origin_allowed(origin):
        raise TrackerError("The page URL is not on this site.", 400)
    event = beacon.observation(
        fields,
        name,
        page,
        agents.kind(user_agent()),
        lambda claimed: visitor_for(origin, claimed),
        new_id(),
        now_iso(),
    )
    failed = request.environ.pop(FAILED, None)
    if failed is not None:  # the fast path met it storing this very beacon
        raise failed
    get_storage().append_event(event)


def read_body() -> bytes:
    if (request.content_length or 0) > beacon.MAX_BYTES:
        raise TrackerError("The event is larger than 8 KB.", 413)
    data = request.stream.read(beacon.MAX_BYTES + 1)
    if len(data) > beacon.MAX_BYTES:
        raise TrackerError("The event is larger than 8 KB.", 413)
    return data


@bp.route("/api/event", methods=["POST", "OPTIONS"])
def event():
    if request.method == "OPTIONS":
        return "", 204
    check_origin()
    if request.mimetype not in TEXT_TYPES:
        raise TrackerError("Send the event as text/plain or application/json.", 415)
    try:
        fields = beacon.parse(read_body())
        if fields["name"] == beacon.EXPOSURE:
            experiments = manifest().get("experiments")
            fields["exposure"] = beacon.exposure(fields["props"], experiments)
    except beacon.InvalidBeacon as e:
        raise TrackerError(str(e)) from None
    record(fields, fields["name"])
    return Response(ACCEPTED, 202, mimetype="application/json")


@bp.get("/api/pixel.gif")
def pixel():
    url = request.args.get("u", "")
    if url.startswith("/") and not url.startswith("//"):
        url = public_base() + url
    if not url or len(url) > 2048:
        raise TrackerError("The pixel needs the page URL in ?u=.")
    record({"url": url, "referrer": request.args.get("r")})
    response = Response(PIXEL, mimetype="image/gif")
    response.headers["Cache-Control"] = "no-store"
    return response
