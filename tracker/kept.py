"""What the A/B reports keep between requests, per process and storage.

The dashboard's Experiments page counts exposures, goals and clicks among
millions of observations, and signups among a million people's decisions:
read afresh on every request, half a minute at 1M contacts on PostgreSQL.
Kept, a request reads only what may be new:

- observations of a few kinds: after the first read, those from LATE before
  the last one (the PostgreSQL shipper copies each server's journal about a
  second behind; other processes flush theirs within a second), the ids
  already kept skipped. All are read again every FRESH, or when asked from
  an earlier time or for other kinds: whatever came in later still than LATE
  counts within the hour, and the ids of erased people leave memory then;
- decisions of some types: until anyone's record changes (`people_version`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from . import clock

Record = dict[str, Any]
LATE = timedelta(minutes=5)
FRESH = timedelta(hours=1)


def covers(kept: str | None, since: str | None) -> bool:
    """Whether what was read from kept holds everything from since on."""
    return kept is None or (since is not None and since >= kept)


def identity(event: Record) -> Any:
    return event.get("id") or orjson.dumps(event, option=orjson.OPT_SORT_KEYS)


@dataclass
class Read:
    kinds: tuple
    since: str | None
    full_at: datetime
    read_at: datetime
    events: list[Record] = field(default_factory=list)
    recent: dict[Any, str] = field(default_factory=dict)  # id -> ts, re-readable


class Observations:
    """The observations of some types and event names since a time."""

    def __init__(self) -> None:
        self._kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def read(
        self,
        storage,
        since: str | None,
        types: Collection[str],
        names: Collection[str] = (),
    ) -> list[Record]:
        """storage.events_of(since, types, names), in the order first read."""
        kinds = (frozenset(types), frozenset(names))
        now = clock.now()
        with self._lock:
            kept = self._kept.get(storage)
            if (
                kept is None
                or kept.kinds != kinds
                or not covers(kept.since, since)
                or not kept.full_at <= now < kept.full_at + FRESH
                or now < kept.read_at
            ):
                kept = Read(kinds, since, now, now)
                self._add(kept, storage.events_of(since, types, names), now)
                self._kept[storage] = kept
            else:
                start = (kept.read_at - LATE).isoformat()
                if kept.since is not None and kept.since > start:
                    start = kept.since
                self._add(kept, storage.events_of(start, types, names), now)
            if since is None or since == kept.since:
                return list(kept.events)
            return [e for e in kept.events if e["ts"] >= since]

    @staticmethod
    def _add(kept: Read, events, now: datetime) -> None:
        """Keep the events not kept yet; remember the ids a next read may meet.

        Nothing is kept of a read that fails half-way: the next one repeats it.
        """
        before, new, added = kept.recent, {}, []
        for event in events:
            key = identity(event)
            if key not in before:
                added.append(event)
                new[key] = event["ts"]
        kept.events += added
        horizon = (now - LATE).isoformat()
        kept.recent = {k: ts for k, ts in (before | new).items() if ts >= horizon}
        kept.read_at = now


@dataclass
class Decided:
    types: frozenset
    since: str | None
    version: Any
    rows: list = field(default_factory=list)


class Decisions:
    """storage.decisions_of(types, since), read again once people changed."""

    def __init__(self) -> None:
        self._kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def read(
        self, storage, types: Collection[str], since: str | None = None
    ) -> list[tuple[str, list[str], Record]]:
        version, key = storage.people_version(), frozenset(types)
        with self._lock:
            kept = self._kept.get(storage)
            if (
                version is None
                or kept is None
                or (kept.types, kept.version) != (key, version)
                or not covers(kept.since, since)
            ):
                kept = Decided(
                    key, since, version, list(storage.decisions_of(types, since))
                )
                if version is not None:
                    self._kept[storage] = kept
        if since is None or since == kept.since:
            return kept.rows
        return [row for row in kept.rows if row[2]["ts"] >= since]
