"""Which post to read next: like this one, read by this page's readers, read most.

Three signals, blended: content similarity (the build's TF-IDF neighbours of
each post, in the manifest as `similar`), co-visitation ("readers of X read
Y", counted from stored pageviews and trusted only with at least
MIN_CO_READERS readers in common, so that one reader's path never shows) and
popularity, the fallback when the other two say nothing. A reader engaged on
a topic gets a post on it while one is left. Posts already read and the
current one are never recommended. Pure: the manifest and plain counts in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

from .audiences import slugify

MIN_CO_READERS = 3
MAX_POSTS_PER_READER = 50  # a reader's pairs grow as the square of their posts
KEEP_PAIRS = 10  # co-read posts kept per post
ENGAGED_POSTS = 2  # posts on one topic that make a reader engaged on it
WEIGHTS = {"similar": 0.5, "covisit": 0.35, "topic": 0.1, "popular": 0.05}


def path_key(path: str) -> str:
    """Reduce "/posts/slug/index.html?x=1" and "posts/slug" to "posts/slug"."""
    path = str(path or "").split("?", 1)[0].split("#", 1)[0].lstrip("/")
    if path.endswith("index.html"):
        path = path[: -len("index.html")]
    return path.rstrip("/")


@dataclass(frozen=True)
class Post:
    key: str
    url: str
    title: str
    kind: str
    date: str
    tags: tuple[str, ...]
    similar: dict[str, float] = field(default_factory=dict)
    default_next: str | None = None
    quiet: bool = False  # an article whose writer said `Cta: none`


class Catalogue:
    """The manifest's posts and landing pages by path key, and the guides' topics.

    Built once per manifest (the caller keeps it): every request then costs
    dictionary look-ups.
    """

    def __init__(self, manifest: Mapping) -> None:
        self.posts: dict[str, Post] = {}
        for raw in manifest.get("posts") or ():
            if not isinstance(raw, Mapping):
                continue
            key = path_key(raw.get("url") or "")
            if not key:
                continue
            similar = {}
            for pair in raw.get("similar") or ():
                if isinstance(pair, list | tuple) and len(pair) == 2:
                    similar[path_key(pair[0])] = float(pair[1])
            nxt = raw.get("next")
            self.posts[key] = Post(
                key=key,
                url=str(raw.get("url") or ""),
                title=str(raw.get("title") or ""),
                kind=str(raw.get("kind") or "article"),
                date=str(raw.get("date") or ""),
                tags=tuple(dict.fromkeys(slugify(t) for t in raw.get("tags") or ())),
                similar=similar,
                default_next=path_key(nxt) if nxt else None,
                quiet=raw.get("kind", "article") == "article" and not raw.get("cta"),
            )
        self.articles = sorted(
            (p for p in self.posts.values() if p.kind == "article"),
            key=lambda p: (p.date, p.key),
            reverse=True,
        )
        self.guides = {
            slug: dict(g)
            for slug, g in (manifest.get("guides") or {}).items()
            if isinstance(g, Mapping)
        }
        self.guide_topics = self._guide_topics(manifest)

    def _guide_topics(self, manifest: Mapping) -> dict[str, Counter]:
        """A guide's topics: the tags of the posts that offer it (`Cta:
        guide:<slug>`) and of its own download page, counted."""
        topics: dict[str, Counter] = {slug: Counter() for slug in self.guides}
        by_url = {path_key(g.get("url") or ""): s for s, g in self.guides.items()}
        for raw in manifest.get("posts") or ():
            if not isinstance(raw, Mapping):
                continue
            post = self.posts.get(path_key(raw.get("url") or ""))
            cta = raw.get("cta") if isinstance(raw.get("cta"), Mapping) else {}
            slug = cta.get("slug") if cta.get("kind") == "guide" else None
            slug = slug if slug in topics else by_url.get(post.key if post else "")
            if post and slug:
                topics[slug].update(post.tags)
        return topics

    def post(self, path: str) -> Post | None:
        return self.posts.get(path_key(path))

    def guide_for(self, topic: str | None, skip: Iterable[str] = ()) -> str | None:
        """The guide most about this topic (not one of skip), or None."""
        if not topic:
            return None
        skipped = set(skip)
        ranked = sorted(
            (-tags[topic], slug)
            for slug, tags in self.guide_topics.items()
            if tags[topic] and slug not in skipped
        )
        return ranked[0][1] if ranked else None

    def default_next(self, current: str | None) -> Post | None:
        """The block's default next read for a page: the build's choice, or the
        newest other post."""
        here = self.posts.get(current or "")
        if here and here.default_next in self.posts:
            return self.posts[here.default_next]
        return next((p for p in self.articles if p.key != current), None)


def reader_sets(pageviews: Iterable[Mapping], known: set[str]) -> list[set[str]]:
    """Each visitor's set of known posts read, from stored pageviews."""
    found: dict[str, set[str]] = {}
    for event in pageviews:
        visitor = event.get("visitor")
        if not visitor or event.get("type", "pageview") != "pageview":
            continue
        key = path_key(event.get("path") or "")
        if key in known:
            found.setdefault(visitor, set()).add(key)
    return list(found.values())


def covisits(
    readers: Iterable[set[str]], minimum: int = MIN_CO_READERS, keep: int = KEEP_PAIRS
) -> dict[str, list[tuple[str, int]]]:
    """For each post, the posts its readers also read, with how many did: only
    pairs read by at least `minimum` readers, the `keep` most read first."""
    pairs: Counter = Counter()
    for posts in readers:
        if len(posts) < 2:
            continue
        chosen = sorted(posts)[:MAX_POSTS_PER_READER]
        pairs.update(combinations(chosen, 2))
    found: dict[str, list[tuple[str, int]]] = {}
    for (a, b), count in pairs.items():
        if count >= minimum:
            found.setdefault(a, []).append((b, count))
            found.setdefault(b, []).append((a, count))
    return {
        key: sorted(found[key], key=lambda p: (-p[1], p[0]))[:keep] for key in found
    }


def popularity(readers: Iterable[set[str]]) -> dict[str, int]:
    """How many readers read each post."""
    counts: Counter = Counter()
    for posts in readers:
        counts.update(posts)
    return dict(counts)


def topics_read(catalogue: Catalogue, read: Iterable[str]) -> Counter:
    """Distinct posts read per tag."""
    counts: Counter = Counter()
    for key in set(read):
        post = catalogue.posts.get(key)
        if post:
            counts.update(post.tags)
    return counts


def engaged_topic(
    catalogue: Catalogue,
    read: Iterable[str],
    current: str | None = None,
    counts: Counter | None = None,
) -> str | None:
    """The tag the reader read most posts on, if ENGAGED_POSTS or more; ties go
    to the current page's tags, then alphabetically. counts: topics_read's,
    when the caller has them."""
    counts = topics_read(catalogue, read) if counts is None else counts
    here = catalogue.posts.get(current or "")
    near = set(here.tags) if here else set()
    ranked = sorted(
        (-n, tag not in near, tag) for tag, n in counts.items() if n >= ENGAGED_POSTS
    )
    return ranked[0][2] if ranked else None


def next_read(
    catalogue: Catalogue,
    current: str | None,
    read: Iterable[str],
    co_read: Mapping[str, list] | None = None,
    popular: Mapping[str, int] | None = None,
) -> Post | None:
    """The post this reader should read next, or None when every post is read."""
    seen = set(read) | {current}
    candidates = [p for p in catalogue.articles if p.key not in seen]
    if not candidates:
        return None
    tags = topics_read(catalogue, seen - {None})
    topic = engaged_topic(catalogue, (), current, tags)
    on_topic = [p for p in candidates if topic in p.tags] if topic else []
    candidates = on_topic or candidates
    here = catalogue.posts.get(current or "")
    similar = here.similar if here else {}
    co = dict((co_read or {}).get(current or "", ()))
    top_co = max(co.values(), default=0) or 1
    popular = popular or {}
    top_popular = max(popular.values(), default=0) or 1
    reads = max(len(seen - {None}), 1)

    def score(post: Post) -> tuple:
        affinity = max((tags[t] for t in post.tags), default=0) / reads
        value = (
            WEIGHTS["similar"] * similar.get(post.key, 0.0)
            + WEIGHTS["covisit"] * co.get(post.key, 0) / top_co
            + WEIGHTS["topic"] * affinity
            + WEIGHTS["popular"] * popular.get(post.key, 0) / top_popular
        )
        return (-round(value, 9), -_ordinal(post.date), post.key)

    return min(candidates, key=score)


def _ordinal(date: str) -> int:
    """A sortable number for an ISO date (newer is larger)."""
    digits = "".join(c for c in date[:19] if c.isdigit())
    return int(digits or 0)
