"""The personalised block of a page: the next read and the call to action for
one reader, or the site's default for the holdout.

The call to action follows the reader's stage: a visitor is asked to
subscribe; a reader engaged on a topic gets that topic's guide; a lead the
offer; a customer the recommend-us question and their referral link. What a
reader already did (subscribed, downloaded that guide) is never asked again.
A share of readers (the holdout) keeps the default block, chosen by the same
sticky hash as the A/B tests, so the dashboard can show what personalisation
adds. Pure: the catalogue, what is known of the reader and plain settings in,
the answer out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import experiments, recommend, stages
from .suppression import is_suppressed

PERSONAL, HOLDOUT = "personal", "holdout"
ARMS = (HOLDOUT, PERSONAL)  # the holdout is the control
EXPERIMENT = "personalisation"  # the hash's name: independent of every A/B test
DEFAULT_HOLDOUT = 0.1
KINDS = ("newsletter", "guide", "offer", "referral", "feedback")


def holdout_test(share: float) -> dict[str, Any]:
    """The holdout as an experiment the A/B tests' assignment understands."""
    return {
        "name": EXPERIMENT,
        "variants": [
            {"name": HOLDOUT, "weight": share},
            {"name": PERSONAL, "weight": 1 - share},
        ],
    }


def arm(reader: str, share: float = DEFAULT_HOLDOUT) -> str:
    """personal or holdout: the same for this reader on every page and process."""
    if share <= 0:
        return PERSONAL
    return experiments.assign(holdout_test(share), reader)


@dataclass(frozen=True)
class Known:
    """What the record says about an identified reader."""

    stage: str = "visitor"
    subscribed: bool = False
    downloaded: frozenset[str] = field(default_factory=frozenset)
    ref_code: str | None = None
    gave_feedback: bool = False


ANONYMOUS = Known()


def known(contact: Mapping, decisions: list[Mapping]) -> Known:
    """What the block needs of a contact: their stage and what they already did."""
    consent = (contact.get("consent") or {}).get("newsletter") or {}
    subscribed = (
        contact.get("status") == "confirmed"
        and bool(consent)
        and not consent.get("withdrawn_at")
        and not is_suppressed(contact)
    )
    return Known(
        stage=stages.contact_stage(dict(contact), list(decisions)),
        subscribed=subscribed,
        downloaded=frozenset(
            str(d.get("guide")) for d in decisions if d.get("type") == "download"
        ),
        ref_code=contact.get("ref_code") or None,
        gave_feedback=bool(contact.get("feedback"))
        or any(d.get("type") == "feedback" for d in decisions),
    )


def choose_cta(
    catalogue: recommend.Catalogue,
    reader: Known,
    topic: str | None,
    pages: Mapping[str, Any],
) -> dict[str, Any] | None:
    """The call to action that fits the reader's stage, or None (the default).

    pages: the kinds' links the build names ({"newsletter": {"url", "title"},
    "offer": ..., "feedback": ...}); a kind whose page is missing is skipped.
    """
    stage = reader.stage
    chain: list[str] = []
    if stage in ("customer", "advocate"):
        chain += ["feedback", "referral", "offer"]
    elif stage == "lead":
        chain += ["offer"]
    chain += ["guide", "newsletter"]
    for kind in chain:
        if kind == "feedback" and not reader.gave_feedback and pages.get(kind):
            return {"kind": kind, **_link(pages[kind])}
        if kind == "referral" and reader.ref_code:
            return {"kind": kind, "url": "/?ref=" + reader.ref_code}
        if kind == "offer" and pages.get(kind):
            return {"kind": kind, **_link(pages[kind])}
        if kind == "guide":
            slug = catalogue.guide_for(topic, skip=reader.downloaded)
            if slug:
                guide = catalogue.guides[slug]
                return {"kind": kind, "guide": slug, **_link(guide)}
        if kind == "newsletter" and not reader.subscribed and pages.get(kind):
            return {"kind": kind, **_link(pages[kind])}
    return None


def _link(page: Mapping) -> dict[str, str]:
    return {"url": str(page.get("url") or ""), "title": str(page.get("title") or "")}


def default_cta(manifest: Mapping) -> dict[str, Any] | None:
    """The block's call to action in the static HTML (the site's default)."""
    chosen = (manifest.get("journey") or {}).get("block_cta")
    return dict(chosen) if isinstance(chosen, Mapping) else None


def post_link(post: recommend.Post | None) -> dict[str, str] | None:
    return {"url": post.url, "title": post.title} if post else None


def block(
    catalogue: recommend.Catalogue,
    manifest: Mapping,
    *,
    current: str | None,
    read: Iterable[str],
    reader: Known,
    arm_name: str,
    co_read: Mapping[str, list] | None = None,
    popular: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The answer of GET /api/next: next, cta, arm; the holdout's answer is the
    default block and says under `would` what it would have been shown."""
    read = set(read)
    pages = (manifest.get("journey") or {}).get("block_pages") or {}
    default = {
        "next": post_link(catalogue.default_next(current)),
        "cta": default_cta(manifest),
    }
    seen = read | ({current} if current else set())
    topic = recommend.engaged_topic(catalogue, seen, current)
    chosen = choose_cta(catalogue, reader, topic, pages)
    personal = {
        "next": post_link(
            recommend.next_read(catalogue, current, read, co_read, popular)
        ),
        "cta": chosen or default["cta"],
    }
    if personal["next"] is None:  # every post read: the default still shows one
        personal["next"] = default["next"]
    here = catalogue.posts.get(current or "")
    for chosen_block in (default, personal):
        cta = chosen_block["cta"]
        # Never a link to this very page; nothing where the writer said `Cta: none`.
        if cta and (
            recommend.path_key(cta.get("url") or "") == current or here and here.quiet
        ):
            chosen_block["cta"] = None
    answer = dict(default if arm_name == HOLDOUT else personal)
    answer.update(arm=arm_name, topic=topic)
    if arm_name == HOLDOUT:
        answer["would"] = personal
    return answer
