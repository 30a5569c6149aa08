"""One sequence email for one reader: the writer's Markdown, made a real list email.

The body the build rendered from Markdown is a small template: `{{ name }}`
(the reader's first name, or empty: write `{{ name or "there" }}`),
`{{ next_reads }}` (three posts chosen by the reader's interests, none they
have read) and `{{ recommend }}` (the 0-10 recommend-us question). It runs in
Jinja's sandbox with only those names, so a sequence file can do nothing but
fill them in. Links in it become absolute and are tracked as clicks; the
footer says why the reader gets it, links their preferences and offers to
stop this series or all mail. Each sequence is its own list (`List-Id`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin

from flask import current_app, render_template
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup
from werkzeug.routing import BuildError

from .. import mail
from ..journey import people
from ..journey.digest import order_for_reader
from ..journey.enrolment import Claim
from ..web import site as sitemeta
from ..web import tokens
from ..web.site import link
from . import variants
from .lists import list_headers

NEXT_READS = 3
_sandbox = SandboxedEnvironment(autoescape=True)
_text_sandbox = SandboxedEnvironment(autoescape=False)
_HREF = re.compile(r'href="([^"]*)"')
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


@dataclass(frozen=True)
class Reader:
    """What the email knows of its reader: the record, what they like and read."""

    contact: dict
    interests: dict[str, int]
    read: frozenset[str] = frozenset()


def _click(contact: dict, campaign: str):
    def wrap(url: str) -> str:
        absolute = urljoin(sitemeta.public_base() + "/", url)
        if not absolute.startswith(sitemeta.public_base()):
            return absolute  # another site's link: as the writer wrote it
        token = tokens.make("click", {"c": contact["id"], "u": absolute, "e": campaign})
        return link("forms.click", token=token)

    return wrap


def next_reads(reader: Reader) -> list[dict]:
    """Posts for this reader: their interests first, never one they have read."""
    posts = [
        p
        for p in sitemeta.manifest().get("posts", [])
        if p.get("kind", "article") == "article" and p.get("url") not in reader.read
    ]
    return order_for_reader(posts, reader.interests)[:NEXT_READS]


def _recommend_urls(contact: dict, ask: str) -> list[tuple[int, str]]:
    token = tokens.make("feedback", {"c": contact["id"], "k": ask})
    base = link("forms.feedback", token=token)
    return [(n, f"{base}?score={n}") for n in range(11)]


@functools.lru_cache(maxsize=256)
def _compiled(source: str, html: bool):
    """The writer's text as a template, compiled once, not once per reader;
    and the URLs of its own links, which each reader's email tracks (their
    place in the text becomes `{{ links[i] }}`, so the source stays one)."""
    urls: list[str] = []

    def slot(url: str) -> str:
        urls.append(url)
        return f"{{{{ links[{len(urls) - 1}] }}}}"

    if html:
        source = _HREF.sub(lambda m: f'href="{slot(m.group(1))}"', source)
    else:
        source = _MD_LINK.sub(lambda m: f"{m.group(1)} ({slot(m.group(2))})", source)
    return (_sandbox if html else _text_sandbox).from_string(source), tuple(urls)


def _fill(source: str, html: bool, values: dict, click) -> str:
    template, urls = _compiled(source, html)
    return template.render({**values, "links": [click(u) for u in urls]})


def _blocks(reader: Reader, claim: Claim, click) -> tuple[dict, dict]:
    """The placeholders' values, for the HTML part and for the text part."""
    contact = reader.contact
    name = people.clean_name(contact.get("first_name")) or ""
    posts = [
        {"title": p.get("title", ""), "url": click(p["url"])}
        for p in next_reads(reader)
    ]
    scores = _recommend_urls(contact, f"seq:{claim.key}")
    html_reads = Markup("<ul>%s</ul>") % Markup("").join(
        Markup('<li><a href="%s">%s</a></li>') % (p["url"], p["title"]) for p in posts
    )
    html_scores = Markup('<p class="scores">%s</p>') % Markup(" ").join(
        Markup('<a class="score" href="%s">%d</a>') % (url, n) for n, url in scores
    )
    text_reads = "\n".join(f"- {p['title']}\n  {p['url']}" for p in posts)
    text_scores = "\n".join(f"{n}: {url}" for n, url in scores)
    return (
        {"name": name, "next_reads": html_reads, "recommend": html_scores},
        {"name": name, "next_reads": text_reads, "recommend": text_scores},
    )


def render(
    reader: Reader, sequence: dict, claim: Claim
) -> tuple[str, str, str, dict[str, str]]:
    """(subject, text, html, links) of one step for one reader."""
    step = sequence["steps"][claim.index]
    campaign = claim.send
    click = _click(reader.contact, campaign)
    html_values, text_values = _blocks(reader, claim, click)
    # The writer's own links are tracked; the placeholders' links already are.
    body = _fill(step["html"], True, html_values, click)
    text = _fill(step["text"], False, text_values, click)
    contact = reader.contact
    links = {
        "unsubscribe": link(
            "forms.unsubscribe",
            token=tokens.make(
                "unsubscribe", {"c": contact["id"], "s": sequence["name"]}
            ),
        ),
        "preferences": preferences_url(contact),
    }
    site = sitemeta.manifest().get("site") or {}
    context = {
        "body": Markup(body),
        "text_body": text.strip(),
        "title": sequence["title"],
        "site_name": site.get("name") or "Polku",
        "site_url": sitemeta.public_base() + "/",
        "unsubscribe_url": links["unsubscribe"],
        "preferences_url": links["preferences"],
        "reader_lang": sequence.get("lang") or sitemeta.site_lang() or "en",
    }
    chosen = variants.step_subject(sequence["name"], step, contact["id"])  # A/B
    subject = _fill(chosen, False, text_values, click)
    return (
        " ".join(subject.split()),
        render_template("email/sequence.txt", **context),
        render_template("email/sequence.html", **context),
        links,
    )


def preferences_url(contact: dict) -> str | None:
    """The reader's own page, when the tracker has it."""
    if "preferences" not in tokens.PURPOSES:
        return None
    token = tokens.make("preferences", {"c": contact["id"]})
    try:
        return link("preferences.page", token=token)
    except BuildError:  # the page's blueprint is not registered
        return None


def message(reader: Reader, sequence: dict, claim: Claim) -> Message:
    """The real list email: multipart, CSS inlined, its own List-Id."""
    subject, text, html, links = render(reader, sequence, claim)
    headers = list_headers(links["unsubscribe"], list_name=f"{sequence['name']}")
    return mail.build(
        current_app.config,
        reader.contact["email"],
        subject,
        text,
        html,
        headers=headers,
        key=f"seq:{claim.key}",
        send=claim.send,
        contact=reader.contact["id"],
    )
