"""Audience lists: who belongs to which list, and the files each ad platform takes.

Pure functions over plain records (contacts, timelines, observations and the
posts manifest); the CLI and the plugin are the glue that reads storage and
calls them. The flow is

    parse_audiences(JOURNEY_AUDIENCES, manifest) -> [Audience]
    profiles(observations, contacts, manifest)   -> {contact id: Profile}
    members(audiences, contacts, profiles, timelines, now) -> {name: [row]}
    write_audiences(out_dir, members, formats, source) -> [warning]

Permission comes first: unsubscribed people, people who withdrew their
newsletter consent, unconfirmed signups and erased people are never in any
list, and the ad-platform files hold only people with a live, separate ads
consent, as SHA-256 hashes of the normalised identifiers, never a raw address.

The ad formats follow each platform's own documentation (checked 2026):

Meta, Custom Audiences customer list
  * Meta Business Help Centre, "How to format a customer list when creating a
    custom audience", https://www.facebook.com/business/help/2082575038703844
    (lowercase headers email, phone, fn, ln, ct, st, zip, country; phone with
    country code; avoid lists of fewer than 100 people).
  * Meta for Developers, Marketing API, "Customer File Custom Audiences",
    hashing and normalizing data,
    https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
    and "Customer Information Parameters" (Conversions API), same rules:
    email trimmed and lowercased; phone digits only, no symbols or letters,
    no leading zeros, with country code; names lowercase letters only, special
    characters in UTF-8; city lowercase letters only; state lowercase, no
    punctuation; zip lowercase without spaces or dash, first 5 digits in the
    US; country lowercase ISO 3166-1 alpha-2; every value SHA-256, hex.
    Meta documents no Gmail dot or "+tag" rule, so Meta emails keep them.

Google, Customer Match customer list
  * Google Ads Help, "Format your customer data file" (answer 7659867) and
    "Formatting guidelines for uploading hashed data" (answer 7476159):
    headers exactly Email, Phone, First Name, Last Name, Country, Zip; an
    address match needs all four of First Name, Last Name, Country and Zip.
  * Google Ads Help, "About the customer matching process" (answer 7474263):
    Email, Phone, First Name and Last Name are hashed; Country and Zip are not.
  * Google for Developers, Data Manager API, "Format user data",
    https://developers.google.com/data-manager/api/devguides/concepts/formatting
    email lowercased, whitespace removed, and for gmail.com / googlemail.com
    the dots before "@" and any "+tag" removed (other domains keep both);
    phone in E.164 with the "+" before hashing; names lowercase and trimmed;
    region code ISO 3166-1 alpha-2 and postal code not hashed; SHA-256 hex.
  * Minimum list size: 100 active matched members for Search and Display
    (1,000 for YouTube), Google Ads Help "About Customer Match".

LinkedIn, Matched Audiences contact list
  * LinkedIn Help, "Requirements for contact targeting lists in Campaign
    Manager", https://www.linkedin.com/help/lms/answer/a1489764: keep the
    template's headers; at least 300 rows, 300 matched members to serve;
    email addresses plain or SHA-256 hashed.
  * Headers of LinkedIn's CSV template (LinkedIn_Ads_Contact_Match_Template):
    email, firstname, lastname, jobtitle, employeecompany, country, googleaid.
    LinkedIn only matches names in plain text, so we fill the email column
    alone (SHA-256 of the trimmed, lowercased address) and leave the rest
    empty: no raw name or address ever leaves for an ad platform.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from tracker import clock
from tracker.journey import stages
from tracker.storage.files import atomic_write

from .settings import JourneySettingsError

SETTING = "JOURNEY_AUDIENCES"
FORMATS = ("csv", "meta", "google", "linkedin")
AD_FORMATS = ("meta", "google", "linkedin")
# Statuses a rule may allow. "pending" (never confirmed) and "unsubscribed"
# are refused outright: neither gave us permission that still holds.
STATUSES = ("confirmed", "none")
ANY = "*"
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
OBSERVED = frozenset({"pageview", "event", "click"})
CUSTOMER_EVENTS = frozenset({"purchase", "booking"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_FILE = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(csv|meta|google|linkedin)\.csv$")
_DAY = 86400.0


class AudienceError(JourneySettingsError):
    """An audience definition, format or input the module cannot use.

    A JourneySettingsError (hence a ValueError), so the plugin and the CLI
    translate it like every other settings error.
    """


# --------------------------------------------------------------------------
# Definitions


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
    if not isinstance(name, str) or not _NAME.match(name):
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


def _check_exclusions(audiences: list[Audience]) -> None:
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
    _check_exclusions(found)
    return found


# --------------------------------------------------------------------------
# Profiles: one pass over the observations


@dataclass(slots=True, eq=False)
class Profile:
    """What a contact did on the site, accumulated from observations.

    ``categories`` and ``tags`` count distinct posts read. ``points`` is the
    lead score's observation part (pageviews and email clicks, each decayed
    with the score's half-life) as it stood at ``anchor`` (epoch seconds, the
    latest observation), so `observed_score` is exact for any later ``now``.
    """

    contact_id: str
    posts: set[str] = field(default_factory=set)
    categories: Counter = field(default_factory=Counter)
    tags: Counter = field(default_factory=Counter)
    last_seen_ts: float | None = None
    pageviews: int = 0
    clicks: int = 0
    points: float = 0.0
    anchor: float | None = None
    half_life_days: float = stages.LeadScoreWeights().half_life_days

    @property
    def last_seen(self) -> datetime | None:
        if self.last_seen_ts is None:
            return None
        return datetime.fromtimestamp(self.last_seen_ts, UTC)

    def observed_score(self, now: datetime) -> float:
        """Return the decayed points of pageviews and clicks as of ``now``.

        Equal to `stages.lead_score` over the same observations when none is
        dated after ``now``; later ones count as fresh, as lead_score does, and
        pull the earlier ones' age back to theirs (a clock-skew approximation).
        """
        if self.anchor is None:
            return 0.0
        age = max(now.timestamp() - self.anchor, 0.0) / _DAY
        return self.points * 0.5 ** (age / self.half_life_days)


def _path_key(path: str) -> str:
    """Reduce "/posts/slug/index.html?x=1" and "posts/slug" to "posts/slug"."""
    path = path.split("?", 1)[0].split("#", 1)[0].lstrip("/")
    if path.endswith("index.html"):
        path = path[: -len("index.html")]
    return path.rstrip("/")


def _post_index(manifest: Mapping | None) -> dict[str, tuple]:
    """Map each manifest post's path key to (url, category slug, tag slugs)."""
    index: dict[str, tuple] = {}
    for post in (manifest or {}).get("posts") or ():
        url = str(post.get("url") or "").lstrip("/")
        key = _path_key(url)
        if not key:
            continue
        category = slugify(post["category"]) if post.get("category") else None
        tags = tuple(dict.fromkeys(slugify(t) for t in post.get("tags") or () if t))
        index[key] = (url, category, tags)
    return index


