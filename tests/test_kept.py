"""What the A/B reports keep between requests: the same observations and
decisions as a fresh read, having read only what may be new."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tracker import clock
from tracker.kept import FRESH, LATE, Decisions, Observations
from tracker.storage.base import StorageUnavailable

from .storage.test_backends import contact, event

NOW = "2026-12-04T10:00:00+00:00"


def at(delta: timedelta) -> str:
    return (clock.now() + delta).isoformat()


def exposure(ts, **fields):
    return event(ts, type="exposure", experiment="a", visitor="v", **fields)


def ids(found):
    return sorted(e["id"] for e in found)


def test_a_later_read_adds_what_came_since_even_a_little_late(storage, set_clock):
    set_clock(NOW)
    kept, since = Observations(), "2026-12-01"
    first = exposure(at(-timedelta(days=1)))
    storage.append_event(first)
    storage.append_event(event(at(-timedelta(hours=1))))  # a pageview: not asked
    assert ids(kept.read(storage, since, ("exposure",))) == [first["id"]]
    set_clock(at(timedelta(minutes=1)))
    later = exposure(at(-timedelta(seconds=1)))
    # Stamped before the last read, stored after it (the shipper's batch).
    late = exposure(at(-timedelta(minutes=1, seconds=30)))
    named = event(at(-LATE / 2), type="event", name="Booked a call", visitor="v")
    for e in (later, late, named):
        storage.append_event(e)
    found = kept.read(storage, since, ("exposure",))
    assert ids(found) == ids([first, later, late])  # each once
    assert ids(found) == ids(storage.events_of(since, ("exposure",)))
    # A later since is a part of what is kept; other kinds are read afresh.
    assert ids(kept.read(storage, at(-timedelta(hours=2)), ("exposure",))) == ids(
        [later, late]
    )
    assert ids(kept.read(storage, since, (), ("Booked a call",))) == [named["id"]]


def test_only_what_may_be_new_is_read_again(storage, set_clock, monkeypatch):
    set_clock(NOW)
    asked = []
    real = storage.events_of
    monkeypatch.setattr(
        storage, "events_of", lambda since, *a: asked.append(since) or real(since, *a)
    )
    kept, began = Observations(), clock.now()
    kept.read(storage, "2026-12-01", ("exposure",))
    ended = clock.now()
    set_clock(at(timedelta(minutes=10)))
    kept.read(storage, "2026-12-01", ("exposure",))
    assert asked[0] == "2026-12-01"
    assert (began - LATE).isoformat() <= asked[1] <= (ended - LATE).isoformat()
    set_clock(at(FRESH))  # every hour, everything again
    kept.read(storage, "2026-12-01", ("exposure",))
    assert asked[-1] == "2026-12-01"


def test_an_observation_later_than_late_counts_once_everything_is_read_again(
    storage, set_clock
):
    set_clock(NOW)
    kept = Observations()
    assert kept.read(storage, None, ("exposure",)) == []
    set_clock(at(timedelta(minutes=1)))
    very_late = exposure(at(-LATE * 2))
    storage.append_event(very_late)
    assert kept.read(storage, None, ("exposure",)) == []
    set_clock(at(FRESH))
    assert ids(kept.read(storage, None, ("exposure",))) == [very_late["id"]]


def test_decisions_are_read_again_once_someone_changed(storage, set_clock):
    set_clock(NOW)
    kept = Decisions()
    ann = contact("ann@example.com", visitors=["v1"])

    def decide(person, kind):
        with storage.transaction() as people:
            people.save(
                person,
                {
                    "id": kind,
                    "ts": clock.now_iso(),
                    "type": kind,
                    "contact": person["id"],
                },
            )

    decide(ann, "signup")
    (row,) = kept.read(storage, ("signup",), "2026-12-01")
    assert row[:2] == (ann["id"], ["v1"])
    assert kept.read(storage, ("signup",), "2026-12-01") == [row]
    ann["visitors"].append("v2")
    decide(ann, "download")
    assert kept.read(storage, ("signup",), "2026-12-01")[0][:2] == (
        ann["id"],
        ["v1", "v2"],
    )
    assert kept.read(storage, ("signup",), at(timedelta(seconds=1))) == []


def test_a_read_that_fails_half_way_keeps_nothing_of_it(storage, set_clock):
    set_clock(NOW)
    kept = Observations()
    kept.read(storage, None, ("exposure",))
    first, second = (
        exposure(at(timedelta(seconds=1))),
        exposure(at(timedelta(seconds=2))),
    )
    storage.append_event(first)
    storage.append_event(second)
    real = storage.events_of

    def broken(*args):
        yield next(iter(real(*args)))
        raise StorageUnavailable("the database went away")

    storage.events_of = broken
    with pytest.raises(StorageUnavailable):
        kept.read(storage, None, ("exposure",))
    del storage.events_of
    assert ids(kept.read(storage, None, ("exposure",))) == ids([first, second])
