"""How many messages each send put in the mail server's hands, and its alerts.

A send is the `send` string every message carries (mail.build: the digest
run's id, a transactional kind such as "confirm", a sequence step): its
bounces and complaints, kept on the people's timelines, carry it too. Here,
one small document counts per send what only the moment of sending knows:
messages accepted (`sent`), recipients it gave up on at send time (`failed`:
refused, blocked by policy, soft-bounced after the last try), and the policy
blocks (5.7.x), the sender's problem, shown to the owner as an alert.
`journey.deliverability` turns the counts and the events into rates.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .. import clock
from ..journey import deliverability
from ..storage import Storage

KEY = "sends"
KEEP = 500  # sends kept; the oldest are dropped (a digest a week: ten years)


def _bump(storage: Storage, counts: dict[str, Counter], **extra: Any) -> None:
    """Add counts ({send: {field: n}}) to the document, in one update."""
    now = clock.now().isoformat(timespec="seconds")

    def change(old: dict | None) -> dict:
        sends = dict(old or {})
        for send, fields in counts.items():
            row = dict(sends.get(send) or {"first": now})
            for name, n in fields.items():
                row[name] = int(row.get(name) or 0) + n
            row.update(extra, last=now)
            sends[send] = row
        if len(sends) > KEEP:
            oldest = sorted(sends, key=lambda k: sends[k].get("last") or "")
            for key in oldest[: len(sends) - KEEP]:
                del sends[key]
        return sends

    storage.update_meta(KEY, change)


def sent(storage: Storage, send: str) -> None:
    """One message accepted by the mail server."""
    _bump(storage, {send: Counter(sent=1)})


class Batch:
    """The acceptances of a long send (a digest, a pass over the queue), written
    every EVERY messages and at the end instead of one update each: a durable
    update costs more than sending a message. A process killed mid-send loses
    at most the last EVERY - 1 of them (its rates then read a little high)."""

    EVERY = 50

    def __init__(self, storage: Storage) -> None:
        self.storage, self.waiting = storage, Counter()

    def sent(self, send: str) -> None:
        self.waiting[send] += 1
        if self.waiting.total() >= self.EVERY:
            self.flush()

    def flush(self) -> None:
        waiting, self.waiting = self.waiting, Counter()
        if waiting:
            _bump(self.storage, {send: Counter(sent=n) for send, n in waiting.items()})

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc) -> None:
        self.flush()


def failed(storage: Storage, send: str) -> None:
    """One recipient the send gave up on (refused for good, or after its last try)."""
    _bump(storage, {send: Counter(failed=1)})


def blocked(storage: Storage, send: str, status: str) -> None:
    """A policy block (5.7.x): nobody is suppressed; the owner is alerted."""
    at = clock.now().isoformat(timespec="seconds")
    _bump(
        storage, {send: Counter(blocked=1, failed=1)}, block=status[:300], block_at=at
    )


def read(storage: Storage) -> dict[str, dict]:
    """Every send's counts: {send: {sent, failed, blocked, block, first, last}}."""
    return dict(storage.get_meta(KEY) or {})


def reports(storage: Storage) -> list[dict]:
    """Every bounce and complaint kept on the people's timelines (their facts
    hold them: only the few people with one are read)."""
    return [
        event
        for found in storage.people_facts(having="reports")
        for event in found["reports"]
    ]


def per_send(
    storage: Storage, since: str | None = None, found: list[dict] | None = None
) -> list[deliverability.Row]:
    """Each send's counts, rates and warnings (`found`: the reports, if read)."""
    return deliverability.rows(
        read(storage), reports(storage) if found is None else found, since
    )