def profiles(
    observations: Iterable[Mapping],
    contacts: list[Mapping],
    manifest: Mapping | None,
    weights: stages.LeadScoreWeights | None = None,
) -> dict[str, Profile]:
    """Return a Profile per observed contact from ONE pass over the observations.

    An observation belongs to the contact it names, else to the contact whose
    ``visitors`` hold its visitor id (the first such contact, if two share a
    browser). Observations of unknown people, of contacts not in ``contacts``
    (erased ones) and bots are skipped: anonymous traffic costs two dict
    lookups and nothing is copied. A contact never observed has no entry.
    """
    weights = weights or stages.LeadScoreWeights()
    known: set[str] = set()
    owner: dict[str, str] = {}
    for contact in contacts:
        cid = contact.get("id")
        if not cid or cid in known:
            continue
        known.add(cid)
        for visitor in contact.get("visitors") or ():
            owner.setdefault(visitor, cid)
    posts = _post_index(manifest)
    found: dict[str, Profile] = {}
    # The pass allocates many small containers while a million observation
    # dicts may be alive; CPython 3.11 would rescan them all on each full
    # collection. Nothing here makes reference cycles, so pause the collector.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _accumulate(observations, known, owner, posts, weights, found)
    finally:
        if collecting:
            gc.enable()
    return found


