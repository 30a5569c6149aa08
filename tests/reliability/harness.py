"""Run the real tracker under gunicorn, load it with beacons, read back its journal.

- `Server`: one gunicorn instance in its own process group (start, kill -9, stop).
- `Load`: threads posting beacons, each with a unique marker in its `title`,
  recording what the server answered for every marker.
- `running(load, *servers)`: start the servers, then the load; stop them after.
- `report`: the figures of a run, printed past pytest's capture.
- `read_journal`: every complete line of the events journal, parsed;
  `read_database`: the same from a PostgreSQL database.

Nothing here retries a beacon: a marker is sent at most once, so a marker
stored twice is a duplicate made by the server.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..conftest import BROWSER_UA, ROOT, SITE, free_port, without_developer_settings

HOST = "127.0.0.1"


def get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """GET path from 127.0.0.1:port; return (status, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def healthy(port: int) -> bool:
    try:
        return get(port, "/healthz", timeout=1.0)[0] == 200
    except (OSError, http.client.HTTPException):
        return False


class Server:
    """The tracker under gunicorn (sync workers), in a process group of its own."""

    def __init__(
        self,
        data_dir: Path,
        log_path: Path,
        workers: int = 4,
        port: int | None = None,
        site: str = SITE,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir, self.log_path, self.workers = data_dir, log_path, workers
        self.port = port or free_port()
        self.env = without_developer_settings(os.environ)
        self.env.update(
            POLKU_DATA_DIR=str(data_dir),
            POLKU_SITE_URL=site,
            POLKU_SECRET_KEY="reliability-test-secret-key-0123456789",
            POLKU_RATELIMIT_ENABLED="false",
            **(env or {}),
        )
        self.proc: subprocess.Popen | None = None
        self._log = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Start gunicorn and wait until /healthz answers."""
        assert self.proc is None, "already running"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(self.workers),
                "-b",
                f"{HOST}:{self.port}",
                "--graceful-timeout",
                "10",
                "tracker:create_app()",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while not healthy(self.port):
            if self.proc.poll() is not None:
                self._reap()
                raise AssertionError(f"gunicorn exited early:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError(f"gunicorn did not come up:\n{self.log_tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a crash would."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)
        self._reap()

    def stop(self, timeout: float = 20.0) -> None:
        """Stop gracefully (SIGTERM to the group); SIGKILL if that takes too long."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        except ProcessLookupError:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        self._reap()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _reap(self) -> None:
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def booted_workers(self) -> int:
        """How many worker processes gunicorn has booted (restarts included)."""
        return self.log_text().count("Booting worker")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass(frozen=True)
class Outcome:
    """What happened to one beacon: an HTTP status, or the name of an error."""

    marker: str
    status: int | str
    sent_in: str  # the load's phase when it was sent
    answered_in: str  # the load's phase when the answer (or error) came
    body: bytes | None = None  # kept for answers other than 202


@dataclass
class Stats:
    outcomes: list[Outcome] = field(default_factory=list)
    elapsed: float = 0.0
    crashes: list[BaseException] = field(default_factory=list)

    @property
    def sent(self) -> set[str]:
        """Markers whose request may have reached a server (refused ones did not)."""
        return {o.marker for o in self.outcomes if o.status != "ConnectionRefusedError"}

    @property
    def acknowledged(self) -> set[str]:
        return {o.marker for o in self.outcomes if o.status == 202}

    def statuses(self) -> Counter:
        return Counter(o.status for o in self.outcomes)

    def rate(self) -> float:
        return len(self.acknowledged) / self.elapsed if self.elapsed else 0.0


def beacon(marker: str, site: str = SITE) -> bytes:
    return json.dumps(
        {
            "url": f"{site}/posts/one/?n={marker[2:]}",
            "referrer": "https://search.example/?q=kettu",
            "title": marker,
            "width": 1280,
        }
    ).encode()


class Load:
    """Threads posting beacons to one or more ports, round robin by thread.

    Each thread keeps its own HTTPConnection (keep-alive when the server allows
    it), opens a new one after any error and never resends a beacon. `phase`
    is a label the test sets; every outcome records it at send and at answer.
    """

    def __init__(
        self,
        ports: list[int],
        threads: int = 8,
        site: str = SITE,
        max_seconds: float = 300.0,
        max_per_thread: int = 1_000_000,
        timeout: float = 10.0,
    ) -> None:
        self.ports, self.site, self.timeout = ports, site, timeout
        self.max_seconds, self.max_per_thread = max_seconds, max_per_thread
        self.phase = "start"
        self._stop = threading.Event()
        self._results: list[list[Outcome]] = [[] for _ in range(threads)]
        self._crashes: list[BaseException] = []
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"load-{i}", daemon=True)
            for i in range(threads)
        ]
        self._started = 0.0
        self.headers = {
            "Content-Type": "text/plain;charset=UTF-8",
            "Origin": site,
            "User-Agent": BROWSER_UA,
            "Accept": "*/*",
        }

    def start(self) -> Load:
        self._started = time.monotonic()
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> Stats:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=self.timeout + 10)
        assert not any(t.is_alive() for t in self._threads), "load threads hang"
        outcomes = [o for results in self._results for o in results]
        return Stats(outcomes, time.monotonic() - self._started, self._crashes)

    def __enter__(self) -> Load:
        return self.start()

    def __exit__(self, *exc) -> None:
        if not self._stop.is_set():
            self.stop()

    def _run(self, index: int) -> None:
        port = self.ports[index % len(self.ports)]
        results = self._results[index]
        deadline = self._started + self.max_seconds
        conn: http.client.HTTPConnection | None = None
        try:
            for seq in range(self.max_per_thread):
                if self._stop.is_set() or time.monotonic() > deadline:
                    break
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, port, timeout=self.timeout)
                marker = f"m-{index}-{seq}"
                phase = self.phase
                try:
                    conn.request(
                        "POST", "/api/event", beacon(marker, self.site), self.headers
                    )
                    response = conn.getresponse()
                    body = response.read()
                except (OSError, http.client.HTTPException) as e:
                    results.append(Outcome(marker, type(e).__name__, phase, self.phase))
                    conn.close()
                    conn = None
                    self._stop.wait(0.02)  # the server is down: do not spin
                    continue
                status = response.status
                if status == 202 and json.loads(body).get("ok") is not True:
                    status = -202  # a 202 that does not say ok: never an ack
                results.append(
                    Outcome(
                        marker,
                        status,
                        phase,
                        self.phase,
                        None if status == 202 else body,
                    )
                )
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self._crashes.append(e)
        finally:
            if conn is not None:
                conn.close()


