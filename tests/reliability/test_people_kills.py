"""Acknowledged signups survive kill -9 while the people journal is compacted.

The tracker under gunicorn (4 sync workers) takes signups, each from a new
address, while it compacts the people journal by itself (a tiny
POLKU_PEOPLE_COMPACT_MB) and a separate process runs the compaction of
`polku db compact` over and over. Server and compactor are killed with
SIGKILL at random moments and started again. Afterwards every acknowledged
signup is a contact with its signup decision, in a new process with and
without the snapshot, once, and a last compaction leaves nothing behind.
The printed seed replays the kill moments (`RELIABILITY_SEED=<seed>`).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from tracker.storage.tinydb_store import TinyDBStorage

from ..conftest import BROWSER_UA, ROOT, SITE, bare_environ
from .harness import HOST, Server
from .test_crash import data_dir_for, sleep_until

COMPACTOR = """
import sys, time
from tracker.storage.base import StorageError
from tracker.storage.tinydb_store import TinyDBStorage
while True:
    storage = TinyDBStorage(sys.argv[1])
    try:
        storage.compact_people()
    except StorageError:
        pass  # another compacts, or an erasure came in between
    storage.close()
    time.sleep(0.05)
"""


class Compactor:
    """`polku db compact` run over and over in a process of its own."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir, self.proc = data_dir, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", COMPACTOR, str(self.data_dir)],
            cwd=ROOT,
            env=bare_environ(),
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None


class Signups:
    """Threads posting signups, each from a new address; what each got."""

    def __init__(self, port: int, threads: int) -> None:
        self.port, self.stop = port, threading.Event()
        self.answers: dict[str, int | str] = {}
        self.threads = [
            threading.Thread(target=self.run, args=(n,), daemon=True)
            for n in range(threads)
        ]

    def run(self, n: int) -> None:
        headers = {
            "Origin": SITE,
            "User-Agent": BROWSER_UA,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        seq = 0
        while not self.stop.is_set():
            email, seq = f"s{n}-{seq}@example.com", seq + 1
            form = {
                "email": email,
                "consent_newsletter": "yes",
                "consent_version": "v1",
                "form": "article-signup",
                "source": "/posts/one/",
            }
            conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
            try:
                conn.request("POST", "/subscribe", urlencode(form), headers)
                self.answers[email] = conn.getresponse().status
            except (OSError, http.client.HTTPException) as e:
                self.answers[email] = type(e).__name__
                self.stop.wait(0.02)
            finally:
                conn.close()

    def __enter__(self) -> Signups:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=20)


def test_kill_nine_while_compacting_loses_no_signup(tmp_path, request, capsys):
    slow = request.config.getoption("--slow")
    duration, kills = (60.0, 8) if slow else (15.0, 3)
    seed = int(os.environ.get("RELIABILITY_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    data_dir = data_dir_for(tmp_path)
    server = Server(
        data_dir,
        tmp_path / "gunicorn.log",
        workers=4,
        env={"POLKU_PEOPLE_COMPACT_MB": "0.02"},  # 20 KB: every few signups
    )
    compactor = Compactor(data_dir)
    try:
        server.start()
        compactor.start()
        with Signups(server.port, threads=4) as load:
            began = time.monotonic()
            slot = duration / (kills + 1)
            for i in range(kills):
                moment = began + slot * (i + 1) + rng.uniform(-0.4, 0.4) * slot
                sleep_until(max(moment, time.monotonic() + 0.5))
                server.kill()
                compactor.kill()
                server.start()
                compactor.start()
            sleep_until(max(began + duration, time.monotonic() + 1.0))
        server.stop()
        compactor.kill()
    finally:
        server.kill()
        compactor.kill()

    answers = load.answers
    acknowledged = {e for e, status in answers.items() if status == 303}
    statuses = {s for s in answers.values() if isinstance(s, int)}
    assert statuses <= {303}, Counter(answers.values())  # else only broken connections
    storage = TinyDBStorage(str(data_dir))
    generation = storage.people.generation()
    stored = [c["email"] for c in storage.iter_contacts()]
    before = {c["email"]: c for c in storage.iter_contacts()}
    missing = sorted(acknowledged - set(stored))
    assert not missing, f"{len(missing)} acknowledged signups lost: {missing[:5]}"
    assert len(stored) == len(set(stored)), "an address stored twice"
    assert set(stored) <= set(answers), "stored an address never sent"
    for email in sorted(acknowledged)[:: max(1, len(acknowledged) // 50)]:
        person = storage.find_contact(email)
        assert [e["type"] for e in storage.decisions(person["id"])] == ["signup"]
    storage.compact_people()
    journal = data_dir / "journal"
    left = [
        n
        for n in ("people.compact", "people.new", "people.old")
        if (journal / n).exists()
    ]
    assert not left and not (journal / "people.rewriting").exists(), left
    (data_dir / "people.json").unlink(missing_ok=True)
    fresh = TinyDBStorage(str(data_dir))
    assert {c["email"]: c for c in fresh.iter_contacts()} == before
    storage.close(), fresh.close()
    with capsys.disabled():
        print(
            f"\n[kill -9 while compacting] signups sent={len(answers)} "
            f"acknowledged={len(acknowledged)} stored={len(stored)} kills={kills} "
            f"compactions={generation} seed={seed} "
            f"answers={json.dumps(Counter(map(str, answers.values())))}"
        )