def _accumulate(observations, known, owner, posts, weights, found) -> None:
    """Add each observation to its contact's Profile (the loop of `profiles`)."""
    pageview_points = weights.points("pageview")
    click_points = weights.points("click")
    half_life = weights.half_life_days * _DAY
    resolved: dict[str, tuple | None] = {}
    fromisoformat = datetime.fromisoformat
    for ob in observations:
        kind = ob.get("type")
        if kind not in OBSERVED:
            continue
        cid = ob.get("contact") or owner.get(ob.get("visitor"))
        if cid is None or cid not in known:
            continue
        try:
            when = fromisoformat(ob["ts"])
        except (KeyError, TypeError, ValueError):
            continue
        t = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
        profile = found.get(cid)
        if profile is None:
            profile = found[cid] = Profile(cid, half_life_days=weights.half_life_days)
        if profile.last_seen_ts is None or t > profile.last_seen_ts:
            profile.last_seen_ts = t
        if kind == "pageview":
            profile.pageviews += 1
            points = pageview_points
            path = ob.get("path") or ""
            post = resolved.get(path, False)
            if post is False:
                post = resolved[path] = posts.get(_path_key(path))
            if post is not None and post[0] not in profile.posts:
                profile.posts.add(post[0])
                if post[1]:
                    categories = profile.categories
                    categories[post[1]] = categories.get(post[1], 0) + 1
                for tag in post[2]:
                    profile.tags[tag] = profile.tags.get(tag, 0) + 1
        elif kind == "click":
            profile.clicks += 1
            points = click_points
        else:
            continue
        if not points:
            continue
        anchor = profile.anchor
        if anchor is None:
            profile.anchor, profile.points = t, points
        elif t >= anchor:
            profile.points = profile.points * 0.5 ** ((t - anchor) / half_life) + points
            profile.anchor = t
        else:
            profile.points += points * 0.5 ** ((anchor - t) / half_life)


# --------------------------------------------------------------------------
# Members


def has_ads_consent(contact: Mapping) -> bool:
    """True when the contact gave the separate ads consent and kept it."""
    ads = (contact.get("consent") or {}).get("ads")
    return isinstance(ads, Mapping) and not ads.get("withdrawn_at")


def is_listable(contact: Mapping) -> bool:
    """True unless the person may never be in any list.

    Refused: erased records (no id or address left), unsubscribed people,
    anyone who withdrew the newsletter consent, and signups never confirmed
    ("pending"). Status "none" (identified, not subscribed) passes here; each
    audience's ``status`` rule then decides.
    """
    if not contact.get("id") or not contact.get("email") or contact.get("erased"):
        return False
    if contact.get("status") not in STATUSES:
        return False
    newsletter = (contact.get("consent") or {}).get("newsletter")
    return not (isinstance(newsletter, Mapping) and newsletter.get("withdrawn_at"))


_OBSERVATION_TYPES = OBSERVED | {"bot"}


def _decided_points(
    timeline: list[Mapping], now: datetime, weights: stages.LeadScoreWeights
) -> float:
    """Return the lead score's timeline part, computed as `stages.lead_score` does.

    Observation types in a timeline are skipped: the Profile already counted
    them, and counting them twice would double a reader's score.
    """
    total = 0.0
    for ev in timeline:
        kind = ev.get("type")
        if kind in _OBSERVATION_TYPES:
            continue
        points = weights.points(kind)
        if points:
            age = max((now - stages.parse_ts(ev["ts"])).total_seconds() / _DAY, 0.0)
            total += points * 0.5 ** (age / weights.half_life_days)
    return total


