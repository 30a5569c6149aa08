"""GET /api/next under gunicorn, against a hello-world ceiling.

    .venv/bin/python bench/next.py [--events 100000] [--readers 1000]
                                   [--duration 12] [--slices 4] [--workers 2]
                                   [--config gthread|sync] [--threads 4]

Two WSGI apps under the same gunicorn configuration (by default the keep-alive
one, `-k gthread --threads 4`, which the site's script meets behind a proxy
that keeps connections open), each over its own data directory:

- hello (`bench.next:create_hello()`): answers GET /api/next with a fixed JSON
  body of the same size: the ceiling (Flask + gunicorn + HTTP, nothing else);
- polku (`tracker:create_app()`): the real tracker in production mode over a
  journal prefilled with EVENTS events (bench/prefill.py, spread over 12
  months) and a manifest of ten posts with their build-time neighbours.

wrk (bench/get_next.lua) asks for the block of a random post for a random one
of READERS browsers (distinct User-Agents: distinct cookieless visitor ids), so
each worker meets each reader for the first time once (their reads come from
storage) and then from its own memory, as a site's readers would over a visit.
The two servers take turns (SLICES turns each) so that a noisy machine's
drift falls on both alike. Printed: answers per second, the ratio to the
ceiling, the CPU time of the server per answer, latencies, non-2xx answers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.ingest import (  # noqa: E402
    free_port,
    group_cpu_seconds,
    slice_seconds,
    worker_class,
)
from bench.prefill import POSTS, manifest, prefill_journal  # noqa: E402

LUA = BENCH / "get_next.lua"
GOAL = 0.5
TAGS = ["speed", "seo", "content", "accessibility", "newsletter"]
HELLO_BODY = {
    "next": {"url": "http://127.0.0.1/posts/seo-basics/", "title": "SEO basics"},
    "cta": {"kind": "newsletter", "url": "http://127.0.0.1/newsletter/", "title": "x"},
    "arm": "personal",
    "topic": None,
}


def create_hello():
    """The ceiling: a Flask app answering GET /api/next with a fixed body."""
    from flask import Flask, jsonify, request

    app = Flask(__name__)

    @app.get("/api/next")
    def next_block():
        request.args.get("url")
        response = jsonify(HELLO_BODY)
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return app


def site_manifest(origin: str) -> dict:
    """bench/prefill.py's manifest, with topics and neighbours as a build gives."""
    found = manifest(origin)
    found["generated_at"] = "2026-12-01T00:00:00+00:00"
    found["journey"] = {
        "holdout": 0.1,
        "block_cta": {"kind": "newsletter", "url": "newsletter/", "title": "Letter"},
        "block_pages": {"newsletter": {"url": "newsletter/", "title": "Letter"}},
    }
    for i, post in enumerate(found["posts"]):
        post["tags"] = [TAGS[i % len(TAGS)], TAGS[(i + 1) % len(TAGS)]]
        if i % 2:
            post["cta"] = {"kind": "guide", "slug": "website-checklist"}
        near = [found["posts"][(i + k) % len(POSTS)]["url"] for k in (1, 2, 3)]
        post["similar"] = [[url, round(0.5 / k, 3)] for k, url in enumerate(near, 1)]
        post["next"] = near[0]
    return found


