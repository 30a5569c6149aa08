"""The newsletter digest's email: one per reader, plain text and HTML.

Which posts go in and in which order is the pure core's
(`tracker.journey.digest`); this module renders them with the plugin's
templates (`templates/polku/email/`, which a theme may override) and inlines the
CSS. It takes a recipient and link-making callables and returns strings;
sending, the send ledger and the tokens belong to the caller. The words come
from the gettext catalogues, the dates from Babel, in the digest's language.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

import css_inline
import jinja2

from tracker import clock
from tracker.i18n import N_ as _
from tracker.i18n import format_date, gettext, ngettext
from tracker.journey.digest import (
    DigestError,
    DigestSettings,
    aware,
    first_name,
    order_for_reader,
    parse_date,
    post_date,
)

from . import digest_shapes as shapes

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")
TEXT_WIDTH = 72
TEMPLATE_HTML = "polku/email/digest.html"
TEMPLATE_TEXT = "polku/email/digest.txt"


# Every sentence of the digest, by the key the templates use. Placeholders are
# %-style fields; %(name)s and %(score)s are filled per recipient and per link.
MESSAGES = {
    "greeting_name": _("Hi %(name)s,"),
    "greeting": _("Hi,"),
    "heading": _("New on %(site)s"),
    "intro": _("Here are the newest posts, picked with your reading in mind."),
    "category": _("Category"),
    "more_link": _("See all new posts on %(site)s"),
    "feedback_question": _("How likely are you to recommend us to a friend?"),
    "feedback_hint": _(
        "Choose a number: 0 = not at all likely, 10 = extremely likely."
    ),
    "feedback_low": _("Not likely"),
    "feedback_high": _("Very likely"),
    "feedback_score": _("%(score)s out of 10"),
    "referral_intro": _("Know someone who would enjoy these posts?"),
    "referral_link": _("Share with a friend"),
    "referral_text": _("Share this link with a friend:"),
    "why": _(
        "You get this email because you subscribed to the newsletter on %(site)s."
    ),
    "unsubscribe_intro": _("Don't want these emails any more?"),
    "unsubscribe": _("Unsubscribe"),
    "unsubscribe_text": _("Unsubscribe with one click:"),
    "preferences_intro": _("How often, on which topics, or a pause?"),
    "preferences": _("Your data and your choices"),
    "preferences_text": _("Your data and your choices:"),
    "sent_by": _("Sent by %(sender)s"),
}
# The default subject as the reader's language writes it; str.format fields.
DEFAULT_SUBJECT = _("New from {site_name}")


@dataclass(frozen=True)
class Links:
    """Per-recipient links the caller makes (tokens are the caller's business).

    click_url wraps a content URL with the recipient's signed click token. The
    unsubscribe, referral, feedback and preferences (the reader's own page)
    URLs already carry their own token and go into the email as given.
    """

    click_url: Callable[[str], str]
    unsubscribe_url: str
    referral_url: str | None = None
    feedback_url: Callable[[int], str] | None = None
    site_url: str | None = None
    preferences_url: str | None = None


# ---- links ----------------------------------------------------------------


def _day(value: str | date | datetime | None) -> str:
    if value is None:
        return clock.now().date().isoformat()
    if isinstance(value, datetime):
        return aware(value).date().isoformat()
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


# ---- words ------------------------------------------------------------------


@lru_cache(maxsize=1024)
def date_label(value: str, lang: str) -> str:
    """Return a post's date as readers of lang write it ("9 Mar 2026", "9.3.2026")."""
    return format_date(parse_date(value), lang, "medium")


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


@lru_cache(maxsize=256)
def _strings(lang: str, site: str, more: int, sender: str) -> dict[str, str]:
    # %(name)s and %(score)s stay placeholders, filled per recipient and per link.
    fields = {"site": site, "sender": sender, "name": "%(name)s", "score": "%(score)s"}
    t = {key: gettext(lang, message) % fields for key, message in MESSAGES.items()}
    t["more"] = ngettext(
        lang,
        "One more new post is waiting on the site.",
        "%(num)d more new posts are waiting on the site.",
        more,
    ) % {"num": more}
    return t


# ---- rendering --------------------------------------------------------------


def make_env(theme_dir: str) -> jinja2.Environment:
    """Return the environment for the digest's templates (build it once).

    The theme's `templates/polku/email/` comes first, so a theme may override
    the plugin's templates.
    """
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(os.path.join(theme_dir, "templates")),
                jinja2.FileSystemLoader(TEMPLATES),
            ]
        ),
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
    own_page = links.preferences_url and _check_absolute(
        links.preferences_url, "preferences_url"
    )

    def content(url: str) -> str:
        return links.click_url(with_utm(absolute_url(site_url, url), day))

    items = []
    for post in order_for_reader(posts, recipient.get("interests") or {}):
        date_iso = str(post.get("date") or "")
        dated = post_date(post) is not None
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
                "label": t["feedback_score"].replace("%(score)s", str(n)),
            }
            for n in range(11)
        ]
    name = first_name(recipient.get("first_name"))
    if name:
        t["greeting"] = t["greeting_name"].replace("%(name)s", name)
    default_subject = gettext(lang, DEFAULT_SUBJECT)
    subject = settings.subject_for(site_name, day, len(posts) + more, default_subject)
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
        "preferences_url": own_page or "",
        "sender": sender,
        "footer_lines": [
            line.strip() for line in settings.footer.splitlines() if line.strip()
        ],
    }
    _add_filters(env)
    text, html = shapes.render(
        env,
        {TEMPLATE_TEXT: str, TEMPLATE_HTML: _inliner().inline},
        context,
        _with_slots,
        TEMPLATES,
    )
    return subject, text, html


def _with_slots(context: dict, slot: shapes.Slots) -> dict:
    """The context with each reader's own values (links, name) as slots: the
    rest is the email's shape, the same for many readers (digest_shapes)."""
    feedback = context["feedback"]
    return {
        **context,
        "subject": slot(context["subject"]),  # an A/B test's variants share shapes
        "t": {**context["t"], "greeting": slot(context["t"]["greeting"])},
        "site_href": slot(context["site_href"]),
        "posts": [{**post, "url": slot(post["url"])} for post in context["posts"]],
        "more_url": slot(context["more_url"]),
        "feedback": feedback and [{**i, "url": slot(i["url"])} for i in feedback],
        "referral_url": slot(context["referral_url"]),
        "unsubscribe_url": slot(context["unsubscribe_url"]),
        "preferences_url": slot(context["preferences_url"]),
    }
