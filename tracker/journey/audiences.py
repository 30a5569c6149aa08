"""Audience definitions: the named lists a site exports and the rules of each.

Pure functions over plain records (contacts, timelines, observations and the
posts manifest); `tracker.audiences` is the glue that reads storage, and the
plugin writes the files. The flow is

    parse_audiences(JOURNEY_AUDIENCES, manifest) -> [Audience]   (this module)
    profiles(observations, contacts, manifest)   -> {contact id: Profile}
                                                     (tracker.journey.profiles)
    members(audiences, contacts, profiles, timelines, now) -> {name: [row]}
                                                     (tracker.journey.members)
    write_audiences(out_dir, members, formats, source) -> [warning]
                                                     (the plugin's audiences)

Permission comes first: unsubscribed people, people who withdrew their
newsletter consent, unconfirmed signups and erased people are never in any
list, and the ad-platform files hold only people with a live, separate ads
consent, as SHA-256 hashes of the normalised identifiers
(`tracker.journey.identifiers`), never a raw address.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from . import stages
from .identifiers import AudienceError

SETTING = "JOURNEY_AUDIENCES"
# Statuses a rule may allow. "pending" (never confirmed) and "unsubscribed"
# are refused outright: neither gave us permission that still holds.
STATUSES = ("confirmed", "none")
ANY = "*"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")


@dataclass(frozen=True)
class Audience:
    """One named list and its rules; every rule given must hold.

    - ``stages``: the contact's journey stage (``stages.contact_stage``) is one of
      these.
    - ``categories`` / ``tags``: read at least ``min_posts`` (default 1) distinct
      posts in one of these categories (tags); ``("*",)`` means any one.
    - ``min_posts`` alone: read at least this many distinct posts in all.
    - ``guides``: downloaded one of these guides (``("*",)``: any guide).
    - ``min_score``: lead score at least this.
    - ``seen_within_days`` / ``not_seen_days``: last seen (a visit, a decision or
      the signup itself) within / more than this many days before ``now``.
    - ``only_customers`` / ``exclude_customers``: bought or booked / never did.
    - ``exclude``: not in these other audiences (after their own exclusions).
    - ``status``: contact statuses allowed; "confirmed" subscribers by default,
      "none" adds identified non-subscribers (downloaders, customers).
    """

    name: str
    stages: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    min_posts: int = 0
    guides: tuple[str, ...] = ()
    min_score: float | None = None
    seen_within_days: int | None = None
    not_seen_days: int | None = None
    only_customers: bool = False
    exclude_customers: bool = False
    exclude: tuple[str, ...] = ()
    status: tuple[str, ...] = ("confirmed",)
    description: str = ""

    def rules(self) -> dict[str, Any]:
        """Return the rules that differ from the defaults, as JSON-ready data."""
        out: dict[str, Any] = {}
        for key in _RULE_KEYS:
            value = getattr(self, key)
            if value == _DEFAULTS[key]:
                continue
            out[key] = list(value) if isinstance(value, tuple) else value
        return out


_DEFAULTS = {f.name: f.default for f in fields(Audience) if f.name != "name"}
_RULE_KEYS = tuple(_DEFAULTS)


def slugify(text: Any) -> str:
    """Return a lowercase ASCII slug: "Kahvi & Tee" -> "kahvi-tee"."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.decode().lower()).strip("-")
    if not slug and str(text).strip():
        # A name in a script with no ASCII letters still needs a stable name.
        slug = "x" + hashlib.sha256(str(text).encode()).hexdigest()[:8]
    return slug


def _vocabulary(manifest: Mapping | None) -> tuple[set[str], set[str], set[str]]:
    """Return the category slugs, tag slugs and guide slugs of the manifest."""
    manifest = manifest or {}
    categories: set[str] = set()
    tags: set[str] = set()
    for post in manifest.get("posts") or ():
        if post.get("category"):
            categories.add(slugify(post["category"]))
        tags.update(slugify(t) for t in post.get("tags") or () if t)
    guides = {str(slug) for slug in (manifest.get("guides") or {})}
    return categories, tags, guides


def default_audiences(manifest: Mapping | None) -> list[Audience]:
    """Return the lists every site gets when JOURNEY_AUDIENCES is not set.

    Identified non-subscribers (status "none": guide downloaders, quote
    requests, imported customers) are in every default list except
    lapsed-subscribers: they gave their address for a reason of their own, and
    an ad-format file still needs their separate ads consent.
    """
    categories, _, guides = _vocabulary(manifest)
    both = ("confirmed", "none")
    found = [
        Audience(
            "leads-not-customers",
            stages=("lead", "advocate"),
            exclude_customers=True,
            status=both,
            description="Leads who have not bought yet: nurture towards a sale.",
        ),
        Audience(
            "one-step-from-converting",
            categories=(ANY,),
            min_posts=2,
            status=("none",),
            description="Identified people who are not subscribers and read two "
            "posts in one category: nudge them to subscribe.",
        ),
    ]
    found += [
        Audience(
            f"downloaded-{slugify(slug)}",
            guides=(slug,),
            status=both,
            description=f"Downloaded the guide {slug!r}.",
        )
        for slug in sorted(guides)
    ]
    found += [
        Audience(
            "customers",
            only_customers=True,
            status=both,
            description="Customers: exclude them from acquisition campaigns, "
            "or use them as a lookalike seed.",
        ),
        Audience(
            "lapsed-subscribers",
            not_seen_days=90,
            description="Confirmed subscribers not seen for 90 days.",
        ),
    ]
    found += [
        Audience(
            f"interest-{slug}",
            categories=(slug,),
            min_posts=1,
            status=both,
            description=f"Read a post in the category {slug!r}.",
        )
        for slug in sorted(categories)
    ]
    return found


