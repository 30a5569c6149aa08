"""The next read: similar content, co-visitation, popularity, topics, never a
post already read."""

from __future__ import annotations

from tracker.journey import recommend as rec

from .next_records import MANIFEST

CAT = rec.Catalogue(MANIFEST)


def key(slug):
    return f"posts/{slug}"


def test_page_urls_and_manifest_urls_meet_on_one_key():
    assert rec.path_key("/posts/slow/index.html?utm_source=x#top") == "posts/slow"
    assert rec.path_key("posts/slow/") == "posts/slow"
    assert CAT.post("/posts/slow/").title == "Slow"


def test_the_most_similar_unread_post_comes_next():
    got = rec.next_read(CAT, key("slow"), read=set())
    assert got.key == key("images")


def test_a_post_already_read_or_the_current_one_is_never_recommended():
    read = {key("images")}
    for _ in range(3):
        got = rec.next_read(CAT, key("slow"), read)
        assert got.key not in read | {key("slow")}
        read.add(got.key)
    assert rec.next_read(CAT, key("slow"), {p.key for p in CAT.articles}) is None


def test_a_reader_of_two_posts_on_a_topic_gets_a_third_on_it():
    """contrast's nearest post is about speed, but the reader is engaged on
    accessibility: the next read stays on their topic."""
    got = rec.next_read(CAT, key("contrast"), read={key("labels")})
    assert got.key == key("alt-text")
    assert rec.engaged_topic(CAT, {key("labels"), key("contrast")}) == "accessibility"


def test_one_post_on_a_topic_is_no_engagement():
    assert rec.engaged_topic(CAT, {key("labels"), key("slow")}) is None


def test_co_visitation_counts_only_pairs_with_three_readers():
    readers = [{key("fonts"), key("labels")}] * 3 + [{key("fonts"), key("slow")}] * 2
    co = rec.covisits(readers)
    assert co[key("fonts")] == [(key("labels"), 3)]
    assert key("slow") not in co


def test_readers_of_x_read_y_when_content_says_nothing():
    readers = [{key("fonts"), key("contrast")}] * 4
    got = rec.next_read(CAT, key("fonts"), set(), co_read=rec.covisits(readers))
    assert got.key == key("contrast")


def test_popularity_is_the_fallback():
    popular = {key("labels"): 50, key("images"): 5}
    got = rec.next_read(CAT, "newsletter", set(), popular=popular)
    assert got.key == key("labels")
    assert rec.next_read(CAT, "newsletter", set()).key == key("fonts")  # newest


def test_reader_sets_come_from_pageviews_of_known_posts():
    events = [
        {"type": "pageview", "visitor": "a", "path": "/posts/slow/"},
        {"type": "pageview", "visitor": "a", "path": "/posts/fonts/?x=1"},
        {"type": "pageview", "visitor": "a", "path": "/about/"},
        {"type": "event", "visitor": "a", "path": "/posts/labels/"},
        {"type": "bot", "path": "/posts/labels/"},
    ]
    got = rec.reader_sets(events, set(CAT.posts))
    assert got == [{key("slow"), key("fonts")}]
    assert rec.popularity(got) == {key("slow"): 1, key("fonts"): 1}


def test_a_guide_belongs_to_the_topics_of_the_posts_that_offer_it():
    assert CAT.guide_for("accessibility") == "accessibility-guide"
    assert CAT.guide_for("speed") == "speed-guide"
    assert CAT.guide_for("speed", skip={"speed-guide"}) is None
    assert CAT.guide_for(None) is None


def test_the_default_next_read_is_the_builds_then_the_newest():
    assert CAT.default_next(key("slow")).key == key("images")
    assert CAT.default_next(key("fonts")).key == key("alt-text")
    assert CAT.default_next(None).key == key("fonts")


def test_a_broken_manifest_makes_an_empty_catalogue():
    empty = rec.Catalogue({"posts": [None, {"url": ""}, "x"], "guides": {"a": 1}})
    assert empty.posts == {} and empty.guides == {}
    assert rec.next_read(empty, "posts/x", set()) is None
