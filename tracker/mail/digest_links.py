"""Each digest reader's own links, and what is the same for every reader.

A digest signs about nine links per reader; building each with url_for, and
reading the site and the list headers again per email, cost as much as
signing. Those are worked out once per run (send_digest starts afresh).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g
from pelican.plugins.polku import digest as content

from ..web import site as sitemeta
from ..web import tokens
from ..web.site import link
from .lists import list_headers

ONCE = "polku_digest_once"  # in flask.g
MARK = "polkudigestmark"


def links_for(contact: dict, campaign: str, ask: bool = False) -> content.Links:
    """The recipient's own signed links: clicks, unsubscribe, their own page,
    referral, feedback."""
    base = once("public_base", sitemeta.public_base)
    to_click = _route("forms.click")

    def click(url: str) -> str:
        return to_click(
            tokens.make("click", {"c": contact["id"], "u": url, "e": campaign})
        )

    unsubscribe = tokens.make("unsubscribe", {"c": contact["id"]})
    own_page = tokens.make("preferences", {"c": contact["id"]})
    referral = None
    if contact.get("ref_code"):
        referral = f"{base}/?ref={contact['ref_code']}"
    feedback = None
    if ask:
        question = tokens.make("feedback", {"c": contact["id"], "k": campaign})
        asked = _route("forms.feedback")(question)

        def feedback(score: int) -> str:
            return f"{asked}?score={score}"

    return content.Links(
        click_url=click,
        unsubscribe_url=_route("forms.unsubscribe")(unsubscribe),
        preferences_url=_route("preferences.page")(own_page),
        referral_url=referral,
        feedback_url=feedback,
        site_url=base + "/",
    )


def once(name: str, make: Callable[[], Any]) -> Any:
    """What is the same for every reader, worked out once per run (see
    send_digest): url_for, the manifest and the list headers cost tens of
    microseconds each, about twenty times an email."""
    made = g.setdefault(ONCE, {})
    if name not in made:
        made[name] = make()
    return made[name]


def _route(endpoint: str) -> Callable[[str], str]:
    """link(endpoint, token=token), built once: a token is URL-safe, so
    url_for puts it in the path as it is."""
    head, _, tail = once(endpoint, lambda: link(endpoint, token=MARK)).partition(MARK)
    return lambda token: f"{head}{token}{tail}"


def list_headers_for(unsubscribe_url: str) -> dict[str, str]:
    """list_headers(unsubscribe_url), worked out once for every reader."""
    shared = once("list_headers", lambda: list_headers(MARK))
    return {
        **shared,
        "List-Unsubscribe": shared["List-Unsubscribe"].replace(MARK, unsubscribe_url),
    }
