"""When an automated email may go: delays on the site's calendar, the send
window, and the per-person daily cap.

Pure: times in, a time out. A delay in minutes or hours is elapsed time; a
delay in days or weeks is calendar time in the site's time zone: "1 day"
after 10:00 is 10:00 the next day, also across a daylight-saving change (23 or
25 hours later). A wall-clock time that does not exist (the spring-forward
gap) moves to the first valid time after it; an ambiguous one (the autumn
repeat) is its first occurrence, so it is one moment and is sent once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTE, HOUR, DAY, WEEK = "minutes", "hours", "days", "weeks"

# English and Finnish unit words (singular, plural, partitive, short forms).
UNITS = {
    MINUTE: ("minute", "minutes", "min", "mins", "minuutti", "minuuttia"),
    HOUR: ("hour", "hours", "h", "hr", "hrs", "tunti", "tuntia", "t"),
    DAY: ("day", "days", "d", "päivä", "päivää", "pv", "vrk"),
    WEEK: ("week", "weeks", "w", "wk", "viikko", "viikkoa", "vk"),
}
_UNIT_OF = {word: unit for unit, words in UNITS.items() for word in words}
_PART = re.compile(r"(\d{1,4})\s*([^\W\d_]+)")
_JOIN = re.compile(r"\b(?:and|ja)\b|[\s,+]")


class DelayError(ValueError):
    """A delay, window or time zone the writer gave cannot be read."""


@dataclass(frozen=True)
class Delay:
    """Calendar days plus elapsed minutes (a week is seven calendar days)."""

    days: int = 0
    minutes: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"days": self.days, "minutes": self.minutes}

    @classmethod
    def of(cls, data: dict) -> Delay:
        return cls(int(data.get("days", 0)), int(data.get("minutes", 0)))


def parse_delay(text: object) -> Delay:
    """Read `0`, `2 hours`, `3 days`, `1 week 2 days`, `3 päivää`, ..."""
    raw = " ".join(str(text if text is not None else "").split()).casefold()
    if raw in {"0", "now", "heti", "nyt"}:
        return Delay()
    parts = _PART.findall(raw)
    if not parts or _JOIN.sub("", _PART.sub("", raw)):
        raise DelayError(
            f"cannot read the delay {text!r}: write a number and a unit, "
            "such as `0`, `2 hours`, `3 days` or `1 week`"
        )
    days = minutes = 0
    for number, word in parts:
        unit = _UNIT_OF.get(word)
        if unit is None:
            raise DelayError(
                f"unknown unit {word!r} in the delay {text!r}: use minutes, "
                "hours, days or weeks (minuuttia, tuntia, päivää, viikkoa)"
            )
        n = int(number)
        days += {DAY: n, WEEK: 7 * n}.get(unit, 0)
        minutes += {MINUTE: n, HOUR: 60 * n}.get(unit, 0)
    return Delay(days, minutes)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError, OSError):
        raise DelayError(f"unknown time zone {name!r} (TIMEZONE)") from None


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant a wall clock in tz shows `at` on `day` (gap: the first after)."""
    naive = datetime.combine(day, at)
    for _ in range(24 * 60 + 1):
        first = naive.replace(tzinfo=tz, fold=0)
        if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
            return first.astimezone(UTC)
        naive += timedelta(minutes=1)  # inside a spring-forward gap
    raise DelayError(f"no valid time on {day} in {tz}")  # pragma: no cover


def after(base: datetime, delay: Delay, tz: ZoneInfo) -> datetime:
    """The moment `delay` after `base`: calendar days in tz, then elapsed minutes."""
    moment = base.astimezone(UTC)
    if delay.days:
        local = moment.astimezone(tz)
        day = local.date() + timedelta(days=delay.days)
        moment = local_moment(day, local.time().replace(tzinfo=None), tz)
    return moment + timedelta(minutes=delay.minutes)


@dataclass(frozen=True)
class Window:
    """The local hours automated mail may go out: [start, end)."""

    start: time = time(8, 0)
    end: time = time(20, 0)

    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*$")


def parse_window(text: object) -> Window:
    """Read `08:00-20:00` (the end after the start, on one day)."""
    found = _WINDOW.match(str(text or ""))
    try:
        if not found:
            raise ValueError
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        window = Window(time(h1, m1), time(h2, m2) if h2 < 24 else time.max)
    except ValueError:
        raise DelayError(
            f"cannot read the send window {text!r}: write it as `08:00-20:00`"
        ) from None
    if window.end <= window.start:
        raise DelayError(f"the send window {text!r} ends before it starts")
    return window


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def next_slot(
    moment: datetime,
    tz: ZoneInfo,
    window: Window,
    used: Iterable[datetime] = (),
    per_day: int = 1,
) -> datetime:
    """The first moment at or after `moment` inside the window on a local day
    with fewer than `per_day` of the person's automated emails (`used`)."""
    counts: dict[date, int] = {}
    for sent in used:
        counts[local_day(sent, tz)] = counts.get(local_day(sent, tz), 0) + 1
    moment = moment.astimezone(UTC)
    for _ in range(400):
        local = moment.astimezone(tz)
        day, clock_time = local.date(), local.time().replace(tzinfo=None)
        if counts.get(day, 0) < max(per_day, 1) and clock_time < window.end:
            opens = local_moment(day, window.start, tz)
            return max(moment, opens)
        moment = local_moment(day + timedelta(days=1), window.start, tz)
    raise DelayError("no send slot within 400 days")  # pragma: no cover
