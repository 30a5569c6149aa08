"""Which posts go into a digest, and in which order for each reader.

Pure: manifest entries, a reader's interests and the digest's settings in,
plain data out. Rendering the email is the plugin's (`pelican.plugins.polku.
digest`); sending, the send ledger and the tokens are the tracker's mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

LANGS = ("en", "fi")
DEFAULT_SUBJECT = "New from {site_name}"
SUBJECT_FIELDS = ("site_name", "date", "count")


class DigestError(ValueError):
    """A digest setting or input the digest cannot use."""


@dataclass(frozen=True)
class DigestSettings:
    """How the digest is put together; read from the site's DIGEST setting."""

    max_posts: int = 5
    first_days: int = 30
    subject: str = DEFAULT_SUBJECT
    from_name: str = ""
    footer: str = ""
    lang: str = "en"

    def __post_init__(self) -> None:
        lang = str(self.lang or "en").replace("_", "-").split("-")[0].lower()
        if lang not in LANGS:
            raise DigestError(
                f"DIGEST['lang']: unknown language {self.lang!r}; "
                f"expected one of {', '.join(LANGS)}"
            )
        object.__setattr__(self, "lang", lang)
        if isinstance(self.footer, list | tuple):
            object.__setattr__(self, "footer", "\n".join(map(str, self.footer)))
        for name in ("subject", "from_name", "footer"):
            if not isinstance(getattr(self, name), str):
                raise DigestError(
                    f"DIGEST[{name!r}]: {getattr(self, name)!r} is not text"
                )
        for name in ("max_posts", "first_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DigestError(
                    f"DIGEST[{name!r}]: {value!r} is not a whole number of 1 or more"
                )
        try:
            self.subject.format_map(dict.fromkeys(SUBJECT_FIELDS, ""))
        except (KeyError, IndexError, ValueError, AttributeError) as e:
            raise DigestError(
                f"DIGEST['subject']: {self.subject!r} cannot be formatted ({e}); "
                f"it may use {', '.join('{' + f + '}' for f in SUBJECT_FIELDS)}"
            ) from None

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any] | None, **defaults: Any):
        """Build settings from a DIGEST dict (keys in any case) over defaults."""
        allowed = cls.__dataclass_fields__.keys()
        values = dict(defaults)
        for key, value in (mapping or {}).items():
            name = str(key).lower()
            if name not in allowed:
                raise DigestError(
                    f"DIGEST[{key!r}]: unknown setting; "
                    f"expected one of {', '.join(allowed)}"
                )
            values[name] = value
        return cls(**values)

    def subject_for(
        self, site_name: str, day: str, count: int, default: str | None = None
    ) -> str:
        """Return the subject line on one line (no header injection).

        ``default`` replaces the default subject (the renderer passes it in the
        digest's language); a subject the site set is used as written.
        """
        template = self.subject
        if template == DEFAULT_SUBJECT and default:
            template = default
        subject = template.format_map(
            {"site_name": site_name, "date": day, "count": count}
        )
        return " ".join(subject.split())


@dataclass(frozen=True)
class Digest:
    """The posts of one digest run: the first max_posts and how many more."""

    posts: list[dict]
    more: int
    since: str | None
    date: str


# ---- selection ------------------------------------------------------------


@lru_cache(maxsize=4096)
def parse_date(value: str) -> datetime:
    """Parse an ISO date or datetime; naive values are taken as UTC."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def aware(moment: datetime) -> datetime:
    """Return moment, taken as UTC when it is naive."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _since(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return aware(value)
    try:
        return parse_date(str(value))
    except ValueError:
        raise DigestError(
            f"last digest date {value!r} is not an ISO date or datetime"
        ) from None


def post_date(post: dict) -> datetime | None:
    """Return a manifest entry's date, or None when it has no readable one."""
    value = post.get("date")
    if not value:
        return None
    try:
        return parse_date(str(value))
    except ValueError:
        return None


def _is_published_article(post: dict) -> bool:
    return (
        post.get("kind") == "article"
        and post.get("status", "published") == "published"
        and not post.get("hidden")
        and bool(post.get("url"))
    )


def select_posts(
    posts: list[dict],
    since: str | datetime | None,
    now: datetime,
    settings: DigestSettings,
) -> tuple[list[dict], int]:
    """Return the newest max_posts articles since the last digest, and how many more.

    With no previous digest (since is None) the window is the last first_days
    days. Posts dated in the future, drafts, hidden posts, landing pages and
    entries without a readable date are left out.
    """
    now = aware(now)
    start = _since(since) if since else now - timedelta(days=settings.first_days)
    chosen = []
    for post in posts:
        when = post_date(post)
        if when is None or not _is_published_article(post):
            continue
        if start < when <= now:
            chosen.append((when, post))
    chosen.sort(key=lambda pair: (pair[0], pair[1]["url"]), reverse=True)
    ordered = [post for _, post in chosen]
    return ordered[: settings.max_posts], max(0, len(ordered) - settings.max_posts)


def build_digest(
    posts: list[dict], since: str | None, now: datetime, settings: DigestSettings
) -> Digest | None:
    """Return this run's Digest, or None when nothing new was published."""
    chosen, more = select_posts(posts, since, now, settings)
    if not chosen:
        return None
    return Digest(chosen, more, since, aware(now).date().isoformat())


# ---- per reader -------------------------------------------------------------


def _names(post: dict) -> set[str]:
    names = {str(tag).casefold() for tag in post.get("tags") or []}
    if post.get("category"):
        names.add(str(post["category"]).casefold())
    return names


def order_for_reader(posts: list[dict], interests: dict[str, int]) -> list[dict]:
    """Order posts by the reader's interest in their category and tags.

    The score is the sum of the reader's counts for the post's category and
    tags (names compared case-insensitively); ties go to the newer post.
    """
    weights: dict[str, int] = {}
    for name, count in (interests or {}).items():
        key = str(name).casefold()
        weights[key] = weights.get(key, 0) + int(count or 0)

    def key(post: dict):
        score = sum(weights.get(name, 0) for name in _names(post))
        when = post_date(post)
        return (-score, -(when.timestamp() if when else 0.0))

    return sorted(posts, key=key)


def first_name(value: Any) -> str | None:
    """Return a first name fit for a greeting, or None.

    Values that look like an address or a link are dropped: a signup form is
    not a way to put text of someone else's choosing into our emails.
    """
    name = " ".join(str(value or "").split())
    if not name or len(name) > 40:
        return None
    lowered = name.casefold()
    if any(c in name for c in "@/:<>\\{}[]") or "www." in lowered:
        return None
    return name
