"""The newsletter digest's content: which posts go in, and one email per reader.

Pure: takes manifest entries, a recipient and link-making callables, and
returns strings. Sending, the send ledger and the tokens belong to the caller.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

import css_inline
import jinja2

from tracker import clock

LANGS = ("en", "fi")
DEFAULT_SUBJECT = "New from {site_name}"
SUBJECT_FIELDS = ("site_name", "date", "count")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")
TEXT_WIDTH = 72
TEMPLATE_HTML = "digest.html"
TEMPLATE_TEXT = "digest.txt"

MONTHS_EN = (
    "January February March April May June July August September October "
    "November December"
).split()

# The default subject in each language (DigestSettings.subject, when left at
# its default, follows the language).
SUBJECTS = {"en": DEFAULT_SUBJECT, "fi": "Uutta: {site_name}"}

# Every string of the digest email, in English and Finnish. Placeholders are
# str.format fields; the templates receive the formatted strings as `t`.
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "greeting_name": "Hi {name},",
        "greeting": "Hi,",
        "heading": "New on {site}",
        "intro": "Here are the newest posts, picked with your reading in mind.",
        "category": "Category",
        "more_one": "One more new post is waiting on the site.",
        "more_many": "{n} more new posts are waiting on the site.",
        "more_link": "See all new posts on {site}",
        "feedback_question": "How likely are you to recommend us to a friend?",
        "feedback_hint": "Choose a number: 0 = not at all likely, 10 = extremely "
        "likely.",
        "feedback_low": "Not likely",
        "feedback_high": "Very likely",
        "feedback_score": "{score} out of 10",
        "referral_intro": "Know someone who would enjoy these posts?",
        "referral_link": "Share with a friend",
        "referral_text": "Share this link with a friend:",
        "why": "You get this email because you subscribed to the newsletter on {site}.",
        "unsubscribe_intro": "Don't want these emails any more?",
        "unsubscribe": "Unsubscribe",
        "unsubscribe_text": "Unsubscribe with one click:",
        "sent_by": "Sent by {sender}",
    },
    "fi": {
        "greeting_name": "Hei {name},",
        "greeting": "Hei,",
        "heading": "Uutta: {site}",
        "intro": "Tässä uusimmat kirjoituksemme, lukemiesi aiheiden mukaan "
        "järjestettyinä.",
        "category": "Kategoria",
        "more_one": "Sivustolla odottaa vielä yksi uusi kirjoitus.",
        "more_many": "Sivustolla odottaa vielä {n} uutta kirjoitusta.",
        "more_link": "Katso kaikki uudet kirjoitukset: {site}",
        "feedback_question": "Kuinka todennäköisesti suosittelisit meitä ystävällesi?",
        "feedback_hint": "Valitse numero: 0 = en lainkaan todennäköisesti, "
        "10 = erittäin todennäköisesti.",
        "feedback_low": "Epätodennäköistä",
        "feedback_high": "Erittäin todennäköistä",
        "feedback_score": "{score} / 10",
        "referral_intro": "Tunnetko jonkun, joka pitäisi näistä kirjoituksista?",
        "referral_link": "Jaa ystävälle",
        "referral_text": "Jaa tämä linkki ystävällesi:",
        "why": "Saat tämän viestin, koska tilasit uutiskirjeen sivustolla {site}.",
        "unsubscribe_intro": "Etkö halua enää näitä viestejä?",
        "unsubscribe": "Peru tilaus",
        "unsubscribe_text": "Peru tilaus yhdellä klikkauksella:",
        "sent_by": "Lähettäjä: {sender}",
    },
}


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

    def subject_for(self, site_name: str, day: str, count: int) -> str:
        """Return the subject line on one line (no header injection)."""
        template = self.subject
        if template == DEFAULT_SUBJECT:
            template = SUBJECTS[self.lang]
        subject = template.format_map(
            {"site_name": site_name, "date": day, "count": count}
        )
        return " ".join(subject.split())


@dataclass(frozen=True)
class Links:
    """Per-recipient links the caller makes (tokens are the caller's business).

    click_url wraps a content URL with the recipient's signed click token. The
    unsubscribe, referral and feedback URLs already carry their own token and go
    into the email as given.
    """

    click_url: Callable[[str], str]
    unsubscribe_url: str
    referral_url: str | None = None
    feedback_url: Callable[[int], str] | None = None
    site_url: str | None = None


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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _since(value: str | datetime) -> datetime:
    if isinstance(value, datetime):
        return _aware(value)
    try:
        return parse_date(str(value))
    except ValueError:
        raise DigestError(
            f"last digest date {value!r} is not an ISO date or datetime"
        ) from None


def _post_date(post: dict) -> datetime | None:
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
    now = _aware(now)
    start = _since(since) if since else now - timedelta(days=settings.first_days)
    chosen = []
    for post in posts:
        when = _post_date(post)
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
    return Digest(chosen, more, since, _aware(now).date().isoformat())


# ---- links ----------------------------------------------------------------


def _day(value: str | date | datetime | None) -> str:
    if value is None:
        return clock.now().date().isoformat()
    if isinstance(value, datetime):
        return _aware(value).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)[:10]
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise DigestError(f"campaign date {value!r} is not YYYY-MM-DD") from None


@lru_cache(maxsize=4096)
def with_utm(url: str, date: str) -> str:
    """Return url with the digest's utm_source, utm_medium and utm_campaign.

    Existing utm values are replaced; other parameters keep their exact
    spelling and order, and the fragment stays.
    """
    parts = urlsplit(url)
    kept = [
        pair
        for pair in parts.query.split("&")
        if pair and unquote_plus(pair.split("=", 1)[0]) not in UTM_KEYS
    ]
    campaign = quote(f"digest-{_day(date)}", safe="")
    kept += [
        "utm_source=newsletter",
        "utm_medium=email",
        f"utm_campaign={campaign}",
    ]
    return urlunsplit(parts._replace(query="&".join(kept)))


def _check_absolute(url: str, what: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DigestError(f"{what}: {url!r} is not an absolute http(s) URL")
    return url


def absolute_url(site_url: str, url: str) -> str:
    """Return a manifest URL (relative to the site) as an absolute URL."""
    if urlsplit(url).scheme:
        return url
    return site_url.rstrip("/") + "/" + url.lstrip("/")


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
        when = _post_date(post)
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


@lru_cache(maxsize=1024)
def date_label(value: str, lang: str) -> str:
    """Return a post's date as readers of lang write it."""
    day = parse_date(value)
    if lang == "fi":
        return f"{day.day}.{day.month}.{day.year}"
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


@lru_cache(maxsize=4096)  # the same titles and summaries go to every reader
def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "") -> str:
    """Wrap plain text to width without ever breaking a word or a URL."""
    return textwrap.fill(
        " ".join(str(text).split()),
        width=width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


# ---- rendering --------------------------------------------------------------


def make_env(theme_dir: str) -> jinja2.Environment:
    """Return the environment for theme_dir/templates/email/ (build it once)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(theme_dir, "templates", "email")),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # one stat per template per email adds up
    )
    _add_filters(env)
    return env


def _add_filters(env: jinja2.Environment) -> None:
    env.filters.setdefault("wrap", wrap)


@lru_cache(maxsize=1)
def _inliner() -> css_inline.CSSInliner:
    # One inliner for every email. keep_at_rules keeps the @media rules in a
    # <style> tag for phones; everything else is inlined, so clients that drop
    # <style> still show the site's look.
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@lru_cache(maxsize=256)
def _strings(lang: str, site: str, more: int, sender: str) -> dict[str, str]:
    # {name} and {score} stay placeholders, filled per recipient and per link.
    fields = {"site": site, "n": more, "sender": sender}
    fields.update(name="{name}", score="{score}")
    t = {key: value.format(**fields) for key, value in STRINGS[lang].items()}
    t["more"] = t["more_one"] if more == 1 else t["more_many"]
    return t


def render(
    posts: list[dict],
    more: int,
    recipient: dict,
    *,
    site: dict,
    links: Links,
    settings: DigestSettings,
    env: jinja2.Environment,
    campaign_date: str | date | None = None,
) -> tuple[str, str, str]:
    """Return (subject, plain text, HTML with CSS inlined) for one recipient.

    Content links (posts, the site, "more on the site") are made absolute,
    tagged with utm parameters for campaign_date (default: today, UTC) and
    wrapped with links.click_url; the unsubscribe, referral and feedback URLs
    carry their own tokens and are used as given.
    """
    if not posts:
        raise DigestError("a digest needs at least one post; nothing new to send")
    lang = settings.lang
    day = _day(campaign_date)
    site_url = _check_absolute(str(site.get("url") or ""), "site url").rstrip("/")
    site_name = str(site.get("name") or urlsplit(site_url).netloc)
    unsubscribe = _check_absolute(links.unsubscribe_url, "unsubscribe_url")
    referral = links.referral_url and _check_absolute(
        links.referral_url, "referral_url"
    )

    def content(url: str) -> str:
        return links.click_url(with_utm(absolute_url(site_url, url), day))

    items = []
    for post in order_for_reader(posts, recipient.get("interests") or {}):
        date_iso = str(post.get("date") or "")
        dated = _post_date(post) is not None
        items.append(
            {
                "title": post.get("title") or post["url"],
                "url": content(post["url"]),
                "summary": post.get("summary") or "",
                "category": post.get("category") or "",
                "date": date_label(date_iso, lang) if dated else "",
                "date_iso": date_iso[:10] if dated else "",
            }
        )

    sender = settings.from_name or site_name
    t = dict(_strings(lang, site_name, more, sender))
    feedback = None
    if links.feedback_url is not None:
        feedback = [
            {
                "score": n,
                "url": _check_absolute(links.feedback_url(n), "feedback_url"),
                "label": t["feedback_score"].replace("{score}", str(n)),
            }
            for n in range(11)
        ]
    name = first_name(recipient.get("first_name"))
    if name:
        t["greeting"] = t["greeting_name"].replace("{name}", name)
    subject = settings.subject_for(site_name, day, len(posts) + more)
    context = {
        "lang": lang,
        "subject": subject,
        "preheader": " · ".join(item["title"] for item in items),
        "t": t,
        "site_name": site_name,
        "site_href": content(site_url + "/"),
        "posts": items,
        "more": more,
        "more_url": content(links.site_url or site_url + "/") if more else "",
        "feedback": feedback,
        "referral_url": referral or "",
        "unsubscribe_url": unsubscribe,
        "sender": sender,
        "footer_lines": [
            line.strip() for line in settings.footer.splitlines() if line.strip()
        ],
    }
    _add_filters(env)
    text = env.get_template(TEMPLATE_TEXT).render(context)
    html = _inliner().inline(env.get_template(TEMPLATE_HTML).render(context))
    return subject, text, html
