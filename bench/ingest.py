"""Ingest benchmark: POST /api/event under gunicorn, against a hello-world ceiling.

    .venv/bin/python bench/ingest.py [--sizes 0,100000,1000000] [--duration 10]
                                     [--workers 2] [--connections 16] [--slices 5]
                                     [--configs sync,gthread] [--threads 4]
                                     [--also NAME=module:factory()]

For each gunicorn configuration (`sync`: `-w WORKERS -k sync`, a connection
per request; `gthread`: `-w WORKERS -k gthread --threads THREADS`, keep-alive)
and each database size, each variant runs under gunicorn on 127.0.0.1 with
that configuration over a fresh, prefilled data directory, is warmed up, and
gets DURATION seconds of wrk (bench/post_event.lua):

- hello (the ceiling: parse the JSON, answer 202) and polku (the tracker), at
  every size, run side by side and take turns in SLICES slices of
  DURATION/SLICES seconds (hello@0, polku@0, hello@100k, polku@100k, ...,
  then again), so that the drift of a shared, noisy machine falls on all of
  them alike: the ratios the goals are about (polku / hello at each size,
  polku at 1M / polku at 0) compare runs taken seconds apart, in turn;
- naive (`TinyDB().insert()` per request) runs alone afterwards, one size at
  a time: its slow requests would otherwise go on eating CPU during the
  others' turns.

Throughput is counted in 2xx answers per second. "CPU µs/2xx" is the CPU
time (user + system) of the server's gunicorn processes during its turns, and
of wrk, divided by the 2xx answers: the cost of one event, less swayed by the
machine's noise than throughput; their ratios are printed next to the goals.
After the polku runs the stored events (journal lines) are counted and
compared with the 2xx answers wrk saw. Every ratio printed comes from this
one run.

--also NAME=module:factory() adds a variant run like polku (journal prefill,
interleaved with hello, stored-event check): a patched tracker, for instance.

--postgres SERVER_URL adds polku-pg: the same tracker on the PostgreSQL backend,
each size in a database of its own created on that server (prefilled by COPY,
as `polku db migrate --from-tinydb` does; dropped afterwards), stored events
counted in the database once the shipper has caught up; and polku-pg-direct,
the same with POLKU_SHIP_INTERVAL=0 (each event inserted by the request, the
backend before the shipper). See bench/README.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import pg  # noqa: E402
from bench.naive import db_path  # noqa: E402
from bench.prefill import (  # noqa: E402
    count_journal_events,
    prefill_journal,
    prefill_tinydb,
    write_manifest,
)

VARIANTS = {
    "hello": "bench.hello:create_app()",
    "polku": "tracker:create_app()",
    "naive": "bench.naive:create_app()",
    # the tracker without its beacon fast path (Flask's view answers), on demand
    "polku-flask": "bench.no_fastpath:create_app()",
}
DEFAULT_VARIANTS = "hello,polku,naive"
ALONE = ("naive",)  # variants measured on their own, not interleaved
PG_VARIANTS = {"polku-pg": {}, "polku-pg-direct": {"POLKU_SHIP_INTERVAL": "0"}}
CONFIGS = ("sync", "gthread")
LUA = BENCH / "post_event.lua"
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
GOAL_CEILING = 0.7
# issue 21, point 5: the tracker's beacon at least as fast as hello's Flask route
GOAL_FAST = {"polku": 1.0}
GOAL_GROWTH = 0.8


def beacon(origin: str) -> bytes:
    """The body post_event.lua sends (keep the two the same)."""
    return (
        '{"name":"pageview","url":"' + origin + '/posts/one/?utm_source=x",'
        '"referrer":"https://news.example/","title":"One","width":1280}'
    ).encode()


@dataclass
class Result:
    size: int
    variant: str
    requests: int = 0
    ok: int = 0
    non2xx: int = 0
    socket_errors: int = 0
    timeouts: int = 0
    seconds: float = 0.0
    p50s_ms: list[float] = field(default_factory=list)
    p99_ms: float = 0.0
    slices: int = 0
    warmup_ms: float = 0.0
    cpu_seconds: float = 0.0  # gunicorn master + workers, during the turns
    wrk_cpu_seconds: float = 0.0  # the load generator, for the same requests
    stored_growth: int | None = None
    stored_ok: bool = True
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok_per_s(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_ok(self) -> float:
        return self.cpu_seconds / self.ok * 1e6 if self.ok else 0.0

    @property
    def wrk_us_per_ok(self) -> float:
        return self.wrk_cpu_seconds / self.ok * 1e6 if self.ok else 0.0

    @property
    def p50_ms(self) -> float:
        return sorted(self.p50s_ms)[len(self.p50s_ms) // 2] if self.p50s_ms else 0.0

    def add(self, wrk: dict) -> None:
        self.requests += wrk["requests"]
        self.non2xx += wrk["status"]
        self.ok += wrk["requests"] - wrk["status"]
        self.socket_errors += wrk["connect"] + wrk["read"] + wrk["write"]
        self.timeouts += wrk["timeout"]
        self.seconds += wrk["duration_us"] / 1e6
        if wrk["requests"]:
            self.p50s_ms.append(wrk["latency_p50_us"] / 1000)
            self.p99_ms = max(self.p99_ms, wrk["latency_p99_us"] / 1000)
        self.wrk_cpu_seconds += wrk["cpu_seconds"]
        self.slices += 1


# -- talking to a server -----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, origin: str, timeout: float) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            method,
            path,
            body=beacon(origin) if method == "POST" else None,
            headers={
                "Content-Type": "text/plain",
                "Origin": origin,
                "User-Agent": USER_AGENT,
            },
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def run_threads(count: int, target) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def wait_booted(port: int, proc: subprocess.Popen, workers: int) -> None:
    """Wait until the workers answer: a GET that matches no route (404) costs
    nothing and touches no storage. Concurrent clients reach every worker."""
    deadline = time.monotonic() + 60
    answered = []

    def loop() -> None:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                request(port, "GET", "/bench-ready", "http://127.0.0.1", timeout=10)
                answered.append(1)
                return
            except OSError:
                time.sleep(0.05)

    run_threads(workers * 2, loop)
    if proc.poll() is not None:
        raise RuntimeError(f"gunicorn exited with {proc.returncode}")
    if len(answered) < workers * 2:
        raise RuntimeError("gunicorn's workers did not answer within 60 s")


def warm_up(port: int, origin: str, seconds: float, clients: int) -> float:
    """POST beacons from `clients` threads for `seconds` (one client per
    worker: while one worker is busy the next request goes to another).
    Every request completes, so nothing is left queued to steal time from the
    measurement; a variant whose first request already took longer than
    `seconds` is not warmed further. Returns the median latency in seconds."""
    lock = threading.Lock()
    statuses: list[int] = []
    latencies: list[float] = []
    failures: list[str] = []
    deadline = time.monotonic() + seconds

    def loop() -> None:
        while True:
            started = time.perf_counter()
            try:
                status = request(port, "POST", "/api/event", origin, timeout=600)
            except OSError as e:
                with lock:
                    failures.append(repr(e))
                return
            took = time.perf_counter() - started
            with lock:
                statuses.append(status)
                latencies.append(took)
            if time.monotonic() >= deadline or took > seconds:
                return

    run_threads(clients, loop)
    if not any(200 <= s < 300 for s in statuses):
        raise RuntimeError(
            f"warm-up got no 2xx answer (statuses {sorted(set(statuses))}, "
            f"errors {failures[:3]})"
        )
    return sorted(latencies)[len(latencies) // 2]


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(origin: str, seconds: int, args) -> dict:
    """One wrk run; its summary gets `cpu_seconds`, the CPU wrk itself used."""
    cmd = [
        args.wrk,
        "-t2",
        f"-c{args.connections}",
        f"-d{seconds}s",
        "--timeout",
        "120s",
        "-s",
        str(LUA),
        f"{origin}/api/event",
        "--",
        origin,
    ]
    cpu = children_cpu_seconds()
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    cpu = children_cpu_seconds() - cpu
    for line in out.splitlines():
        if line.startswith("WRK_JSON "):
            return {**json.loads(line[len("WRK_JSON ") :]), "cpu_seconds": cpu}
    raise RuntimeError(f"no WRK_JSON line in wrk's output:\n{out}")


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of every live process in a process group."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command: state ppid pgrp ... utime(12) stime(13)
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


# -- one server ----------------------------------------------------------------


class Server:
    """gunicorn for one variant over its own prefilled data dir, on 127.0.0.1."""

    def __init__(self, variant: str, size: int, args) -> None:
        self.variant, self.size, self.args = variant, size, args
        self.result = Result(size, variant)
        pg_name = variant.replace("-", "_")
        self.database = (
            f"{pg_name}_{size}_{os.getpid()}" if variant in PG_VARIANTS else None
        )
        self.db_url = ""
        # polku and --also: stored events counted in the journal
        self.journal = variant not in ("hello", "naive", *PG_VARIANTS)
        self.root = tempfile.mkdtemp(
            prefix=f"polku-bench-{variant}-{size}-", dir=args.tmp
        )
        self.data_dir = os.path.join(self.root, "var")
        self.log_path = os.path.join(self.root, "gunicorn.log")
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.before = 0

    def prefill(self) -> None:
        started = time.perf_counter()
        write_manifest(self.data_dir, self.origin)
        if self.journal:
            prefill_journal(self.data_dir, self.size, self.origin)
        elif self.database:
            self.db_url = pg.create_database(self.args.postgres, self.database)
            if self.size:
                took = pg.prefill(
                    self.db_url, self.data_dir, self.size, self.origin, fold=False
                )
                shutil.rmtree(os.path.join(self.data_dir, "journal"))
                self.result.notes.append(f"copy into PostgreSQL {took['copy']:.1f} s")
        elif self.variant == "naive":
            prefill_tinydb(db_path(self.data_dir), self.size, self.origin)
        if self.size and self.variant != "hello":
            took = time.perf_counter() - started
            self.result.notes.append(f"prefill {took:.1f} s")

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLKU_")}
        env.update(
            POLKU_ENV="production",
            POLKU_SECRET_KEY=secrets.token_hex(24),
            POLKU_DATA_DIR=self.data_dir,
            POLKU_SITE_URL=self.origin,
            POLKU_RATELIMIT_ENABLED="false",
            PYTHONDONTWRITEBYTECODE="1",
        )
        if self.db_url:
            env["POLKU_DATABASE_URL"] = self.db_url
            env.update(PG_VARIANTS[self.variant])
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(self.args.workers),
            *worker_class(self.args),
            "-b",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(REPO),
            "--timeout",
            "300",
            "--log-level",
            "warning",
            self.args.apps[self.variant],
        ]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as one
            )

    def warm(self) -> None:
        assert self.proc is not None
        wait_booted(self.port, self.proc, self.args.workers)
        took = warm_up(self.port, self.origin, self.args.warmup, self.args.workers)
        self.result.warmup_ms = took * 1000
        if self.journal or self.db_url:
            self.before = self.stored()

    def stored(self) -> int:
        if self.db_url:
            return self.shipped()
        return count_journal_events(self.data_dir)

    def shipped(self, timeout: float = 60.0) -> int:
        """The events in the database once the journal's lines are all in it
        (the shipper is at most a second behind; direct inserts have no journal
        here, only the prefill's rows)."""
        deadline = time.monotonic() + timeout
        while True:
            found = pg.count_events(self.db_url)
            expected = self.size + count_lines(
                os.path.join(self.data_dir, "journal", "pg-events")
            )
            if found >= expected or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def measure(self, seconds: int) -> None:
        assert self.proc is not None
        cpu = group_cpu_seconds(self.proc.pid)
        self.result.add(run_wrk(self.origin, seconds, self.args))
        self.result.cpu_seconds += group_cpu_seconds(self.proc.pid) - cpu

    def stop(self) -> None:
        """SIGTERM to the group (requests in progress finish and are stored);
        SIGKILL if it lingers (a naive worker deep in a huge insert)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)  # the master waits for its workers
            return
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)

    def finish(self) -> None:
        """After stop(): compare stored events with the 2xx answers."""
        if (self.journal or self.db_url) and self.result.error is None:
            r = self.result
            r.stored_growth = self.stored() - self.before
            # wrk does not count the answers in flight when it stops: up to one
            # per connection and slice may be stored without being counted
            extra = r.stored_growth - r.ok
            r.stored_ok = 0 <= extra <= self.args.connections * max(r.slices, 1)
        if self.result.timeouts:
            self.result.notes.append(f"{self.result.timeouts} wrk timeouts")

    def fail(self, e: Exception) -> None:
        self.result.error = f"{type(e).__name__}: {e}"
        try:
            with open(self.log_path, errors="replace") as f:
                tail = f.read()[-2000:]
            if tail.strip():
                self.result.error += "\n--- gunicorn log ---\n" + tail
        except OSError:
            pass

    def cleanup(self) -> None:
        self.stop()
        if self.database and not self.args.keep:
            pg.drop_database(self.args.postgres, self.database)
        if self.args.keep:
            print(f"  (kept {self.root})", flush=True)
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def count_lines(folder: str) -> int:
    """Complete lines in the journal files under folder (the shipper's)."""
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(root, name), "rb") as f:
                while chunk := f.read(8 << 20):
                    total += chunk.count(b"\n")
    return total


def worker_class(args) -> list[str]:
    """gunicorn's options for the configuration being measured."""
    if args.config == "gthread":
        return ["-k", "gthread", "--threads", str(args.threads)]
    return ["-k", "sync"]


def slice_seconds(duration: int, slices: int) -> list[int]:
    slices = max(1, min(slices, duration))
    return [
        duration // slices + (1 if i < duration % slices else 0) for i in range(slices)
    ]


def run_group(runs: list[tuple[str, int]], args) -> list[Result]:
    """Run (variant, size) servers side by side, taking turns slice by slice."""
    servers = [Server(variant, size, args) for variant, size in runs]
    try:
        for s in servers:
            s.prefill()
        if any(size for _, size in runs):
            os.sync()  # the prefill's writeback must not run during the measurement
        for s in servers:
            s.start()
        for s in servers:
            s.warm()
        for seconds in slice_seconds(args.duration, args.slices):
            for s in servers:
                s.measure(seconds)
        for s in servers:
            s.stop()
            s.finish()
    except Exception as e:  # report it and go on with the other runs
        for s in servers:
            s.fail(e)
    finally:
        for s in servers:
            s.cleanup()
    return [s.result for s in servers]


# -- report ------------------------------------------------------------------


def fmt_size(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def fmt_rate(x: float) -> str:
    return f"{x:.0f}" if x >= 10 else f"{x:.2f}"


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}" if x >= 0.1 else f"{x:.4f}"


def usable(r: Result | None) -> bool:
    return r is not None and not r.error and r.ok_per_s > 0


def report(results: list[Result], args) -> str:
    by = {(r.size, r.variant): r for r in results}
    sizes = sorted({r.size for r in results})
    lines = [
        "| stored events | variant | 2xx/s | non-2xx | vs hello (same size) "
        "| vs own speed at 0 | CPU µs/2xx server + wrk | p50 ms | p99 ms "
        "| stored growth / 2xx | notes |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for size in sizes:
        hello = by.get((size, "hello"))
        for variant in args.apps:
            r = by.get((size, variant))
            if r is None:
                continue
            if r.error:
                first_line = r.error.splitlines()[0].replace("|", "/")
                lines.append(
                    f"| {fmt_size(size)} | {variant} | error | | | | | | | | "
                    f"{first_line} |"
                )
                continue
            vs_hello = (
                fmt_ratio(r.ok_per_s / hello.ok_per_s)
                if variant != "hello" and usable(hello)
                else "—"
            )
            first = by.get((0, variant))
            vs_zero = fmt_ratio(r.ok_per_s / first.ok_per_s) if usable(first) else "—"
            cpu = f"{r.cpu_us_per_ok:.0f} + {r.wrk_us_per_ok:.0f}" if r.ok else "—"
            p50 = f"{r.p50_ms:.1f}" if r.ok else "—"
            p99 = f"{r.p99_ms:.1f}" if r.ok else "—"
            growth = "—"
            if r.stored_growth is not None:
                verdict = "ok" if r.stored_ok else "MISMATCH"
                growth = f"{r.stored_growth} / {r.ok} ({verdict})"
            notes = list(r.notes)
            notes.append(f"warm-up {r.warmup_ms:.1f} ms/req")
            if r.socket_errors:
                notes.append(f"{r.socket_errors} socket errors")
            lines.append(
                f"| {fmt_size(size)} | {variant} | {fmt_rate(r.ok_per_s)} "
                f"| {r.non2xx} | {vs_hello} | {vs_zero} | {cpu} | {p50} | {p99} "
                f"| {growth} | {'; '.join(notes)} |"
            )
    lines.append("")
    for variant in args.apps:
        if variant != "hello" and variant not in ALONE:
            lines += goals(by, sizes, variant)
    lines += naive_summary(by, sizes)
    return "\n".join(lines)


def cpu_ratio(base: Result, other: Result) -> float:
    """Throughput ratio expected when the CPU is the limit: cost(base) / cost(other)."""
    return (base.cpu_us_per_ok + base.wrk_us_per_ok) / (
        other.cpu_us_per_ok + other.wrk_us_per_ok
    )


def goals(by: dict, sizes: list[int], variant: str) -> list[str]:
    out = []
    ratios = [
        (size, by[(size, variant)].ok_per_s / by[(size, "hello")].ok_per_s)
        for size in sizes
        if usable(by.get((size, variant))) and usable(by.get((size, "hello")))
    ]
    if ratios:
        worst = min(r for _, r in ratios)
        each = ", ".join(f"{fmt_size(s)}: {r:.2f}" for s, r in ratios)
        goal = GOAL_FAST.get(variant, GOAL_CEILING)
        verdict = "met" if worst >= goal else "NOT met"
        out.append(
            f"- goal: {variant} ≥ {goal} of the hello ceiling at every "
            f"size: **{verdict}** ({each})"
        )
        cpu = [
            (size, cpu_ratio(by[(size, "hello")], by[(size, variant)]))
            for size, _ in ratios
        ]
        out.append(
            "  - the same ratio from the CPU cost of an event (server + wrk), "
            "which the machine's noise sways less: "
            + ", ".join(f"{fmt_size(s)}: {r:.2f}" for s, r in cpu)
        )
    big = sizes[-1] if sizes else 0
    zero, last = by.get((0, variant)), by.get((big, variant))
    if big and usable(zero) and usable(last):
        ratio = last.ok_per_s / zero.ok_per_s
        verdict = "met" if ratio >= GOAL_GROWTH else "NOT met"
        line = (
            f"- goal: {variant} at {fmt_size(big)} stored events ≥ {GOAL_GROWTH} "
            f"of its speed at 0: **{verdict}** ({ratio:.2f}"
        )
        line += f"; from the CPU cost of an event: {cpu_ratio(zero, last):.2f}"
        hellos = [
            by[(s, "hello")].ok_per_s for s in sizes if usable(by.get((s, "hello")))
        ]
        if len(hellos) > 1:
            line += (
                f"; the identical hello servers of the sizes differ by up to "
                f"{max(hellos) / min(hellos):.2f}×, which is the noise of this run"
            )
        out.append(line + ")")
    return out


def naive_summary(by: dict, sizes: list[int]) -> list[str]:
    out = []
    zero = by.get((0, "naive"))
    if not usable(zero):
        return out
    for size in sizes:
        r = by.get((size, "naive"))
        if size == 0 or r is None or r.error:
            continue
        out.append(
            f"- naive TinyDB at {fmt_size(size)}: "
            f"{fmt_ratio(r.ok_per_s / zero.ok_per_s)} "
            f"of its speed at 0; one insert took {r.warmup_ms / 1000:.2f} s "
            "in the warm-up"
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0,100000,1000000")
    parser.add_argument("--duration", type=int, default=10, help="seconds per variant")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--slices", type=int, default=5, help="turns per variant")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds")
    parser.add_argument(
        "--configs",
        default=",".join(CONFIGS),
        help="gunicorn configurations, each measured in turn: sync (a connection "
        "per request) and gthread (keep-alive, --threads THREADS)",
    )
    parser.add_argument("--threads", type=int, default=4, help="gthread's threads")
    parser.add_argument(
        "--variants",
        default=DEFAULT_VARIANTS,
        help=f"of {', '.join(VARIANTS)} (default {DEFAULT_VARIANTS})",
    )
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME=APP",
        help="another tracker-like variant, e.g. fast=mymod:create_app()",
    )
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="also run polku on PostgreSQL (shipped from the journal, and "
        "inserted per request), in databases made on this server, "
        "e.g. postgresql://postgres@127.0.0.1/test",
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    parser.add_argument("--tmp", default=None, help="where the data dirs go")
    parser.add_argument("--keep", action="store_true", help="keep the data dirs")
    args = parser.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(names) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    args.apps = {name: VARIANTS[name] for name in VARIANTS if name in names}
    for also in args.also:
        name, _, app = also.partition("=")
        if not name or not app or name in VARIANTS:
            parser.error(f"--also {also!r}: give NAME=module:factory()")
        args.apps[name] = app
    if args.postgres:
        args.apps.update({name: VARIANTS["polku"] for name in PG_VARIANTS})
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    if not configs or set(configs) - set(CONFIGS):
        parser.error(f"--configs: a list of {', '.join(CONFIGS)}")
    turns = slice_seconds(args.duration, args.slices)

    print(
        f"# ingest benchmark, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{os.cpu_count()} cores ({platform.machine()}), Python "
        f"{platform.python_version()}\n"
        f"# wrk -t2 -c{args.connections}, {args.duration} s per variant in "
        f"{len(turns)} turn(s); warm-up {args.warmup:g} s\n",
        flush=True,
    )
    started = time.perf_counter()
    reports, failed = [], False
    for config in configs:
        args.config = config
        results = run_config(sizes, args)
        title = " ".join(["gunicorn", "-w", str(args.workers), *worker_class(args)])
        reports.append(f"## {config}: `{title}`\n\n{report(results, args)}")
        failed |= any(r.error for r in results)
        failed |= not all(r.stored_ok for r in results)
    print(f"\n(total {time.perf_counter() - started:.0f} s)\n")
    print("\n\n".join(reports))
    return 1 if failed else 0


def run_config(sizes: list[int], args) -> list[Result]:
    """Every variant and size under one gunicorn configuration."""
    results: list[Result] = []
    together = [(v, size) for size in sizes for v in args.apps if v not in ALONE]
    groups = [together] if together else []
    groups += [[(v, size)] for size in sizes for v in args.apps if v in ALONE]
    for group in groups:
        names = ", ".join(f"{v}@{fmt_size(size)}" for v, size in group)
        print(f"- {args.config}: {names} …", flush=True)
        for r in run_group(group, args):
            results.append(r)
            label = f"{r.variant}@{fmt_size(r.size)}"
            if r.error:
                print(f"    {label}: error\n{r.error}", flush=True)
                continue
            stored = ""
            if r.stored_growth is not None:
                verdict = "ok" if r.stored_ok else "MISMATCH"
                stored = f", stored +{r.stored_growth} ({verdict})"
            print(
                f"    {label}: {fmt_rate(r.ok_per_s)} 2xx/s "
                f"({r.non2xx} non-2xx{stored})",
                flush=True,
            )
    return results


if __name__ == "__main__":
    sys.exit(main())