def _fail(name: str | None, message: str) -> AudienceError:
    where = f"{SETTING}[{name!r}]" if name is not None else SETTING
    return AudienceError(f"{where}: {message}")


def _names(name: str, key: str, value: Any) -> tuple[str, ...]:
    """Return a rule's list of strings; a single string is a list of one."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not items:
        raise _fail(name, f"{key} must be a non-empty list of names, got {value!r}")
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise _fail(name, f"{key} must hold names, got {item!r}")
    return tuple(item.strip() for item in items)


def _count(name: str, key: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(name, f"{key} must be a whole number >= {minimum}, got {value!r}")
    return value


def _one_of(name: str, key: str, value: str, allowed: Iterable[str]) -> str:
    allowed = sorted(allowed) if not isinstance(allowed, tuple) else allowed
    if value not in allowed:
        listed = ", ".join(allowed) if allowed else "(none in the manifest yet)"
        raise _fail(name, f"unknown {key} {value!r}; expected one of {listed}")
    return value


def _parse_one(name: Any, rules: Any, vocab: tuple[set, set, set]) -> Audience:
    if not isinstance(name, str) or not NAME.match(name):
        raise _fail(
            name if isinstance(name, str) else None,
            f"audience name {name!r} must be lowercase letters, digits, '-' or "
            "'_' (it names the files)",
        )
    if not isinstance(rules, Mapping):
        raise _fail(name, f"expected a dict of rules, got {type(rules).__name__}")
    unknown = sorted(set(rules) - set(_RULE_KEYS))
    if unknown:
        raise _fail(
            name,
            f"unknown rule {unknown[0]!r}; expected one of {', '.join(_RULE_KEYS)}",
        )
    categories, tags, guides = vocab
    values: dict[str, Any] = {}
    for key, value in rules.items():
        if key == "stages":
            values[key] = tuple(
                _one_of(name, "stage", s, stages.STAGES)
                for s in _names(name, key, value)
            )
        elif key in ("categories", "tags"):
            known = categories if key == "categories" else tags
            items = _names(name, key, value)
            if ANY in items:
                values[key] = (ANY,)
                continue
            slugs = tuple(dict.fromkeys(slugify(i) for i in items))
            if known:  # a fresh site has no posts yet: nothing to check against
                noun = "category" if key == "categories" else "tag"
                for slug in slugs:
                    _one_of(name, noun, slug, known)
            values[key] = slugs
        elif key == "guides":
            items = _names(name, key, value)
            if ANY in items:
                values[key] = (ANY,)
                continue
            if guides:
                for slug in items:
                    _one_of(name, "guide", slug, guides)
            values[key] = tuple(dict.fromkeys(items))
        elif key == "status":
            values[key] = tuple(
                _one_of(name, "status", s, STATUSES) for s in _names(name, key, value)
            )
        elif key == "exclude":
            values[key] = tuple(dict.fromkeys(_names(name, key, value)))
        elif key == "min_posts":
            values[key] = _count(name, key, value)
        elif key in ("seen_within_days", "not_seen_days"):
            values[key] = _count(name, key, value)
        elif key == "min_score":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _fail(name, f"min_score must be a number, got {value!r}")
            if value < 0:
                raise _fail(name, f"min_score must be >= 0, got {value!r}")
            values[key] = value
        elif key in ("only_customers", "exclude_customers"):
            if not isinstance(value, bool):
                raise _fail(name, f"{key} must be true or false, got {value!r}")
            values[key] = value
        elif key == "description":
            if not isinstance(value, str):
                raise _fail(name, f"description must be text, got {value!r}")
            values[key] = value.strip()
    audience = Audience(name, **values)
    if audience.only_customers and audience.exclude_customers:
        raise _fail(name, "only_customers and exclude_customers cannot both be true")
    seen, unseen = audience.seen_within_days, audience.not_seen_days
    if seen is not None and unseen is not None and unseen >= seen:
        raise _fail(
            name,
            f"seen_within_days {seen} and not_seen_days {unseen} can never both "
            "hold; not_seen_days must be smaller",
        )
    if name in audience.exclude:
        raise _fail(name, "an audience cannot exclude itself")
    return audience


def check_exclusions(audiences: list[Audience]) -> None:
    """Raise unless every exclusion names a defined audience, without cycles."""
    by_name = {a.name: a for a in audiences}
    for audience in audiences:
        for other in audience.exclude:
            _one_of(audience.name, "audience in exclude", other, by_name)
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = " -> ".join(path[path.index(name) :] + [name])
            raise _fail(path[path.index(name)], f"exclusions form a cycle {cycle}")
        if name in done:
            return
        for other in by_name[name].exclude:
            visit(other, path + [name])
        done.add(name)

    for audience in audiences:
        visit(audience.name, [])


def parse_audiences(raw: Mapping | None, manifest: Mapping | None) -> list[Audience]:
    """Check JOURNEY_AUDIENCES and return its audiences, or the defaults if None.

    The setting maps each list's name to its rules (see `Audience`). A dict
    replaces the defaults rather than adding to them, so the lists a site
    exports are exactly the ones its settings name. Category, tag and guide
    names are checked against the manifest once it lists any.
    """
    if raw is None:
        return default_audiences(manifest)
    if not isinstance(raw, Mapping):
        raise _fail(None, f"expected a dict of name -> rules, got {type(raw).__name__}")
    vocab = _vocabulary(manifest)
    found = [_parse_one(name, rules, vocab) for name, rules in raw.items()]
    check_exclusions(found)
    return found
