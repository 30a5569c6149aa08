"""Acknowledged means stored: kill -9 under load, two servers, a read-only disk.

The real tracker runs under gunicorn with sync workers on the embedded TinyDB
backend (the kills on PostgreSQL too, with its journal shipper). A load
generator posts beacons, each with a unique marker in its title, and
remembers which ones got a 202. Afterwards the journal on disk (or the
database) is read line by line: every acknowledged marker must be there,
exactly once.

The default run takes well under a minute; `--slow` kills ten times over a
minute of load and aims at 500 events a second. The kill moments are random;
the printed seed replays them (`RELIABILITY_SEED=<seed>`).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter

import pytest

from ..conftest import write_manifest
from .harness import (
    Load,
    Server,
    Shipper,
    check_data_opens,
    check_stored_once,
    get,
    healthy,
    read_database,
    read_journal,
    report,
    running,
)


def data_dir_for(tmp_path):
    data_dir = tmp_path / "var"
    write_manifest(data_dir)
    return data_dir


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


@pytest.mark.parametrize("backend", ["tinydb", "postgres"])
def test_kill_nine_under_load_loses_nothing_acknowledged(
    tmp_path, request, capsys, backend
):
    """On PostgreSQL the server's shipper threads die with it, and a process
    that only ships is killed at other random moments: every acknowledged
    pageview is in the database once, after the last graceful stop."""
    slow = request.config.getoption("--slow")
    duration, kills, threads = (60.0, 10, 16) if slow else (12.0, 3, 8)
    seed = int(os.environ.get("RELIABILITY_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    data_dir = data_dir_for(tmp_path)
    url = request.getfixturevalue("pg_url") if backend == "postgres" else ""
    env = {"POLKU_DATABASE_URL": url} if url else {}
    server = Server(data_dir, tmp_path / "gunicorn.log", workers=4, env=env)
    shipper = Shipper(data_dir, url) if url else None
    load = Load([server.port], threads=threads, max_seconds=duration + 120)
    load.phase = "life-0"
    with running(load, server):
        began = time.monotonic()
        slot = duration / (kills + 1)
        for i in range(kills):
            if shipper:
                shipper.start()
            # a random moment in the i-th slot, with the server up for a while first
            moment = began + slot * (i + 1) + rng.uniform(-0.4, 0.4) * slot
            if shipper:  # the shipper dies at another moment of the slot
                sleep_until(moment - rng.uniform(0.1, 0.4) * slot)
                shipper.kill()
            sleep_until(max(moment, time.monotonic() + 0.3))
            server.kill()
            load.phase = f"down-{i + 1}"
            server.start()
            load.phase = f"life-{i + 1}"
        sleep_until(max(began + duration, time.monotonic() + 1.0))
        stats = load.stop()

    assert not stats.crashes, stats.crashes
    statuses = stats.statuses()
    answers = {s for s in statuses if isinstance(s, int)}
    assert answers <= {202}, f"answers other than 202: {statuses}"
    last_life = f"life-{kills}"
    assert any(o.status == 202 and o.sent_in == last_life for o in stats.outcomes), (
        "no event was acknowledged after the last restart"
    )

    journal = read_journal(data_dir)
    more = {}
    if url:
        left = read_journal(data_dir, "pg-events")
        assert not left.damaged, left.damaged[:5]
        more = {"torn_lines": left.torn, "journal_files_left": left.files}
        journal = read_database(url)
    else:
        more = {"torn_lines": journal.torn, "journal_files": journal.files}
    stored = check_stored_once(stats, journal)
    check_data_opens(data_dir, len(journal.events), url=url)
    report(
        capsys,
        f"kill -9 under load ({backend})",
        stats,
        stored,
        stored_unacknowledged=len(set(stored) - stats.acknowledged),
        kills=kills,
        restarts=server.starts - 1,
        shipper_kills=shipper.starts if shipper else 0,
        events_per_s=f"{stats.rate():.0f}",
        seconds=f"{stats.elapsed:.1f}",
        workers=server.workers,
        threads=threads,
        **more,
        errors=sum(n for s, n in statuses.items() if not isinstance(s, int)),
        seed=seed,
    )


def test_two_servers_on_one_data_dir(tmp_path, request, capsys):
    seconds = 20.0 if request.config.getoption("--slow") else 4.0
    data_dir = data_dir_for(tmp_path)
    one = Server(data_dir, tmp_path / "one.log", workers=2)
    two = Server(data_dir, tmp_path / "two.log", workers=2)
    load = Load([one.port, two.port], threads=8, max_seconds=seconds + 60)
    with running(load, one, two):
        time.sleep(seconds)
        stats = load.stop()

    assert not stats.crashes, stats.crashes
    assert stats.statuses() == {202: len(stats.outcomes)}, stats.statuses()
    journal = read_journal(data_dir)
    assert journal.torn == 0, "a clean stop left a half-written line"
    stored = check_stored_once(stats, journal)
    assert set(stored) == stats.acknowledged
    writers = {p.name for p in (data_dir / "journal" / "events").glob("*/*.jsonl")}
    assert len(writers) >= 2, writers
    # One reader, one IP, one browser, one day: one visitor id, whichever
    # process answered (both must use the same daily salt).
    days: dict[str, set] = {}
    for e in journal.events:
        days.setdefault(e["ts"][:10], set()).add(e.get("visitor"))
    assert all(len(v) == 1 for v in days.values()), days
    check_data_opens(data_dir, len(journal.events))
    report(
        capsys,
        "two servers, one data dir",
        stats,
        stored,
        events_per_s=f"{stats.rate():.0f}",
        journal_files=len(writers),
    )


def is_json_503(body: bytes | None) -> bool:
    try:
        answer = json.loads(body or b"")
    except ValueError:
        return False
    return (
        isinstance(answer, dict)
        and answer.get("ok") is False
        and isinstance(answer.get("error"), str)
        and answer["error"].strip() != ""
    )


def test_read_only_data_dir_mid_load_gives_503_then_recovers(tmp_path, capsys):
    from ..conftest import read_only

    data_dir = data_dir_for(tmp_path)
    server = Server(data_dir, tmp_path / "gunicorn.log", workers=2)
    load = Load([server.port], threads=6, max_seconds=60)
    health_while_read_only = []
    load.phase = "before"
    with running(load, server):
        time.sleep(1.5)
        load.phase = "switching"
        with read_only(data_dir):
            load.phase = "read-only"
            for _ in range(8):
                time.sleep(0.25)
                health_while_read_only.append(healthy(server.port))
            load.phase = "restoring"
        load.phase = "after"
        time.sleep(2.0)
        stats = load.stop()
        assert server.alive(), "gunicorn died"
        health_after = get(server.port, "/healthz")[0]

    assert not stats.crashes, stats.crashes
    statuses = stats.statuses()
    assert set(statuses) <= {202, 503}, (
        f"only 202 and 503 are acceptable answers (no 500, no dropped "
        f"connection): {statuses}\n{server.log_tail()}"
    )
    refused = [o for o in stats.outcomes if o.status == 503]
    bad_bodies = [o.body for o in refused if not is_json_503(o.body)]
    assert not bad_bodies, f"503 without a JSON error: {bad_bodies[:3]}"

    during = [o for o in stats.outcomes if o.sent_in == o.answered_in == "read-only"]
    assert during, "no beacon was sent while the data dir was read-only"
    assert {o.status for o in during} == {503}, Counter(o.status for o in during)
    assert all(health_while_read_only), health_while_read_only
    assert health_after == 200

    after = [o for o in stats.outcomes if o.sent_in == "after"]
    assert after and {o.status for o in after} == {202}, Counter(
        o.status for o in after
    )
    assert any(o.status == 202 for o in stats.outcomes if o.sent_in == "before")

    journal = read_journal(data_dir)
    stored = check_stored_once(stats, journal)
    refused_but_stored = {o.marker for o in refused} & set(stored)
    assert not refused_but_stored, (
        f"refused with 503 yet stored (a retry would duplicate them): "
        f"{sorted(refused_but_stored)[:10]}"
    )
    log = server.log_text()
    assert "Traceback" not in log, server.log_tail(80)
    assert server.booted_workers() == server.workers, "a worker crashed or restarted"
    check_data_opens(data_dir, len(journal.events))
    report(
        capsys,
        "read-only data dir",
        stats,
        stored,
        answered_503=len(refused),
        answered_503_while_read_only=len(during),
        acknowledged_after_restore=len(after),
    )
