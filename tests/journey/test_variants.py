"""A/B tests reaching readers: which running tests a page shows and in which
variant, an email's subject for a contact, and the exposures the report believes."""

from __future__ import annotations

from collections import Counter

import pytest

from tracker.journey import experiments as ex
from tracker.journey import variants

DAY = "2026-12-05"


def defined(name="newsletter-cta", **meta):
    base = {
        "title": "A test",
        "kind": "cta",
        "target": "newsletter",
        "variants": ["control", "fixes: One fix for your website, twice a month"],
        "goal": "signup",
        "sample": "4000",
    }
    return ex.define(name, {**base, **meta})


def headline(slug="offer", **meta):
    found = defined(
        f"{slug}-headline",
        kind="headline",
        target=slug,
        variants=["control", "plain: A website you can run"],
        **meta,
    )
    return {**found, "page": f"{slug}/"}


def reader_in(experiment, variant, prefix="r"):
    return next(
        f"{prefix}{i}"
        for i in range(1000)
        if ex.assign(experiment, f"{prefix}{i}") == variant
    )


def test_a_page_gets_each_running_test_with_this_readers_variant():
    cta = defined()
    fixes, control = reader_in(cta, "fixes"), reader_in(cta, "control")
    assert variants.on_site([cta], "posts/one", fixes, DAY) == [
        {
            "mark": "newsletter",
            "text": "One fix for your website, twice a month",
            "exposure": {"experiment": "newsletter-cta", "variant": "fixes"},
        }
    ]
    # The control keeps the page's own text (the static HTML carries it).
    (shown,) = variants.on_site([cta], "posts/one", control, DAY)
    assert shown["text"] is None and shown["exposure"]["variant"] == "control"


def test_a_headline_is_on_its_landing_page_only_and_marked_with_its_slug():
    offer = headline()
    (shown,) = variants.on_site([offer], "offer", "r1", DAY)
    assert shown["mark"] == "headline:offer"
    assert variants.on_site([offer], "posts/one", "r1", DAY) == []


@pytest.mark.parametrize(
    "meta",
    [
        {"status": "draft"},
        {"status": "ended"},
        {"start": "2026-12-06"},
        {"start": "2026-11-01", "end": "2026-12-04"},
    ],
)
def test_a_test_not_running_today_shows_nothing(meta):
    assert variants.on_site([defined(**meta)], "posts/one", "r1", DAY) == []
    subject = defined(kind="digest-subject", target="", **meta)
    assert variants.for_contact([subject], "digest-subject", None, "c1", DAY) is None


def test_email_tests_never_reach_the_site_nor_site_tests_email():
    subject = defined("subject", kind="digest-subject", target="")
    assert variants.on_site([subject], "posts/one", "r1", DAY) == []
    assert variants.for_contact([defined()], "cta", "newsletter", "c1", DAY) is None


def test_a_contact_gets_the_subject_of_their_variant_the_same_every_time():
    step = defined(
        "welcome-subject",
        kind="step-subject",
        target="welcome/01-hello",
        variants=["control", "short: Hello from Kettu"],
    )
    contacts = [f"contact-{i}" for i in range(2000)]
    chosen = [
        variants.for_contact([step], "step-subject", "welcome/01-hello", c, DAY)
        for c in contacts
    ]
    assert chosen == [
        variants.for_contact([step], "step-subject", "welcome/01-hello", c, DAY)
        for c in contacts
    ]
    split = Counter(c["variant"] for c in chosen)
    assert split["short"] / len(contacts) == pytest.approx(0.5, abs=0.05)
    for found in chosen:
        assert found["experiment"] == "welcome-subject"
        assert found["text"] == (
            "Hello from Kettu" if found["variant"] == "short" else None
        )
    other = variants.for_contact([step], "step-subject", "welcome/02-x", "c", DAY)
    assert other is None


def exposure(reader, variant, ts="2026-12-05T10:00:00+00:00", **more):
    return {"type": "exposure", "ts": ts, "variant": variant, **reader, **more}


def test_an_exposure_counts_only_in_the_variant_the_tracker_assigns_its_reader():
    cta = defined()
    fixes, control = reader_in(cta, "fixes"), reader_in(cta, "control")
    believed = variants.believed(
        cta,
        [
            exposure({"visitor": fixes}, "fixes"),
            exposure({"visitor": control}, "fixes"),  # claims another variant
            exposure({"contact": "c1"}, "fixes"),  # an email's, not the site's
            exposure({}, "fixes"),  # no reader
        ],
    )
    assert believed == [
        {"ts": "2026-12-05T10:00:00+00:00", "visitor": fixes, "variant": "fixes"}
    ]


def test_an_email_tests_exposures_are_its_contacts_and_clicks_from_its_emails():
    subject = defined("subject", kind="digest-subject", target="", goal="click")
    one, two = reader_in(subject, "fixes", "c"), reader_in(subject, "control", "c")
    believed = variants.believed(
        subject,
        [
            exposure({"contact": one}, "fixes", send="digest-a"),
            exposure({"contact": two}, "control", send="digest-a"),
            exposure({"visitor": one}, "fixes"),  # the site's: not this test's
        ],
    )
    assert [(e["visitor"], e["variant"]) for e in believed] == [
        (one, "fixes"),
        (two, "control"),
    ]
    clicks = [
        (one, "digest-a", "2026-12-05T11:00:00+00:00"),
        (two, "digest-b", "2026-12-05T11:00:00+00:00"),  # another email's click
    ]
    assert variants.clicks(believed, clicks) == [(one, "2026-12-05T11:00:00+00:00")]


def test_a_click_goal_is_for_email_tests_only():
    subject = defined("subject", kind="digest-subject", target="", goal="click")
    assert subject["goal"] == "click"
    with pytest.raises(ex.ExperimentError, match="^Goal: click"):
        defined(goal="click")


def test_a_digest_subject_variant_may_use_the_subject_fields_only():
    found = defined(
        "subject",
        kind="digest-subject",
        target="",
        variants=["control", "count: {count} new posts from {site_name}"],
    )
    assert found["variants"][1]["text"] == "{count} new posts from {site_name}"
    with pytest.raises(ex.ExperimentError, match="^Variants: 'count'"):
        defined(
            "subject",
            kind="digest-subject",
            target="",
            variants=["control", "count: {posts} new"],
        )
