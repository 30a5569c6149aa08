"""Bounce and complaint rates per send, and when they call for a warning.

Pure: counts and events in, rows out. A send is the `send` string every
message and every report about it carries (a digest run, a transactional
kind such as "confirm", a sequence step "seq:<name>:<step>"). Its counts come
from the moment of sending (mail.sends: `sent` accepted, `failed` given up
at send time, `blocked` by policy); its bounces and complaints from the
people's timelines, each person counted once per send and kind.

Gmail and Yahoo ask bulk senders to keep spam complaints under 0.3 % and
advise under 0.1 %; a hard bounce rate over 2 % marks a list that is not
kept clean. A send passing either limit gets a warning.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

COMPLAINT_LIMIT = 0.001  # 0.1 % of the messages delivered
HARD_LIMIT = 0.02  # 2 % of the recipients addressed
COMPLAINTS, HARD_BOUNCES = "complaints", "hard_bounces"


def kind_of(send: str) -> str:
    """What kind of mail a send is: digest, sequence, or the transactional kind."""
    if send.startswith("digest-"):
        return "digest"
    if send.startswith("seq:"):
        return "sequence"
    return send


@dataclass
class Row:
    send: str
    kind: str
    sent: int = 0  # accepted by the mail server
    failed: int = 0  # given up at send time (refused, blocked, soft after the last try)
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    blocked: int = 0
    block: str | None = None  # the last policy block's words
    block_at: str | None = None
    first: str | None = None
    last: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def addressed(self) -> int:
        """The recipients the send tried to reach, each once."""
        return self.sent + self.failed

    def rate(self, count: int, of: int) -> float | None:
        return count / of if of else None

    @property
    def hard_rate(self) -> float | None:
        return self.rate(self.hard, self.addressed)

    @property
    def soft_rate(self) -> float | None:
        return self.rate(self.soft, self.addressed)

    @property
    def complaint_rate(self) -> float | None:
        return self.rate(self.complaints, self.sent)


def tally(events: Iterable[Mapping]) -> dict[str, dict[str, set[str] | str]]:
    """Who bounced (hard, soft) or complained per send, and the send's latest.

    Each person counts once per send and kind however many reports came.
    """
    found: dict[str, dict] = defaultdict(
        lambda: {"hard": set(), "soft": set(), "complaints": set(), "last": ""}
    )
    for event in events:
        kind = event.get("type")
        send = event.get("send")
        if kind not in ("bounce", "complaint") or not isinstance(send, str):
            continue
        key = "complaints" if kind == "complaint" else event.get("kind")
        if key not in ("hard", "soft", "complaints"):
            continue
        entry = found[send]
        entry[key].add(str(event.get("contact") or event.get("id")))
        entry["last"] = max(entry["last"], str(event.get("ts") or ""))
    return dict(found)


def warnings_of(row: Row) -> list[str]:
    """The limits this send passed."""
    passed = []
    if row.complaint_rate is not None and row.complaint_rate > COMPLAINT_LIMIT:
        passed.append(COMPLAINTS)
    if row.hard_rate is not None and row.hard_rate > HARD_LIMIT:
        passed.append(HARD_BOUNCES)
    return passed


def rows(
    counts: Mapping[str, Mapping], events: Iterable[Mapping], since: str | None = None
) -> list[Row]:
    """Every send with its counts, rates and warnings, the latest first.

    since: only sends with something (a message, a bounce) at or after it.
    """
    tallied = tally(events)
    out = []
    for send in set(counts) | set(tallied):
        counted = counts.get(send) or {}
        seen = tallied.get(send) or {}
        row = Row(
            send=send,
            kind=kind_of(send),
            sent=int(counted.get("sent") or 0),
            failed=int(counted.get("failed") or 0),
            hard=len(seen.get("hard") or ()),
            soft=len(seen.get("soft") or ()),
            complaints=len(seen.get("complaints") or ()),
            blocked=int(counted.get("blocked") or 0),
            block=counted.get("block"),
            block_at=counted.get("block_at"),
            first=counted.get("first"),
            last=max(str(counted.get("last") or ""), seen.get("last") or "") or None,
        )
        row.warnings = warnings_of(row)
        if since is None or (row.last or "") >= since:
            out.append(row)
    return sorted(out, key=lambda r: (r.last or "", r.send), reverse=True)


def alerts(found: Iterable[Row]) -> list[Row]:
    """The sends the owner should look at: a limit passed, or a policy block."""
    return [r for r in found if r.warnings or r.blocked]
