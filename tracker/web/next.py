"""GET /api/next: the personalised block of a page for the reader asking.

The reader is known as for beacons: the cookieless daily hash, or the
consented visitor id the script sends as `visitor`; a visitor id a signed link
proved to be someone's brings their record. The rules are the journey core's
(`personalise`, `recommend`); what is known of readers is kept per process
(`tracker.reading`). Never limited per address: readers behind one office's
address would lose their block. Nothing is stored: the script reports what
was seen as a `personalisation` event.

The answer also names the running A/B tests on this page (`experiments`:
the mark of the tested text, this reader's variant's text, and the props of
the `exposure` the script sends once the text is seen), assigned here on the
same visitor id the beacon records, so the report finds the reader in the
variant they were shown. Both arms of the holdout take part: the hashes are
independent, so each test's variants are split alike across the arms.
"""

from __future__ import annotations

import orjson
from flask import Blueprint, Response, current_app, request

from .. import clock, reading
from ..db import get_storage
from ..errors import TrackerError
from ..journey import personalise, recommend, variants
from . import beacon
from .limits import limiter
from .requests import allow_site_origin, check_origin, visitor_for
from .site import manifest, origin_allowed, public_base

bp = Blueprint("next", __name__)
bp.after_request(allow_site_origin)

PARAMETERS = {"url", "visitor"}
ENDPOINT = "next.next_block"


@limiter.request_filter
def unlimited() -> bool:
    """No limiter work at all for the block (exempt routes still cost a look-up
    of every limit per request): it is never limited per address."""
    return request.endpoint == ENDPOINT


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


def absolute(found: dict | None, base: str) -> dict | None:
    """A link of the answer made absolute on the site, as the script sets it."""
    if not found or not found.get("url"):
        return found
    return {**found, "url": base + found["url"].lstrip("/")}


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
    if cookieless and not contact:
        # This visit's pages are the ones its browser asked blocks for, here: a
        # look at the stored pageviews would cost a scan of the month's journal.
        visitors = set()
    since = reading.read_since(bool(contact), cookieless)
    read = cache.reads(storage, contact or visitor, visitors, since, current)
    co, popular = cache.co_read(storage, built, catalogue)
    share = (built.get("journey") or {}).get("holdout", personalise.DEFAULT_HOLDOUT)
    arm = personalise.arm(visitor, float(share))
    tests = variants.on_site(
        (built.get("experiments") or {}).values(),
        current,
        visitor,
        clock.now().date().isoformat(),
    )
    shown = tuple(
        (t["exposure"]["experiment"], t["exposure"]["variant"]) for t in tests
    )
    key = (id(co), current, frozenset(read), reader, arm, shown, public_base())

    def make() -> bytes:
        answer = personalise.block(
            catalogue,
            built,
            current=current or None,
            read=read,
            reader=reader,
            arm_name=arm,
            co_read=co,
            popular=popular,
        )
        base = key[-1] + "/"
        for part in ("next", "cta"):
            answer[part] = absolute(answer[part], base)
            if "would" in answer:
                answer["would"][part] = absolute(answer["would"][part], base)
        answer["experiments"] = tests
        return orjson.dumps(answer)

    response = Response(cache.answer(catalogue, key, make), 200)
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "private, no-store"
    return response
