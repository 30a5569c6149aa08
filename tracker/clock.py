"""The one clock every part of Polku reads.

Time-dependent code (timestamps, today's salt, pruning, periods on the
dashboard, digests) asks this module, never `datetime.now()` itself, so that
tests can set the time and a suite run a year from now passes. The clock
ticks from the moment it is set: code that measures an interval still sees
time pass.

`POLKU_CLOCK` sets it for a whole process: an ISO 8601 moment, or a shift of
the real clock in days (`+365d`), which every process applies alike. It is
how tests set the clock for the servers and commands they start, and how the
suite runs a year ahead (`pytest --clock=+365d`); production leaves it unset.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

ENV = "POLKU_CLOCK"

# (the moment set, time.monotonic() when it was set); None: the real clock.
_set: tuple[datetime, float] | None = None


def parse(moment: str | datetime) -> datetime:
    """Return an aware UTC datetime for an ISO 8601 string or a datetime."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def set_now(moment: str | datetime | None) -> None:
    """Make the clock read moment from now on, ticking; None: the real clock."""
    global _set
    if isinstance(moment, str) and moment[:1] in "+-" and moment.endswith("d"):
        moment = datetime.now(UTC) + timedelta(days=float(moment[:-1]))
    _set = None if moment is None else (parse(moment), time.monotonic())


def reset() -> None:
    """Back to the process's own clock: the real one, or POLKU_CLOCK's."""
    set_now(os.environ.get(ENV) or None)


@contextmanager
def frozen_at(moment: str | datetime) -> Iterator[None]:
    """Run a block with the clock set to moment (ticking), then put it back."""
    global _set
    before = _set
    set_now(moment)
    try:
        yield
    finally:
        _set = before


def now() -> datetime:
    """The current moment, aware, in UTC."""
    if _set is None:
        return datetime.now(UTC)
    moment, at = _set
    return moment + timedelta(seconds=time.monotonic() - at)


def now_iso() -> str:
    """The current moment as stored in records: ISO 8601 with offset, UTC."""
    return now().isoformat()


def today() -> str:
    """Today's date in UTC, as `YYYY-MM-DD`."""
    return now().date().isoformat()


reset()
