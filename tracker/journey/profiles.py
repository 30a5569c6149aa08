"""What each known person did on the site, from one pass over the observations.

Feeds the audience rules (`tracker.journey.members`) and orders a reader's
digest by the categories and tags they read. Pure: plain records in, plain
data out.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import stages
from .audiences import slugify

OBSERVED = frozenset({"pageview", "event", "click"})
DAY = 86400.0


def _counter() -> Counter:
    """An empty Counter, as Counter() but without its __init__'s cost (a
    million profiles at 1M contacts)."""
    return Counter.__new__(Counter)


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
    categories: Counter = field(default_factory=_counter)
    tags: Counter = field(default_factory=_counter)
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
        age = max(now.timestamp() - self.anchor, 0.0) / DAY
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
    contacts: Iterable[Mapping] | None,
    manifest: Mapping | None,
    weights: stages.LeadScoreWeights | None = None,
) -> dict[str, Profile]:
    """Return a Profile per observed contact from ONE pass over the observations.

    An observation belongs to the contact it names, else to the contact whose
    ``visitors`` hold its visitor id (the first such contact, if two share a
    browser). Observations of unknown people, of contacts not in ``contacts``
    (erased ones) and bots are skipped: anonymous traffic costs two dict
    lookups and nothing is copied. A contact never observed has no entry.

    ``contacts`` None: each observation's ``owner`` already says whose it is
    (`Storage.observations_of_people` resolved it over every contact), so
    no contact need be held for this pass; one without an owner is skipped.
    """
    weights = weights or stages.LeadScoreWeights()
    known: set[str] | None = None if contacts is None else set()
    owner: dict[str, str] = {}
    for contact in contacts or ():
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
    half_life = weights.half_life_days * DAY
    resolved: dict[str, tuple | None] = {}
    fromisoformat = datetime.fromisoformat
    for ob in observations:
        kind = ob.get("type")
        if kind not in OBSERVED:
            continue
        if known is None:
            cid = ob.get("owner")
            if not cid:
                continue
        else:
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
