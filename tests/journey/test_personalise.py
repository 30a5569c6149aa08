"""The personalised block: the call to action by stage, the holdout, the answer."""

from __future__ import annotations

from collections import Counter

import pytest

from tracker.journey import personalise as pz
from tracker.journey import recommend as rec

from .next_records import MANIFEST

CAT = rec.Catalogue(MANIFEST)
PAGES = MANIFEST["journey"]["block_pages"]


def cta(reader=pz.ANONYMOUS, topic=None, pages=PAGES):
    return pz.choose_cta(CAT, reader, topic, pages)


def test_a_visitor_is_asked_to_subscribe():
    assert cta() == {"kind": "newsletter", "url": "newsletter/", "title": "Newsletter"}


def test_a_reader_engaged_on_a_topic_gets_its_guide():
    got = cta(topic="speed")
    assert got["kind"] == "guide" and got["guide"] == "speed-guide"
    assert got["url"] == "guide-speed/"


def test_a_guide_already_downloaded_is_not_offered_again():
    reader = pz.Known(stage="lead", downloaded=frozenset({"speed-guide"}))
    got = cta(reader, "speed", pages={"newsletter": PAGES["newsletter"]})
    assert got["kind"] == "newsletter"


def test_a_subscriber_is_never_asked_to_subscribe():
    reader = pz.Known(stage="lead", subscribed=True)
    assert cta(reader, pages={"newsletter": PAGES["newsletter"]}) is None


def test_a_lead_gets_the_offer():
    got = cta(pz.Known(stage="lead", subscribed=True), topic="speed")
    assert got == {"kind": "offer", "url": "check-up/", "title": "Book a check-up"}


def test_a_customer_gets_the_recommend_us_question_then_their_referral_link():
    customer = pz.Known(stage="customer", subscribed=True, ref_code="abc123")
    pages = {**PAGES, "feedback": {"url": "feedback/", "title": "How did we do?"}}
    assert cta(customer, pages=pages)["kind"] == "feedback"
    answered = pz.Known(stage="customer", ref_code="abc123", gave_feedback=True)
    assert cta(answered, pages=pages) == {"kind": "referral", "url": "/?ref=abc123"}


def test_what_the_record_says_about_a_contact():
    contact = {
        "status": "confirmed",
        "consent": {"newsletter": {"ts": "2026-11-01T00:00:00Z"}},
        "customer_at": "2026-11-02T00:00:00Z",
        "ref_code": "r1",
    }
    decisions = [{"type": "download", "guide": "speed-guide", "ts": "x"}]
    got = pz.known(contact, decisions)
    assert got.stage == "customer" and got.subscribed
    assert got.downloaded == {"speed-guide"} and got.ref_code == "r1"
    withdrawn = {**contact, "consent": {"newsletter": {"withdrawn_at": "x"}}}
    assert not pz.known(withdrawn, []).subscribed


def test_the_holdout_is_sticky_and_about_its_share():
    readers = [f"visitor-{i:05d}" for i in range(20000)]
    arms = Counter(pz.arm(r, 0.1) for r in readers)
    assert arms[pz.HOLDOUT] / len(readers) == pytest.approx(0.1, abs=0.01)
    assert [pz.arm(r, 0.1) for r in readers[:50]] == [
        pz.arm(r, 0.1) for r in readers[:50]
    ]
    assert {pz.arm(r, 0) for r in readers[:200]} == {pz.PERSONAL}


def test_the_holdout_is_independent_of_the_ab_tests():
    """A reader's arm says nothing about their variant in any A/B test."""
    from tracker.journey import experiments

    test = {
        "name": "newsletter-cta",
        "variants": [{"name": "a", "weight": 0.5}, {"name": "b", "weight": 0.5}],
    }
    readers = [f"r{i}" for i in range(20000)]
    held = [r for r in readers if pz.arm(r, 0.5) == pz.HOLDOUT]
    share_b = Counter(experiments.assign(test, r) for r in held)["b"] / len(held)
    assert share_b == pytest.approx(0.5, abs=0.02)


def answer(arm, read=(), current="posts/contrast", reader=pz.ANONYMOUS):
    return pz.block(
        CAT,
        MANIFEST,
        current=current,
        read={f"posts/{s}" for s in read},
        reader=reader,
        arm_name=arm,
    )


def test_the_personal_answer_fits_the_reader():
    got = answer(pz.PERSONAL, read=["labels"])
    assert got["arm"] == "personal" and got["topic"] == "accessibility"
    assert got["next"] == {"url": "posts/alt-text/", "title": "Alt Text"}
    assert got["cta"]["kind"] == "guide"
    assert got["cta"]["guide"] == "accessibility-guide"
    assert "would" not in got


def test_the_holdout_gets_the_default_and_what_it_would_have_been_shown():
    got = answer(pz.HOLDOUT, read=["labels"])
    assert got["arm"] == "holdout"
    assert got["next"] == {"url": "posts/fonts/", "title": "Fonts"}  # newest
    assert got["cta"] == MANIFEST["journey"]["block_cta"]
    assert got["would"]["next"]["url"] == "posts/alt-text/"
    assert got["would"]["cta"]["guide"] == "accessibility-guide"


def test_a_reader_who_read_everything_still_gets_a_whole_block():
    everything = [p.key.split("/")[1] for p in CAT.articles]
    got = answer(pz.PERSONAL, read=everything)
    assert got["next"] == {"url": "posts/fonts/", "title": "Fonts"}
    assert got["cta"]["kind"] == "guide"


def test_a_post_whose_writer_said_cta_none_gets_no_call_to_action():
    manifest = {
        **MANIFEST,
        "posts": [*MANIFEST["posts"], {"url": "posts/quiet/", "kind": "article"}],
    }
    for arm in pz.ARMS:
        got = pz.block(
            rec.Catalogue(manifest),
            manifest,
            current="posts/quiet",
            read=set(),
            reader=pz.ANONYMOUS,
            arm_name=arm,
        )
        assert got["cta"] is None and got["next"]


def test_no_call_to_action_links_the_page_it_is_on():
    got = answer(pz.PERSONAL, current="newsletter")
    assert got["cta"] is None
