"""GET /api/next: the personalised block of a page for the reader asking.

The reader is known as for beacons: the cookieless daily hash, or the
consented visitor id the script sends as `visitor`; a visitor id a signed link
proved to be someone's brings their record. The rules are the journey core's
(`personalise`, `recommend`); what is known of readers is kept per process
(`tracker.reading`). Never limited per address: readers behind one office's
address would lose their block. Nothing is stored: the script reports what
was seen as a `personalisation` event.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from .. import reading
from ..db import get_storage
from ..errors import TrackerError
from ..journey import personalise, recommend
from . import beacon
from .requests import allow_site_origin, check_origin, visitor_for
from .site import manifest, origin_allowed, site_link

bp = Blueprint("next", __name__)
bp.after_request(allow_site_origin)

PARAMETERS = {"url", "visitor"}


def caches() -> reading.Reading:
    """This app's caches (each app, and each forked worker, its own)."""
    ext = current_app.extensions
    if "polku.reading" not in ext:
        ext["polku.reading"] = reading.Reading()
    return ext["polku.reading"]


def page_of(url: str) -> tuple[str, str]:
    """(origin, path key) of the page the block is on; 400 if it is not ours."""
    if not url:
        raise TrackerError("Give the page's URL as ?url=.")
    if len(url) > beacon.LIMITS["url"]:
        raise TrackerError("The page URL is too long.")
    try:
        origin, _, path, _ = beacon.split_url(url)
    except beacon.InvalidBeacon as e:
        raise TrackerError(str(e)) from None
    if not origin_allowed(origin):
        raise TrackerError("The page URL is not on this site.")
    return origin, recommend.path_key(path)


def absolute(found: dict | None) -> dict | None:
    """A link of the answer made absolute on the site, as the script sets it."""
    if not found:
        return found
    return {**found, "url": site_link(found["url"])} if found.get("url") else found


@bp.get("/api/next")
def next_block():
    check_origin()
    unknown = sorted(set(request.args) - PARAMETERS)
    if unknown:
        raise TrackerError(f"Unknown parameter {unknown[0]!r}.")
    claimed = request.args.get("visitor")
    if claimed is not None and len(claimed) > beacon.LIMITS["visitor"]:
        raise TrackerError("Field 'visitor' is too long.")
    if not beacon.storable(request.args.get("url", "")):
        raise TrackerError("The page URL is not valid text.")
    origin, current = page_of(request.args.get("url", ""))
    built = manifest()
    cache = caches()
    catalogue = cache.catalogue(built)
    if not catalogue.articles:
        raise TrackerError("The site has no posts to recommend yet.", 404)
    storage = get_storage()
    visitor = visitor_for(origin, claimed)
    contact = cache.contact_of(storage, visitor)
    reader, visitors = personalise.ANONYMOUS, {visitor}
    if contact:
        reader, proven = cache.known(storage, contact)
        visitors |= set(proven)
    cookieless = current_app.config["CONSENT_MODE"] != "consent"
    since = reading.read_since(bool(contact), cookieless)
    read = cache.reads(storage, contact or visitor, visitors, since, current)
    co, popular = cache.co_read(storage, built, catalogue)
    share = (built.get("journey") or {}).get("holdout", personalise.DEFAULT_HOLDOUT)
    answer = personalise.block(
        catalogue,
        built,
        current=current or None,
        read=read,
        reader=reader,
        arm_name=personalise.arm(visitor, float(share)),
        co_read=co,
        popular=popular,
    )
    for key in ("next", "cta"):
        answer[key] = absolute(answer[key])
        if "would" in answer:
            answer["would"][key] = absolute(answer["would"][key])
    response = jsonify(answer)
    response.headers["Cache-Control"] = "private, no-store"
    return response
