"""`polku sequences run --send` as cron runs it: separate processes, two at
once, killed mid-send. Each (person, sequence, step, enrolment) goes out at
most once: never twice, whatever the timing."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from tracker.journey.sequences import StepSource, definition

from ..sites import child_environ
from .sequence_site import Site

START = datetime.fromisoformat("2026-06-01T07:00:00+00:00")  # 10:00 in Helsinki
PEOPLE = [f"reader{n}@example.com" for n in range(4)]


def daily(steps: int) -> dict:
    """A sequence of one short email a day."""
    sources = [
        StepSource(
            f"{n:02d}-day.md",
            {"subject": f"Day {n}", "delay": "0" if n == 0 else "1 day"},
            f"<p>Day {n}, {{{{ name }}}}.</p>",
            f"Day {n}, {{{{ name }}}}.\n",
        )
        for n in range(steps)
    ]
    return definition("daily", {"title": "Daily", "trigger": "signup"}, sources)


def spawn(site: Site, now: datetime) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker.cli",
            "sequences",
            "run",
            "--send",
            "--now",
            now.isoformat(),
        ],
        env={**child_environ(), **site.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def subjects(inbox, address: str) -> list[str]:
    return [m["Subject"] for m in inbox.to(address)]


ROUNDS = 20


def test_two_schedulers_started_together_send_each_step_once(
    tmp_path,
    app_factory,
    smtp,
    set_clock,
):
    inbox, port = smtp
    set_clock(START)
    site = Site(tmp_path, app_factory, port, sequences=[daily(ROUNDS)])
    first = spawn(site, START)  # the sequence begins taking people
    assert first.communicate(timeout=60) and first.returncode == 0
    for address in PEOPLE:
        site.subscriber(address)
    jitter = random.Random(20261206)
    for day in range(ROUNDS):
        moment = START + timedelta(days=day, minutes=5)
        one = spawn(site, moment)
        time.sleep(jitter.uniform(0, 0.3))
        two = spawn(site, moment + timedelta(seconds=jitter.uniform(0, 2)))
        for run in (one, two):
            out, _ = run.communicate(timeout=120)
            assert run.returncode == 0, out
        for address in PEOPLE:
            got = subjects(inbox, address)
            assert got == [f"Day {n}" for n in range(day + 1)], (day, address, got)


@pytest.mark.parametrize("kill", ["kill_at", "kill_after"])
def test_a_kill_between_claim_and_record_never_sends_a_second_copy(
    tmp_path,
    app_factory,
    smtp,
    set_clock,
    kill,
):
    """kill_at: killed while the second message was being handed over (claimed,
    not sent); kill_after: the server took it and the sender died before it
    heard so (sent, not recorded). Either way the rerun does not send it again,
    and a later pass reports it as unknown."""
    inbox, port = smtp
    set_clock(START)
    site = Site(tmp_path, app_factory, port, sequences=[daily(2)])
    begin = spawn(site, START)
    assert begin.communicate(timeout=60) and begin.returncode == 0
    for address in PEOPLE:
        site.subscriber(address)
    moment = START + timedelta(minutes=5)
    run = spawn(site, moment)
    setattr(inbox, kill, (2, run.pid))
    run.communicate(timeout=60)
    assert run.returncode == -9
    again = spawn(site, moment + timedelta(minutes=1))
    out, _ = again.communicate(timeout=60)
    assert again.returncode == 0, out
    counts = [len(inbox.to(a)) for a in PEOPLE]
    assert max(counts) == 1, counts
    assert sum(counts) == len(PEOPLE) - (1 if kill == "kill_at" else 0)
    later = spawn(site, moment + timedelta(minutes=30))
    out, _ = later.communicate(timeout=60)
    assert "Unknown: claimed but the answer was never recorded" in out
    assert max(len(inbox.to(a)) for a in PEOPLE) == 1
