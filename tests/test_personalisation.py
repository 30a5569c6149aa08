"""What personalisation adds: exposures when the block was seen, per arm, and
clicks, signups and downloads after them, with an always-valid interval."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tracker import clock, kept, personalisation
from tracker.db import get_storage
from tracker.journey import personalise

from .conftest import BROWSER_UA, SITE, TEST_MANIFEST, Reader
from .storage.test_backends import contact


def visitors(arm, count, share=0.1):
    found, n = [], 0
    while len(found) < count:
        visitor = f"reader-{n:06d}"
        if personalise.arm(visitor, share) == arm:
            found.append(visitor)
        n += 1
    return found


def store(app, visitor, name, minute=0, ts=None, **props):
    with app.app_context():
        get_storage().append_event(
            {
                "id": f"{name}-{visitor}-{minute}-{ts}",
                "ts": ts or f"2026-12-02T09:{minute:02d}:00+00:00",
                "type": "event",
                "name": name,
                "visitor": visitor,
                "path": "/posts/one/",
                "host": "kettu.example",
                "props": props,
            }
        )


def lift(app):
    with app.app_context():
        return personalisation.report(get_storage(), TEST_MANIFEST, "en")


@pytest.fixture
def app(app_factory, set_clock):
    set_clock("2026-12-04T10:00:00+00:00")
    return app_factory()


def test_each_arm_counts_the_readers_who_saw_the_block_and_clicked(app):
    held, own = visitors("holdout", 20), visitors("personal", 60)
    for i, visitor in enumerate(held + own):
        store(app, visitor, "personalisation", arm="claimed-anything")
        store(app, visitor, "personalisation", minute=5)  # seen twice: counts once
        if (visitor in held and i < 2) or (visitor in own and i % 2 == 0):
            store(app, visitor, "personalisation-click", minute=10, target="next")
    store(app, "never-seen-it", "personalisation-click", minute=10)
    found = lift(app)
    assert found["share"] == 0.1 and found["exposed"] == 160
    click = next(g for g in found["goals"] if g["goal"] == "click")
    holdout, personal = click["variants"]
    assert (holdout["name"], holdout["exposures"], holdout["conversions"]) == (
        "holdout",
        20,
        2,
    )
    assert (personal["exposures"], personal["conversions"]) == (60, 30)
    assert personal["rate"] == 0.5
    low, high = personal["interval"]
    assert low < 0.5 - 0.1 < high  # the lift of 40 points lies within its interval
    assert click["reason"]


def test_a_signup_counts_for_the_arm_of_the_browser_that_proved_it(app):
    """The reader's browser saw the block, then subscribed and confirmed with the
    same browser: their signup counts in their arm, the download goal not."""
    client = app.test_client()
    body = {
        "name": "personalisation",
        "url": f"{SITE}/posts/one/",
        "props": {"arm": "personal", "next": "/posts/two/", "cta": "newsletter"},
    }
    sent = client.post(
        "/api/event",
        data=json.dumps(body),
        content_type="text/plain",
        headers={"Origin": SITE, "User-Agent": BROWSER_UA},
    )
    assert sent.status_code == 202
    Reader(client, app).confirm()
    goals = {g["goal"]: g for g in lift(app)["goals"]}
    converted = {v["name"]: v["conversions"] for v in goals["signup"]["variants"]}
    assert sum(converted.values()) == 1
    assert sum(v["conversions"] for v in goals["download"]["variants"]) == 0


def test_without_a_holdout_there_is_nothing_to_compare(app):
    with app.app_context():
        found = personalisation.report(
            get_storage(), {**TEST_MANIFEST, "journey": {"holdout": 0}}, "en"
        )
    assert found["goals"] == []


def test_what_comes_after_a_report_counts_in_the_next_as_in_a_fresh_one(
    app, monkeypatch
):
    """The report keeps what it read; the next reads what came since, even
    what was stamped a moment before the last read (a shipper's batch)."""
    held, own = visitors("holdout", 10), visitors("personal", 30)
    for visitor in held + own:
        store(app, visitor, "personalisation")
    first = {g["goal"]: g for g in lift(app)["goals"]}
    assert first["click"]["variants"][1]["conversions"] == 0
    moment = (clock.now() - timedelta(seconds=2)).isoformat()
    for visitor in own[:15] + held[:1]:
        store(app, visitor, "personalisation-click", ts=moment)
    reader = contact("reader@example.com", visitors=[own[0], "elsewhere"])
    with app.app_context(), get_storage().transaction() as people:
        signup = {"id": "s1", "ts": clock.now_iso(), "type": "signup"}
        people.save(reader, {**signup, "contact": reader["id"]})
    again = lift(app)
    goals = {g["goal"]: g for g in again["goals"]}
    assert [v["conversions"] for v in goals["click"]["variants"]] == [1, 15]
    assert [v["conversions"] for v in goals["signup"]["variants"]] == [0, 1]
    monkeypatch.setattr(personalisation, "OBSERVED", kept.Observations())
    monkeypatch.setattr(personalisation, "DECIDED", kept.Decisions())
    assert lift(app) == again