class _Facts:
    """One contact's derived facts, each computed at most once."""

    __slots__ = (
        "contact",
        "profile",
        "timeline",
        "now",
        "weights",
        "_stage",
        "_score",
        "_last_seen",
    )

    def __init__(self, contact, profile, timeline, now, weights) -> None:
        self.contact = contact
        self.profile = profile
        self.timeline = timeline
        self.now = now
        self.weights = weights
        self._stage = self._score = self._last_seen = None

    @property
    def stage(self) -> str:
        if self._stage is None:
            self._stage = stages.contact_stage(self.contact, self.timeline)
        return self._stage

    @property
    def score(self) -> int:
        if self._score is None:
            observed = self.profile.observed_score(self.now) if self.profile else 0
            total = observed + _decided_points(self.timeline, self.now, self.weights)
            self._score = max(round(total), 0)
        return self._score

    @property
    def customer(self) -> bool:
        return bool(self.contact.get("customer_at")) or any(
            ev.get("type") in CUSTOMER_EVENTS for ev in self.timeline
        )

    @property
    def guides(self) -> set[str]:
        return {
            ev.get("guide")
            for ev in self.timeline
            if ev.get("type") == "download" and ev.get("guide")
        }

    @property
    def last_seen(self) -> float:
        """Return the latest sign of life: a visit, a decision, or the signup."""
        if self._last_seen is None:
            seen = [self.profile.last_seen_ts] if self.profile else []
            for value in [self.contact.get("created")] + [
                ev.get("ts") for ev in self.timeline
            ]:
                if value:
                    seen.append(stages.parse_ts(value).timestamp())
            self._last_seen = max((s for s in seen if s is not None), default=0.0)
        return self._last_seen

    def interests(self) -> list[str]:
        if not self.profile:
            return []
        counts = self.profile.categories
        return sorted(counts, key=lambda slug: (-counts[slug], slug))


def _read_enough(counts: Counter | None, wanted: tuple[str, ...], minimum: int) -> bool:
    """True when one wanted category (tag), or any for "*", has enough posts."""
    if not counts:
        return False
    if wanted == (ANY,):
        return max(counts.values()) >= minimum
    for slug in wanted:
        if counts.get(slug, 0) >= minimum:
            return True
    return False


def _matches(audience: Audience, f: _Facts) -> bool:
    """Return True when the contact meets every rule of the audience."""
    if f.contact.get("status") not in audience.status:
        return False
    if audience.stages and f.stage not in audience.stages:
        return False
    if audience.only_customers and not f.customer:
        return False
    if audience.exclude_customers and f.customer:
        return False
    if audience.guides:
        downloaded = f.guides
        if not downloaded or (
            audience.guides != (ANY,) and not downloaded & set(audience.guides)
        ):
            return False
    profile = f.profile
    minimum = audience.min_posts or 1
    if audience.categories and not (
        profile and _read_enough(profile.categories, audience.categories, minimum)
    ):
        return False
    if audience.tags and not (
        profile and _read_enough(profile.tags, audience.tags, minimum)
    ):
        return False
    if audience.min_posts and not (audience.categories or audience.tags):
        if not profile or len(profile.posts) < audience.min_posts:
            return False
    if audience.min_score is not None and f.score < audience.min_score:
        return False
    if audience.seen_within_days is not None:
        if f.now.timestamp() - f.last_seen > audience.seen_within_days * _DAY:
            return False
    if audience.not_seen_days is not None:
        if f.now.timestamp() - f.last_seen < audience.not_seen_days * _DAY:
            return False
    return True


class AudienceMembers(dict):
    """``{audience name: [row]}``, remembering the audiences for the manifest."""

    def __init__(self, rows: dict, audiences: dict[str, Audience]) -> None:
        super().__init__(rows)
        self.audiences = audiences


