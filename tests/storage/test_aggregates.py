"""The embedded backend's aggregates, held and written a month at a time."""

from __future__ import annotations

import json
import os
import random

import pytest

from tracker.journey.counters import Stats
from tracker.storage.aggregates import MonthlyAggregates
from tracker.storage.tinydb_store import TinyDBStorage

from .test_backends import event

NOW = "2026-12-10T12:00:00+00:00"
MONTHS = ("2026-09", "2026-10", "2026-11", "2026-12")


@pytest.fixture(autouse=True)
def _now(set_clock):
    set_clock(NOW)


def traffic(count=120, seed=1):
    """Pageviews over four months, by a few visitors, in no particular order."""
    rng = random.Random(seed)
    found = []
    for n in range(count):
        month = rng.choice(MONTHS)
        day = rng.randint(1, 9 if month == "2026-12" else 28)
        at = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        found.append(
            event(
                f"{month}-{day:02d}T{at}:00+00:00",
                visitor=f"v{rng.randint(0, 15)}",
                path=rng.choice(["/", "/a/", "/b/"]),
                referrer=rng.choice(["", "https://www.google.com/"]),
                seq=n,
            )
        )
    return found


def folded_at_once(events, since=None, until=None):
    """What one fold of every event gives: the reference."""
    stats = Stats()
    for e in sorted(events, key=lambda e: e["seq"]):
        stats.add(e)
    stats.close_before("2026-12-09")
    return stats.summary(since, until)


def stored(path, events) -> TinyDBStorage:
    """A storage that appended events and folded every month (left open)."""
    storage = TinyDBStorage(str(path))
    for e in events:
        storage.append_event(e)
    storage.summary()
    return storage


def held_months(storage: TinyDBStorage) -> set[str]:
    return {day[:7] for day in storage.aggregates.stats.days}


def test_snapshot_spares_a_new_process_the_journal(tmp_path):
    first = TinyDBStorage(str(tmp_path))
    for n in range(5):
        first.append_event(event(visitor=f"v{n}", path=f"/p{n}/"))
    assert first.summary()["pageviews"] == 5
    first.close()  # writes the month's snapshot
    assert (tmp_path / "aggregates" / "2026-11.json").is_file()
    second = TinyDBStorage(str(tmp_path))
    second.append_event(event(visitor="v9"))
    summary = second.summary()
    assert summary["pageviews"] == 6 and summary["visitors"] == 6
    second.close()


def test_a_period_holds_only_its_months_and_counts_as_one_fold(tmp_path):
    events = traffic()
    stored(tmp_path, events).close()

    reader = TinyDBStorage(str(tmp_path))
    recent = reader.summary("2026-11-10", "2026-12-10")
    assert held_months(reader) == {"2026-11", "2026-12"}
    assert recent == folded_at_once(events, "2026-11-10", "2026-12-10")
    assert reader.summary("2026-09-01", "2026-09-30") == folded_at_once(
        events, "2026-09-01", "2026-09-30"
    )
    assert held_months(reader) == {"2026-09", "2026-11", "2026-12"}
    assert reader.summary() == folded_at_once(events)
    reader.close()


def test_a_late_event_for_a_month_not_held_counts_when_it_is(tmp_path):
    events = traffic(60)
    storage = TinyDBStorage(str(tmp_path))
    for e in events:
        storage.append_event(e)
    storage.summary("2026-12-01", "2026-12-10")
    storage.close()
    late = event("2026-10-03T08:00:00+00:00", visitor="late", path="/late/", seq=999)
    other = TinyDBStorage(str(tmp_path))  # another server's journal file
    other.append_event(late)
    other.summary("2026-12-01", "2026-12-10")
    other.close()

    again = TinyDBStorage(str(tmp_path))
    assert again.summary() == folded_at_once([*events, late])
    again.close()


def counted(summary):
    """What does not depend on the order events are folded in: each event once."""
    return (
        summary["pageviews"],
        [(d["day"], d["pageviews"]) for d in summary["days"]],
        sorted((p["path"], p["views"]) for p in summary["pages"]),
    )


def test_months_written_by_several_processes_count_each_event_once(tmp_path):
    events = traffic(200, seed=2)
    servers = [TinyDBStorage(str(tmp_path)) for _ in range(3)]
    for n, e in enumerate(events):
        server = servers[n % 3]
        server.append_event(e)
        if n % 17 == 0:  # each folds and writes what it holds, at its own pace
            server.summary(f"{e['ts'][:7]}-01", "2026-12-10")
            server.aggregates.save()
    for server in servers:
        server.close()
    fresh = TinyDBStorage(str(tmp_path))
    assert counted(fresh.summary()) == counted(folded_at_once(events))
    fresh.close()


def test_months_nobody_asks_about_are_let_go(tmp_path, monkeypatch):
    monkeypatch.setattr(MonthlyAggregates, "UNASKED", 2)
    events = traffic()
    storage = stored(tmp_path, events)
    assert held_months(storage) == set(MONTHS)
    for _ in range(3):
        storage.summary("2026-12-01", "2026-12-10")
    assert held_months(storage) == {"2026-12"}
    assert storage.summary() == folded_at_once(events)  # read again from its file
    storage.close()


def test_an_unreadable_month_is_folded_again_from_the_journal(tmp_path):
    events = traffic()
    stored(tmp_path, events).close()
    (tmp_path / "aggregates" / "2026-10.json").write_bytes(b'{"days": {')
    fresh = TinyDBStorage(str(tmp_path))
    assert fresh.summary() == folded_at_once(events)
    fresh.close()


def test_the_one_file_snapshot_of_before_is_split_into_months(tmp_path):
    """aggregates.json (a table per month and the offsets, as written before
    2026-12) is read once, written a file per month, and removed."""
    events = traffic()
    storage = stored(tmp_path, events)
    held = storage.aggregates
    tables = {}
    for day, data in sorted(held.stats.to_json().items()):
        docs = tables.setdefault(day[:7], {})
        docs[str(len(docs) + 1)] = {"day": day, "data": data}
    tables["state"] = {"1": {"offsets": held.offsets, "saved": NOW}}
    storage.close()
    for name in os.listdir(tmp_path / "aggregates"):
        os.unlink(tmp_path / "aggregates" / name)
    (tmp_path / "aggregates.json").write_text(json.dumps(tables))
    journal = tmp_path / "journal" / "events"
    (journal / "2026-09").rename(tmp_path / "away")  # proof it is not refolded

    fresh = TinyDBStorage(str(tmp_path))
    assert fresh.summary() == folded_at_once(events)
    assert not (tmp_path / "aggregates.json").exists()
    assert sorted(os.listdir(tmp_path / "aggregates")) == [f"{m}.json" for m in MONTHS]
    october = json.loads((tmp_path / "aggregates" / "2026-10.json").read_text())
    assert all("rollup" in day for day in october["days"].values())  # closed days
    fresh.close()