class Server:
    def __init__(self, variant: str, args, root: str) -> None:
        self.variant, self.args = variant, args
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.data_dir = os.path.join(root, variant, "var")
        os.makedirs(self.data_dir)
        self.log = os.path.join(root, variant, "gunicorn.log")
        self.proc: subprocess.Popen | None = None
        self.ok = self.non2xx = self.errors = 0
        self.seconds = self.cpu = 0.0
        self.p50s: list[float] = []
        self.p99 = 0.0

    def prefill(self) -> None:
        with open(os.path.join(self.data_dir, "manifest.json"), "w") as f:
            json.dump(site_manifest(self.origin), f)
        if self.variant == "polku" and self.args.events:
            prefill_journal(self.data_dir, self.args.events, self.origin)

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLKU_")}
        env.update(
            POLKU_ENV="production",
            POLKU_SECRET_KEY=secrets.token_hex(24),
            POLKU_DATA_DIR=self.data_dir,
            POLKU_SITE_URL=self.origin,
            PYTHONDONTWRITEBYTECODE="1",
        )
        app = "bench.next:create_hello()" if self.variant == "hello" else None
        workers = worker_class(self.args)  # the same options as bench/ingest.py
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(self.args.workers),
            *workers,
            "-b",
            f"127.0.0.1:{self.port}",
            "--chdir",
            str(REPO),
            "--log-level",
            "warning",
            app or "tracker:create_app()",
        ]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait(self) -> None:
        import urllib.error
        import urllib.request

        url = f"{self.origin}/api/next?url={self.origin}/posts/one/"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.HTTPError):
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    message = f"{self.variant} did not start: see {self.log}"
                    raise RuntimeError(message) from None
                time.sleep(0.2)

    def turn(self, seconds: int) -> None:
        paths = ",".join(f"/posts/{slug}/" for slug, _ in POSTS)
        cmd = [
            "wrk",
            "-t2",
            f"-c{self.args.connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(LUA),
            self.origin,
            "--",
            self.origin,
            str(self.args.readers),
            paths,
        ]
        cpu = group_cpu_seconds(self.proc.pid)
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        self.cpu += group_cpu_seconds(self.proc.pid) - cpu
        line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
        found = json.loads(line[len("WRK_JSON ") :])
        self.non2xx += found["status"]
        self.ok += found["requests"] - found["status"]
        self.errors += found["connect"] + found["read"] + found["write"]
        self.seconds += found["duration_us"] / 1e6
        self.p50s.append(found["latency_p50_us"] / 1000)
        self.p99 = max(self.p99, found["latency_p99_us"] / 1000)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.ok * 1e6 if self.ok else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=12, help="seconds per server")
    parser.add_argument("--slices", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--config", choices=("gthread", "sync"), default="gthread")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    root = tempfile.mkdtemp(prefix="polku-bench-next-")
    servers = [Server("hello", args, root), Server("polku", args, root)]
    try:
        for server in servers:
            server.prefill()
            server.start()
        for server in servers:
            server.wait()
            server.turn(2)  # warm-up: imports, the catalogue, co-visitation
            server.ok = server.non2xx = server.errors = 0
            server.seconds = server.cpu = 0.0
            server.p50s, server.p99 = [], 0.0
        for seconds in slice_seconds(args.duration, args.slices):
            for server in servers:
                server.turn(seconds)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    hello, polku = servers
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    kind = "-k sync"
    if args.config == "gthread":
        kind = f"-k gthread --threads {args.threads}"
    print(
        f"GET /api/next, {when}: {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, gunicorn -w {args.workers} {kind}"
        f", wrk -t2 -c{args.connections}, {args.readers} readers, "
        f"{args.events:,} stored events, {args.duration} s per server in "
        f"{args.slices} turns\n"
    )
    print(
        "| variant | 2xx/s | non-2xx | vs hello | server CPU µs/2xx | p50 ms | p99 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for s in servers:
        ratio = "—" if s is hello else f"{s.rate / hello.rate:.2f}"
        p50 = sorted(s.p50s)[len(s.p50s) // 2] if s.p50s else 0
        print(
            f"| {s.variant} | {s.rate:.0f} | {s.non2xx} | {ratio} | {s.cpu_us:.0f} | "
            f"{p50:.1f} | {s.p99:.1f} |"
        )
    ratio = polku.rate / hello.rate if hello.rate else 0
    cpu_ratio = hello.cpu_us / polku.cpu_us if polku.cpu_us else 0
    met = "met" if ratio >= GOAL else "NOT met"
    print(
        f"\ngoal: polku >= {GOAL} of the ceiling: **{met}** ({ratio:.2f}; from the "
        f"server CPU per answer: {cpu_ratio:.2f})"
    )
    return 0 if not (polku.non2xx or polku.errors) else 1


if __name__ == "__main__":
    sys.exit(main())