def members(
    audiences: list[Audience],
    contacts: list[Mapping],
    profiles: Mapping[str, Profile],
    timelines: Mapping[str, list[Mapping]],
    now: datetime | str,
    weights: stages.LeadScoreWeights | None = None,
) -> AudienceMembers:
    """Return each audience's members, in the order of ``contacts``.

    A member is a copy of the contact with ``stage``, ``score`` and
    ``interests`` (category slugs by posts read) added; the same copy is
    shared by every list the person is in. Never included: see `is_listable`.
    Status "none" (identified but not subscribed: guide downloaders, quote
    requests, imported customers) is included only where the audience's
    ``status`` rule allows it, as the default downloader, customer, lead and
    interest lists do. Exclusions are applied after every audience's
    inclusions are known, so ``exclude`` removes the other list's final members.

    The score is `stages.lead_score` over the contact's timeline plus the
    Profile's decayed pageviews and email clicks (see `Profile.observed_score`).
    """
    now = stages.parse_ts(now)
    weights = weights or stages.LeadScoreWeights()
    by_name = {a.name: a for a in audiences}
    _check_exclusions(list(audiences))
    included: dict[str, list[str]] = {a.name: [] for a in audiences}
    rows: dict[str, dict] = {}
    for contact in contacts:
        if not is_listable(contact) or contact["id"] in rows:
            continue
        cid = contact["id"]
        facts = _Facts(
            contact, profiles.get(cid), timelines.get(cid) or [], now, weights
        )
        hit = False
        for audience in audiences:
            if _matches(audience, facts):
                included[audience.name].append(cid)
                hit = True
        if hit:
            rows[cid] = {
                **contact,
                "stage": facts.stage,
                "score": facts.score,
                "interests": facts.interests(),
            }
    final: dict[str, list[str]] = {}

    def resolve(name: str) -> list[str]:
        if name not in final:
            excluded: set[str] = set()
            for other in by_name[name].exclude:
                excluded.update(resolve(other))
            final[name] = [cid for cid in included[name] if cid not in excluded]
        return final[name]

    result = {a.name: [rows[cid] for cid in resolve(a.name)] for a in audiences}
    return AudienceMembers(result, by_name)


# --------------------------------------------------------------------------
# Normalisers and hashing


