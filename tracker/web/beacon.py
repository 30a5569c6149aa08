"""Validate what the site's script sends and turn a page URL into journey fields.

Pure functions: no Flask, no storage.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

MAX_BYTES = 8192
UTM_KEYS = ("source", "medium", "campaign", "content", "term")
UTM_PARAMS = tuple((k, f"utm_{k}") for k in UTM_KEYS)
EVENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _:.-]{0,63}$")
FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "url": str,
    "referrer": str,
    "title": str,
    "width": int,
    "visitor": str,
    "props": dict,
}
LIMITS = {"url": 2048, "referrer": 2048, "title": 300, "visitor": 64}
EXPOSURE = "exposure"  # an A/B test's variant shown: props experiment, variant
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
INT64 = (-(2**63), 2**63 - 1)  # what orjson and PostgreSQL's bigint hold


class InvalidBeacon(ValueError):
    """The beacon cannot be recorded; the message says why, in one sentence."""


def parse(data: bytes) -> dict[str, Any]:
    """Return the beacon's fields, checked for names, types and sizes."""
    if len(data) > MAX_BYTES:
        raise InvalidBeacon("The event is larger than 8 KB.")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise InvalidBeacon("The event is not valid JSON.") from None
    if not storable(body):
        raise InvalidBeacon("The event holds text that is not valid Unicode.")
    if not isinstance(body, dict):
        raise InvalidBeacon("The event must be a JSON object.")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise InvalidBeacon(f"Unknown field {unknown[0]!r}.")
    for key, value in body.items():
        if value is None:
            continue
        if not isinstance(value, FIELDS[key]) or isinstance(value, bool):
            raise InvalidBeacon(f"Field {key!r} has the wrong type.")
        if key in LIMITS and len(value) > LIMITS[key]:
            raise InvalidBeacon(f"Field {key!r} is too long.")
    if not body.get("url"):
        raise InvalidBeacon("The event has no page URL.")
    name = body.get("name") or "pageview"
    if not EVENT_NAME.match(name):
        raise InvalidBeacon(
            "The event name may use letters, digits, space and _:.- only."
        )
    width = body.get("width")
    if width is not None and not 0 <= width <= 20000:
        raise InvalidBeacon("Field 'width' is out of range.")
    body["name"] = name
    body["props"] = clean_props(body.get("props"))
    return body


def exposure(props: dict | None, experiments: dict | None) -> dict[str, str]:
    """The experiment and variant an exposure names, checked against the build's.

    Only a running experiment's own variants are kept: anything else would be
    counted in no report.
    """
    props = props or {}
    if set(props) != {"experiment", "variant"}:
        raise InvalidBeacon("An exposure carries exactly an experiment and a variant.")
    name, variant = props["experiment"], props["variant"]
    if not (isinstance(name, str) and SLUG.match(name)):
        raise InvalidBeacon("The exposure's experiment is not a name.")
    test = (experiments or {}).get(name)
    if not isinstance(test, dict) or test.get("status") != "running":
        raise InvalidBeacon(f"No experiment {name!r} is running.")
    if variant not in [v.get("name") for v in test.get("variants") or ()]:
        raise InvalidBeacon(f"The experiment {name!r} has no such variant.")
    return {"experiment": name, "variant": variant}


def storable(value: Any) -> bool:
    """True if every string in a parsed JSON value can be written as UTF-8.

    JSON may escape half a surrogate pair (`"\\ud800"`); Python reads it into
    a string that no file or database can hold.
    """
    pending = [value]
    while pending:  # no recursion: the value may be nested a thousand deep
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return False
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def storable_number(value: int | float) -> bool:
    """True for a number every store writes as given: an integer within 64
    bits (orjson refuses larger ones: a 500), a finite float (infinity and NaN
    would be written as null)."""
    if isinstance(value, int):
        return INT64[0] <= value <= INT64[1]
    return math.isfinite(value)


def clean_props(props: dict | None) -> dict[str, Any] | None:
    """Keep at most 20 short scalar properties of a named event."""
    if not props:
        return None
    if len(props) > 20:
        raise InvalidBeacon("An event may carry at most 20 properties.")
    clean = {}
    for key, value in props.items():
        if len(key) > 64 or not isinstance(value, str | int | float | bool):
            raise InvalidBeacon("Event properties must be short scalar values.")
        if isinstance(value, int | float) and not storable_number(value):
            raise InvalidBeacon(
                "Event property numbers must be finite and fit in 64 bits."
            )
        clean[key] = value[:200] if isinstance(value, str) else value
    return clean


def _split(url: str) -> SplitResult | None:
    """urlsplit, or None for a URL it cannot read (an unclosed IPv6 bracket)."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def split_url(url: str) -> tuple[str, str, str, dict[str, list[str]]]:
    """Return (origin, host, path, query) of an http(s) URL; refuse other schemes."""
    parts = _split(url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidBeacon("The page URL must be an http(s) URL of the site.")
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return origin, (parts.hostname or ""), parts.path or "/", parse_qs(parts.query)


def page_fields(url: str, referrer: str | None) -> dict[str, Any]:
    """Return origin, path, UTM parameters, referral code and external referrer host.

    `entry` is False for a click from another page of the site: such a
    pageview continues a visit rather than starting one.
    """
    origin, host, path, query = split_url(url)
    utm = {k: query[p][0][:200] for k, p in UTM_PARAMS if query.get(p)}
    ref = (query.get("ref") or [""])[0][:64] or None
    referrer_host, entry = None, True
    parts = _split(referrer) if referrer else None
    name = parts.hostname if parts and parts.scheme in ("http", "https") else None
    if name:  # (hostname reparses the netloc on every read: read it once)
        entry = name.lower() != host.lower() or bool(utm)
        referrer_host = name.lower() if entry else None
    return {
        "origin": origin,
        "host": host,
        "path": path[:2048],
        "utm": utm,
        "ref": ref,
        "referrer": referrer_host,
        "entry": entry,
    }


def observation(
    fields: dict[str, Any],
    name: str,
    page: dict[str, Any],
    agent: str,
    visitor: Callable[[Any], str],
    event_id: str,
    ts: str,
) -> dict[str, Any]:
    """The record of one accepted beacon or pixel, empty fields left out.

    `agent` is agents.kind's answer; `visitor(claimed)` gives the reader's id
    and is asked for people only, never for bots. The Flask view and the fast
    path both build their records here, so they store the same.
    """
    event = {"id": event_id, "ts": ts, "path": page["path"], "host": page["host"]}
    if agent == "bot":
        event["type"] = "bot"
    elif name == EXPOSURE:  # an A/B test's variant shown, not a named event
        event.update(type=name, visitor=visitor(fields.get("visitor")))
        event.update(fields["exposure"])
    else:
        event.update(
            type="pageview" if name == "pageview" else "event",
            name=name,
            visitor=visitor(fields.get("visitor")),
            title=(fields.get("title") or "")[:300] or None,
            referrer=page["referrer"],
            entry=None if page["entry"] else False,
            utm=page["utm"] or None,
            ref=page["ref"],
            device=agent,
            width=fields.get("width"),
            props=fields.get("props"),
        )
    return {k: v for k, v in event.items() if v is not None}
