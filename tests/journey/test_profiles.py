"""Profiles: what each contact read and when, from literal observations and no app."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from tracker.journey import stages
from tracker.journey.audiences import Audience, default_audiences
from tracker.journey.members import members
from tracker.journey.profiles import profiles

from .audience_records import MANIFEST, NOW, contact, event, ts, view


def test_profiles_via_visitor_ids_and_contact():
    people = [contact("ana"), contact("ben", visitors=["v-ben", "v-ben-phone"])]
    observations = [
        view("v-ana", "/posts/kahvi-1/", days=3),
        view("v-ana", "/posts/kahvi-1/?utm_source=x", days=2),  # same post again
        view("v-ana", "/posts/kahvi-2/index.html", days=1),
        view("ben", "/posts/tee-1", days=5, by="contact"),
        view("v-ben-phone", "/posts/kahvi-1/", days=4),
        view("v-ben-phone", "/about/", days=0.5),  # not a post: seen, not read
        {"ts": ts(0.2), "type": "click", "contact": "ben", "visitor": None},
        {"ts": ts(0.1), "type": "bot", "visitor": "v-ana", "path": "/posts/tee-1/"},
        view("v-stranger", "/posts/tee-1/"),
        view("erased-id", "/posts/tee-1/", by="contact"),
    ]
    found = profiles(observations, people, MANIFEST)
    assert set(found) == {"ana", "ben"}
    ana, ben = found["ana"], found["ben"]
    assert ana.posts == {"posts/kahvi-1/", "posts/kahvi-2/"}
    assert ana.categories == {"kahvi": 2}
    assert ana.tags == {"aamu": 1, "pavut": 2}
    assert ana.pageviews == 3
    assert ana.last_seen == NOW - timedelta(days=1)
    assert ben.posts == {"posts/tee-1/", "posts/kahvi-1/"}
    assert ben.categories == {"tee-yrtit": 1, "kahvi": 1}
    assert ben.pageviews == 3
    assert ben.clicks == 1
    assert ben.last_seen == NOW - timedelta(days=0.2)


def test_profiles_accept_a_generator_and_naive_timestamps():
    people = [contact("ana")]

    def stream():
        yield {"ts": "2026-11-22T12:00:00", "type": "pageview", "visitor": "v-ana",
               "path": "/posts/kahvi-1/"}  # fmt: skip
        yield {"ts": "not a time", "type": "pageview", "visitor": "v-ana"}

    found = profiles(stream(), people, MANIFEST)
    assert found["ana"].last_seen == NOW - timedelta(days=1)
    assert found["ana"].pageviews == 1


def test_observed_score_matches_lead_score():
    people = [contact("ana")]
    observations = [
        view("v-ana", "/posts/kahvi-1/", days=40),
        view("v-ana", "/posts/tee-1/", days=3),
        view("v-ana", "/posts/kahvi-2/", days=12),
        {"ts": ts(8), "type": "click", "contact": "ana", "visitor": None},
    ]
    found = profiles(observations, people, MANIFEST)
    expected = stages.lead_score(observations, NOW)
    assert round(found["ana"].observed_score(NOW)) == expected
    timeline = [event("ana", "confirm", days=10), event("ana", "download", days=2)]
    rows = members([Audience("all")], people, found, {"ana": timeline}, NOW)
    assert rows["all"][0]["score"] == stages.lead_score(observations + timeline, NOW)


# ---------------------------------------------------------------- scale


@pytest.mark.slow
def test_a_million_observations_in_a_few_seconds():
    people = [contact(f"c{i}") for i in range(100_000)]
    paths = [p["url"] for p in MANIFEST["posts"]] + ["about/"]
    observations = [
        view(f"v-c{i % 150_000}", "/" + paths[i // 150_000 % len(paths)], i % 200)
        for i in range(1_000_000)
    ]
    started = time.perf_counter()
    found = profiles(observations, people, MANIFEST)
    rows = members(default_audiences(MANIFEST), people, found, {}, NOW)
    elapsed = time.perf_counter() - started
    assert len(found) == 100_000
    assert len(rows["interest-kahvi"]) == 100_000
    assert elapsed < 15, elapsed