def sha256_hex(value: str) -> str:
    """Return the SHA-256 of the UTF-8 bytes of value, as 64 lowercase hex digits."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _platform(platform: str) -> str:
    if platform not in FORMATS:
        raise AudienceError(
            f"unknown format {platform!r}; expected one of {', '.join(FORMATS)}"
        )
    return platform


GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


def normalise_email(email: Any, platform: str = "csv") -> str | None:
    """Return the address as the platform hashes it, or None if it is not one.

    Every platform: trimmed and lowercased. Google only (Data Manager API,
    "Format user data"): all whitespace removed, and for gmail.com and
    googlemail.com the dots of the local part and any "+tag" removed. Meta and
    LinkedIn document no such rule, so their addresses keep dots and tags.
    """
    _platform(platform)
    if not isinstance(email, str):
        return None
    value = email.strip().lower()
    if platform == "google":
        value = "".join(value.split())
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in value):
        return None
    if platform == "google" and domain in GMAIL_DOMAINS:
        local = local.split("+", 1)[0].replace(".", "")
        if not local:
            return None
    return f"{local}@{domain}"


# Country calling codes (ITU-T E.164 assignments) for numbers written in
# national form. A number given with "+" or "00" needs none of this.
# fmt: off
CALLING_CODES = {
    "AT": "43", "AU": "61", "BE": "32", "BG": "359", "BR": "55", "CA": "1",
    "CH": "41", "CN": "86", "CY": "357", "CZ": "420", "DE": "49", "DK": "45",
    "EE": "372", "ES": "34", "FI": "358", "FR": "33", "GB": "44", "GR": "30",
    "HK": "852", "HR": "385", "HU": "36", "IE": "353", "IL": "972", "IN": "91",
    "IS": "354", "IT": "39", "JP": "81", "KR": "82", "LI": "423", "LT": "370",
    "LU": "352", "LV": "371", "MT": "356", "MX": "52", "NL": "31", "NO": "47",
    "NZ": "64", "PL": "48", "PT": "351", "RO": "40", "RS": "381", "RU": "7",
    "SE": "46", "SG": "65", "SI": "386", "SK": "421", "TR": "90", "UA": "380",
    "US": "1", "ZA": "27", "AX": "358", "AE": "971",
}
# fmt: on
# Countries whose national numbers keep their leading 0 in E.164 (Italy).
_KEEPS_ZERO = frozenset({"IT", "SM", "VA"})
_NANP = frozenset({"US", "CA"})


def normalise_phone(phone: Any, default_country: str | None = None) -> str | None:
    """Return the number in E.164 as digits without "+" (e.g. "358401234567").

    "+" or "00" (or "011" in North America) starts an international number.
    Otherwise ``default_country`` (ISO-2, the contact's country) supplies the
    calling code and the national trunk "0" is dropped; a number that already
    starts with that code and is long enough is taken as international, as
    Meta's examples write them. Without a country, a number that does not start
    with 0 is taken to include its code. None when nothing usable remains.
    Meta hashes these digits; Google hashes them with a leading "+".
    """
    if not isinstance(phone, str | int) or isinstance(phone, bool):
        return None
    raw = str(phone).strip()
    digits = "".join(c for c in raw if "0" <= c <= "9")
    if not digits:
        return None
    country = (normalise_country(default_country) or "").upper()
    if raw.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    elif country in _NANP and digits.startswith("011"):
        number = digits[3:]
    elif country in CALLING_CODES:
        code = CALLING_CODES[country]
        if not digits.startswith("0") and digits.startswith(code) and len(digits) > 10:
            number = digits
        else:
            national = digits
            if country in _NANP and len(national) == 11 and national[0] == "1":
                national = national[1:]
            elif country not in _KEEPS_ZERO and national.startswith("0"):
                national = national[1:]
            number = code + national
    elif country or digits.startswith("0"):
        return None  # a national number from a country we cannot place
    else:
        number = digits
    if number.startswith("0") or not 7 <= len(number) <= 15:
        return None
    return number


def normalise_name(name: Any, platform: str = "csv") -> str | None:
    """Return a first or last name as the platform hashes it, or None.

    Meta: lowercase letters only (no spaces, punctuation or digits), accented
    letters kept and hashed as UTF-8, in Unicode NFC. Google: lowercase with
    leading and trailing whitespace trimmed (inner runs become one space).
    CSV and LinkedIn (which matches names in plain text only): trimmed.
    """
    _platform(platform)
    if not isinstance(name, str):
        return None
    value = " ".join(unicodedata.normalize("NFC", name).split())
    if platform == "meta":
        value = "".join(c for c in value.lower() if c.isalpha())
    elif platform == "google":
        value = value.lower()
    return value or None


def normalise_country(country: Any) -> str | None:
    """Return an ISO 3166-1 alpha-2 code in lowercase ("FI" -> "fi"), or None."""
    if not isinstance(country, str):
        return None
    value = country.strip().lower()
    value = {"uk": "gb"}.get(value, value)
    return value if len(value) == 2 and value.isascii() and value.isalpha() else None


def normalise_zip(
    zip_code: Any, platform: str = "csv", country: Any = None
) -> str | None:
    """Return a postal code as the platform takes it, or None.

    Meta (hashed): lowercase, no spaces or dashes, the first 5 digits in the
    US. Google (not hashed): trimmed, inner whitespace collapsed, as written
    ("94303-5300", "WC2H 8LG").
    """
    _platform(platform)
    if isinstance(zip_code, int) and not isinstance(zip_code, bool):
        zip_code = str(zip_code)
    if not isinstance(zip_code, str):
        return None
    value = " ".join(zip_code.split())
    if platform == "meta":
        value = value.lower().replace(" ", "")
        if normalise_country(country) == "us":
            value = value.split("-", 1)[0][:5]
        value = value.replace("-", "")
    return value or None


def normalise_place(value: Any) -> str | None:
    """Return a city or state for Meta: lowercase letters only (UTF-8), or None."""
    if not isinstance(value, str):
        return None
    cleaned = unicodedata.normalize("NFC", value).lower()
    return "".join(c for c in cleaned if c.isalpha()) or None


def identifier_hashes(contact: Mapping) -> set[str]:
    """Return every email hash an ad file may hold for the contact.

    Erasure scrubs audience files by these: Google's Gmail rule makes its hash
    differ from the plain SHA-256 of the stored address.
    """
    found = set()
    for platform in AD_FORMATS:
        email = normalise_email(contact.get("email"), platform)
        if email:
            found.add(sha256_hex(email))
    return found


# --------------------------------------------------------------------------
# Formats


@dataclass(frozen=True)
class Platform:
    key: str
    title: str
    columns: tuple[str, ...]
    minimum: int
    spec: str
    note: str = ""


PLATFORMS = {
    "csv": Platform(
        "csv",
        "CRM",
        (
            "email",
            "first_name",
            "stage",
            "score",
            "interests",
            "newsletter_consent",
            "ads_consent",
        ),
        0,
        "",
    ),
    "meta": Platform(
        "meta",
        "Meta",
        ("email", "phone", "fn", "ln", "ct", "st", "zip", "country"),
        100,
        "https://www.facebook.com/business/help/2082575038703844",
    ),
    "google": Platform(
        "google",
        "Google",
        ("Email", "Phone", "First Name", "Last Name", "Country", "Zip"),
        100,
        "https://support.google.com/google-ads/answer/7659867",
        note="1,000 for YouTube",
    ),
    "linkedin": Platform(
        "linkedin",
        "LinkedIn",
        (
            "email",
            "firstname",
            "lastname",
            "jobtitle",
            "employeecompany",
            "country",
            "googleaid",
        ),
        300,
        "https://www.linkedin.com/help/lms/answer/a1489764",
    ),
}


def _h(value: str | None) -> str:
    return sha256_hex(value) if value else ""


def _safe(value: Any) -> str:
    """Return a plain cell; text a spreadsheet would run as a formula is quoted."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _consent_cell(contact: Mapping, kind: str) -> str:
    """Return when the consent was given, "yes" if undated, "" if none or withdrawn."""
    proof = (contact.get("consent") or {}).get(kind)
    if not isinstance(proof, Mapping) or proof.get("withdrawn_at"):
        return ""
    for key in ("confirmed_at", "ts", "at", "given_at"):
        if proof.get(key):
            return str(proof[key])
    return "yes"


def csv_row(member: Mapping) -> list[str] | None:
    """Return the owner's CRM row: plain values, formula-like text quoted."""
    return [
        _safe(member.get("email")),
        _safe(member.get("first_name") or ""),
        _safe(member.get("stage", "")),
        _safe(member.get("score", "")),
        _safe(";".join(member.get("interests") or ())),
        _consent_cell(member, "newsletter"),
        _consent_cell(member, "ads"),
    ]


def meta_row(member: Mapping) -> list[str] | None:
    """Return a Meta customer-list row, every cell SHA-256; None if unmatchable."""
    email = normalise_email(member.get("email"), "meta")
    phone = normalise_phone(member.get("phone"), member.get("country"))
    if not email and not phone:
        return None
    country = normalise_country(member.get("country"))
    return [
        _h(email),
        _h(phone),
        _h(normalise_name(member.get("first_name"), "meta")),
        _h(normalise_name(member.get("last_name"), "meta")),
        _h(normalise_place(member.get("city"))),
        _h(normalise_place(member.get("state"))),
        _h(normalise_zip(member.get("zip"), "meta", country)),
        _h(country),
    ]


def google_row(member: Mapping) -> list[str] | None:
    """Return a Customer Match row; None if unmatchable.

    Email, Phone and names are SHA-256. Country and Zip are written (plain, as
    Google requires) only with both names, when an address match is possible:
    alone they match nothing and would only share data.
    """
    email = normalise_email(member.get("email"), "google")
    phone = normalise_phone(member.get("phone"), member.get("country"))
    if not email and not phone:
        return None
    first = normalise_name(member.get("first_name"), "google")
    last = normalise_name(member.get("last_name"), "google")
    country = normalise_country(member.get("country"))
    zip_code = normalise_zip(member.get("zip"), "google", country)
    address = bool(first and last and country and zip_code)
    return [
        _h(email),
        _h("+" + phone if phone else None),
        _h(first) if address else "",
        _h(last) if address else "",
        country if address else "",
        _safe(zip_code) if address else "",
    ]


def linkedin_row(member: Mapping) -> list[str] | None:
    """Return a contact-list row with the hashed email only; None if unmatchable."""
    email = normalise_email(member.get("email"), "linkedin")
    if not email:
        return None
    return [_h(email), "", "", "", "", "", ""]


ROWS = {
    "csv": csv_row,
    "meta": meta_row,
    "google": google_row,
    "linkedin": linkedin_row,
}


def render(
    fmt: str, people: Iterable[Mapping], cache: dict | None = None
) -> tuple[bytes, dict[str, int]]:
    """Return one format's CSV bytes and counts (rows, without_ads_consent, ...).

    Ad formats hold only people with a live ads consent; a person with no
    address or phone the platform can use is skipped and counted. ``cache``
    (contact id -> row, one per format) spares hashing a person once per list.
    """
    platform = PLATFORMS[_platform(fmt)]
    build = ROWS[fmt]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(platform.columns)
    counts = {"members": 0, "rows": 0, "without_ads_consent": 0, "unmatchable": 0}
    for member in people:
        counts["members"] += 1
        if fmt in AD_FORMATS and not has_ads_consent(member):
            counts["without_ads_consent"] += 1
            continue
        key = member.get("id")
        if cache is not None and key is not None:
            if key not in cache:
                cache[key] = build(member)
            row = cache[key]
        else:
            row = build(member)
        if row is None:
            counts["unmatchable"] += 1
            continue
        writer.writerow(row)
        counts["rows"] += 1
    return out.getvalue().encode("utf-8"), counts


def _previous_files(out_dir: str) -> list[str]:
    try:
        with open(os.path.join(out_dir, MANIFEST_NAME), encoding="utf-8") as f:
            previous = json.load(f)
        return [
            str(entry["file"])
            for entry in previous.get("files", [])
            if _FILE.match(str(entry.get("file", "")))
        ]
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return []


def write_audiences(
    out_dir: str,
    audiences_members: Mapping[str, list[Mapping]],
    formats: Iterable[str],
    source: Mapping,
    *,
    audiences: Iterable[Audience] | Mapping[str, Audience] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Write ``<name>.<format>.csv`` per audience and format, plus manifest.json.

    Each file is replaced atomically. The manifest records when, from which
    ``source`` (a description the caller passes) and with which rules each
    file was made, its rows and the platform's minimum. A list below that
    minimum is still written, with a warning in the manifest and in the list
    returned for the caller to log. Files a previous run listed and this run
    did not write are removed, so that no list outlives the data it was made
    from. Rules come from ``audiences`` or, by default, from `members`' result.
    """
    formats = list(dict.fromkeys(formats))
    if not formats:
        raise AudienceError(f"no format given; expected some of {', '.join(FORMATS)}")
    for fmt in formats:
        _platform(fmt)
    if audiences is None:
        audiences = getattr(audiences_members, "audiences", {})
    by_name = (
        dict(audiences)
        if isinstance(audiences, Mapping)
        else {a.name: a for a in audiences}
    )
    for name in audiences_members:
        if not isinstance(name, str) or not _NAME.match(name):
            raise AudienceError(f"audience name {name!r} cannot name a file")
    now = now or clock.now()
    os.makedirs(out_dir, exist_ok=True)
    previous = _previous_files(out_dir)
    warnings: list[str] = []
    entries: list[dict[str, Any]] = []
    caches: dict[str, dict] = {fmt: {} for fmt in formats}
    for name, people in audiences_members.items():
        people = list(people)
        audience = by_name.get(name)
        for fmt in formats:
            platform = PLATFORMS[fmt]
            data, counts = render(fmt, people, caches[fmt])
            filename = f"{name}.{fmt}.csv"
            atomic_write(os.path.join(out_dir, filename), data)
            entry: dict[str, Any] = {
                "file": filename,
                "audience": name,
                "format": fmt,
                **counts,
                "rules": audience.rules() if audience else None,
                "description": audience.description if audience else "",
            }
            if fmt in AD_FORMATS:
                entry["minimum"] = platform.minimum
                entry["spec"] = platform.spec
                if counts["rows"] < platform.minimum:
                    note = f" ({platform.note})" if platform.note else ""
                    warning = (
                        f"{filename}: {counts['rows']} people, below "
                        f"{platform.title}'s minimum of {platform.minimum}{note} "
                        "for a matchable list; written anyway"
                    )
                    entry["warning"] = warning
                    warnings.append(warning)
            entries.append(entry)
    manifest = {
        "version": MANIFEST_VERSION,
        "generated_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "source": dict(source),
        "formats": formats,
        "files": entries,
    }
    atomic_write(
        os.path.join(out_dir, MANIFEST_NAME),
        json.dumps(manifest, indent=1, ensure_ascii=False, default=str).encode(),
    )
    written = {entry["file"] for entry in entries}
    for filename in previous:
        if filename not in written:
            try:
                os.unlink(os.path.join(out_dir, filename))
            except FileNotFoundError:
                pass
    return warnings
