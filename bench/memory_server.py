"""The tracker under gunicorn, as bench/memory.py drives it: its workers' RSS
after beacons, pixels and blocks, a signup, the dashboard's overview."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode

from bench import common

PASSWORD = "bench-memory-password"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Server:
    def __init__(self, data_dir: str, workers: int, kind: str, src: str | None):
        self.port = common.free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        root = src or str(REPO)
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLKU_")}
        env.update(
            POLKU_ENV="production",
            POLKU_SECRET_KEY=secrets.token_hex(24),
            POLKU_DATA_DIR=data_dir,
            POLKU_SITE_URL=self.origin,
            POLKU_RATELIMIT_ENABLED="false",
            POLKU_ADMIN_PASSWORD=PASSWORD,
            POLKU_PEOPLE_COMPACT_MB="0",
            PYTHONPATH=os.pathsep.join([root, os.path.join(root, "plugins")]),
        )
        threads = ["-k", "gthread", "--threads", "4"] if kind == "gthread" else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(workers), *threads]
            + ["-b", f"127.0.0.1:{self.port}", "--chdir", root, "--timeout", "300"]
            + ["--log-level", "warning", "tracker:create_app()"],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.workers = workers
        deadline = time.monotonic() + 60
        while len(self.worker_pids()) < workers or not self.answers():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise SystemExit("gunicorn did not start")
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return []

    def answers(self) -> bool:
        try:
            return self.request("GET", "/healthz")[0] == 200
        except OSError:
            return False

    def rss(self) -> list[float]:
        return sorted((common.rss_mb(p) for p in self.worker_pids()), reverse=True)

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read(), response
        finally:
            if own:
                conn.close()

    def beacons(self, count: int, threads: int = 8) -> int:
        body = json.dumps(
            {
                "name": "pageview",
                "url": self.origin + "/posts/one/?utm_source=x",
                "referrer": "https://news.example/",
                "title": "One",
                "width": 1280,
            }
        ).encode()
        headers = {
            "Content-Type": "text/plain",
            "Origin": self.origin,
            "User-Agent": UA,
        }
        pixel = "/api/pixel.gif?" + urlencode({"u": "/posts/two/"})
        block = "/api/next?" + urlencode({"url": self.origin + "/posts/one/"})
        ok = []

        def loop(n: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            done = 0
            for i in range(n):
                try:
                    if i % 10 == 9:
                        status, _, r = self.request("GET", pixel, None, headers, conn)
                    elif i % 10 == 4:  # the block: whose browser is this?
                        status, _, r = self.request("GET", block, None, headers, conn)
                    else:
                        status, _, r = self.request(
                            "POST", "/api/event", body, headers, conn
                        )
                    done += status in (200, 202)
                    if r.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException):
                    conn.close()
            conn.close()
            ok.append(done)

        pool = [
            threading.Thread(target=loop, args=(count // threads,))
            for _ in range(threads)
        ]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        return sum(ok)

    def signup(self) -> int:
        data = urlencode(
            {
                "email": f"bench-{secrets.token_hex(4)}@example.com",
                "consent_newsletter": "yes",
                "consent_version": "2026-11-01",
                "form": "article-signup",
                "source": "/posts/one/",
            }
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": self.origin,
            "User-Agent": UA,
        }
        return self.request("POST", "/subscribe", data, headers)[0]

    def overview(self) -> tuple[int, float]:
        status, _, r = self.request(
            "POST",
            "/admin/login",
            urlencode({"password": PASSWORD}),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        cookie = (r.getheader("Set-Cookie") or "").split(";")[0]
        started = time.perf_counter()
        status, _, _ = self.request("GET", "/admin/", None, {"Cookie": cookie})
        return status, time.perf_counter() - started

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