@contextlib.contextmanager
def running(load: Load, *servers: Server) -> Iterator[None]:
    """Start the servers, then the load; the block stops the load.

    Afterwards the servers stop gracefully, or on an error the load stops and
    the servers are killed.
    """
    try:
        for server in servers:
            server.start()
        load.start()
        yield
        for server in servers:
            server.stop()
    finally:
        load.__exit__()
        for server in servers:
            server.kill()


def report(capsys, title: str, stats: Stats, stored: Counter, **more) -> None:
    """Print what was sent, acknowledged and stored, then more, past the capture."""
    counts = {
        "sent": len(stats.sent),
        "acknowledged": len(stats.acknowledged),
        "stored": len(stored),
        **more,
    }
    with capsys.disabled():
        print(f"\n[{title}] " + " ".join(f"{k}={v}" for k, v in counts.items()))


@dataclass
class Journal:
    events: list[dict]
    torn: int  # files whose last line has no newline (a write cut by a kill)
    damaged: list[str]  # complete lines that are not JSON: never acceptable
    files: int

    def markers(self) -> Counter:
        return Counter(
            e["title"]
            for e in self.events
            if isinstance(e.get("title"), str) and e["title"].startswith("m-")
        )


def read_journal(data_dir: Path, folder: str = "events") -> Journal:
    """Parse every complete line under <data dir>/journal/<folder>/<month>/*.jsonl
    (`pg-events`: what the PostgreSQL backend has not shipped, or not deleted)."""
    events, damaged, torn = [], [], 0
    paths = sorted((data_dir / "journal" / folder).glob("*/*.jsonl"))
    for path in paths:
        *lines, tail = path.read_bytes().split(b"\n")
        torn += bool(tail)
        for number, line in enumerate(lines, 1):
            try:
                events.append(json.loads(line))
            except ValueError:
                damaged.append(f"{path.name}:{number}: {line[:120]!r}")
    return Journal(events, torn, damaged, len(paths))


def check_stored_once(stats: Stats, journal: Journal) -> Counter:
    """Assert every acknowledged marker is stored exactly once; return the counts."""
    stored = journal.markers()
    missing = sorted(stats.acknowledged - set(stored))
    twice = sorted(m for m, n in stored.items() if n > 1)
    unknown = sorted(set(stored) - stats.sent)
    assert not journal.damaged, f"damaged journal lines: {journal.damaged[:5]}"
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {missing[:10]}"
    assert not twice, f"{len(twice)} events stored more than once, e.g. {twice[:10]}"
    assert not unknown, f"stored markers never sent: {unknown[:10]}"
    return stored


def read_database(url: str) -> Journal:
    """Every event stored in a PostgreSQL database, as read_journal gives them."""
    from tracker.storage import open_storage

    storage = open_storage({"DATABASE_URL": url, "DATA_DIR": ""})
    try:
        return Journal(list(storage.iter_events()), 0, [], 0)
    finally:
        storage.close()


class Shipper:
    """A process of the server that only ships its journal into PostgreSQL,
    in a tight loop (so that a kill often lands inside a transaction), as any
    tracker process's shipper thread does every half second."""

    CODE = """
import sys, time
from tracker.storage import open_storage
storage = open_storage(
    {"DATABASE_URL": sys.argv[1], "DATA_DIR": sys.argv[2], "SHIP_INTERVAL": 1}
)
while True:
    storage.shipper.ship()
    time.sleep(0.005)
"""

    def __init__(self, data_dir: Path, url: str) -> None:
        self.data_dir, self.url = data_dir, url
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.CODE, self.url, str(self.data_dir)],
            cwd=ROOT,
            env=without_developer_settings(os.environ),
        )
        self.starts += 1

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


def check_data_opens(data_dir: Path, expected_events: int, url: str = "") -> None:
    """The database opens after the crash: events iterate, a transaction commits."""
    from tracker.storage import open_storage

    storage = open_storage({"DATABASE_URL": url, "DATA_DIR": str(data_dir)})
    try:
        assert sum(1 for _ in storage.iter_events()) == expected_events
        storage.get_meta("salts")
        contact = {
            "id": "reliability-contact",
            "email": "after-crash@example.com",
            "created": "2026-11-20T10:00:00+00:00",
            "visitors": [],
        }
        with storage.transaction() as people:
            assert people.find(contact["email"]) is None
            people.save(contact)
        assert storage.find_contact(contact["email"])["id"] == contact["id"]
    finally:
        storage.close()
