"""The digest's selection: which posts go in, in what order for each reader, and
its settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tracker.journey.digest import (
    DigestError,
    DigestSettings,
    build_digest,
    order_for_reader,
    select_posts,
)

from .digest_posts import post

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


# ---- selection ---------------------------------------------------------------


def test_select_since_last_digest_newest_first():
    posts = [
        post("old", "2026-03-01T10:00:00"),
        post("at-cutoff", "2026-03-05T10:00:00"),
        post("newer", "2026-03-07T10:00:00"),
        post("newest", "2026-03-09T10:00:00"),
    ]
    chosen, more = select_posts(posts, "2026-03-05T10:00:00", NOW, DigestSettings())
    assert [p["url"] for p in chosen] == ["posts/newest/", "posts/newer/"]
    assert more == 0


def test_select_leaves_out_future_landing_draft_hidden_and_undated():
    posts = [
        post("tomorrow", "2026-03-11T09:00:00"),
        post("later-today", "2026-03-10T12:00:01"),
        post("now", "2026-03-10T12:00:00"),
        post("landing", "2026-03-09T10:00:00", kind="landing"),
        post("draft", "2026-03-09T10:00:00", status="draft"),
        post("hidden", "2026-03-09T10:00:00", status="hidden"),
        post("undated", None),
        post("garbled", "last tuesday"),
    ]
    chosen, more = select_posts(posts, None, NOW, DigestSettings())
    assert [p["url"] for p in chosen] == ["posts/now/"]
    assert more == 0


def test_first_digest_takes_the_last_first_days():
    posts = [
        post("too-old", "2026-02-28T12:00:00"),
        post("in-window", "2026-03-01T12:00:01"),
        post("recent", "2026-03-09T12:00:00"),
    ]
    chosen, _ = select_posts(posts, None, NOW, DigestSettings(first_days=9))
    assert [p["url"] for p in chosen] == ["posts/recent/", "posts/in-window/"]
    chosen, _ = select_posts(posts, None, NOW, DigestSettings(first_days=30))
    assert len(chosen) == 3


def test_max_posts_and_the_count_of_the_rest():
    posts = [post(f"p{i}", f"2026-03-0{i}T10:00:00") for i in range(1, 10)]
    chosen, more = select_posts(posts, None, NOW, DigestSettings(max_posts=3))
    assert [p["url"] for p in chosen] == ["posts/p9/", "posts/p8/", "posts/p7/"]
    assert more == 6


def test_naive_dates_are_utc_and_aware_dates_compare_correctly():
    helsinki = timezone(timedelta(hours=2))
    posts = [
        # 11:30 in Helsinki is 09:30 UTC: before the 10:00 UTC cut-off.
        post("aware-before", "2026-03-09T11:30:00+02:00"),
        # Naive: taken as 10:30 UTC, after the cut-off.
        post("naive-after", "2026-03-09T10:30:00"),
    ]
    since = "2026-03-09T12:00:00+02:00"
    chosen, _ = select_posts(posts, since, NOW, DigestSettings())
    assert [p["url"] for p in chosen] == ["posts/naive-after/"]
    # A naive `now` is UTC too; an aware one in another zone is the same moment.
    assert (
        select_posts(posts, since, NOW.replace(tzinfo=None), DigestSettings())[0]
        == chosen
    )
    assert (
        select_posts(posts, since, NOW.astimezone(helsinki), DigestSettings())[0]
        == chosen
    )


def test_nothing_new_is_empty_and_build_digest_says_none():
    posts = [post("old", "2026-01-01T10:00:00")]
    assert select_posts(posts, None, NOW, DigestSettings()) == ([], 0)
    assert build_digest(posts, None, NOW, DigestSettings()) is None
    digest = build_digest(
        [post("new", "2026-03-09T10:00:00")], None, NOW, DigestSettings()
    )
    assert digest.date == "2026-03-10" and digest.more == 0


def test_bad_since_names_the_problem():
    with pytest.raises(DigestError, match="not an ISO date"):
        select_posts([], "yesterday", NOW, DigestSettings())


# ---- settings ----------------------------------------------------------------


def test_settings_from_mapping_and_errors():
    conf = DigestSettings.from_mapping({"MAX_POSTS": 3, "lang": "fi_FI"})
    assert conf.max_posts == 3 and conf.lang == "fi"
    with pytest.raises(DigestError, match=r"DIGEST\['max_post'\]: unknown setting"):
        DigestSettings.from_mapping({"max_post": 3})
    with pytest.raises(DigestError, match=r"DIGEST\['lang'\].*en, fi"):
        DigestSettings(lang="sv")
    with pytest.raises(DigestError, match=r"DIGEST\['max_posts'\]"):
        DigestSettings(max_posts=0)
    with pytest.raises(DigestError, match=r"DIGEST\['subject'\].*\{site_name\}"):
        DigestSettings(subject="New from {site}")


# ---- ordering ----------------------------------------------------------------


def test_order_by_interests_then_newest():
    posts = [
        post("business-new", "2026-03-09T10:00:00", category="Business"),
        post("writing-old", "2026-03-01T10:00:00", category="Writing"),
        post("seo-tagged", "2026-03-02T10:00:00", category="Business", tags=["SEO"]),
        post("writing-new", "2026-03-05T10:00:00", category="Writing"),
    ]
    ordered = order_for_reader(posts, {"writing": 3, "seo": 2, "Business": 2})
    assert [p["url"] for p in ordered] == [
        "posts/seo-tagged/",  # Business 2 + SEO 2
        "posts/writing-new/",  # Writing 3, newer
        "posts/writing-old/",  # Writing 3
        "posts/business-new/",  # Business 2
    ]
    assert [p["url"] for p in order_for_reader(posts, {})] == [
        "posts/business-new/",
        "posts/writing-new/",
        "posts/seo-tagged/",
        "posts/writing-old/",
    ]
