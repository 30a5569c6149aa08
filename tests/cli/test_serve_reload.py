"""`polku serve --reload`: the edit loop of `pelican --autoreload`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from ..sites import bare_environ, build_site, copy_site, free_port, wait_for

POST = "2026-05-04-hello-from-kettu-studio.md"


def served_html(output: Path, text: str) -> bool:
    return any(text in p.read_text("utf-8") for p in output.rglob("index.html"))


def test_a_saved_post_is_rebuilt_while_serving(tmp_path):
    site = copy_site(tmp_path / "site")
    build_site(site)
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "tracker.cli", "serve", "--port", str(port)]
            + ["--reload"],
            cwd=site,
            env=bare_environ(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        time.sleep(0.5)  # the watcher is up
        post = site / "content" / "posts" / POST
        post.write_text(
            post.read_text("utf-8").replace("Title: ", "Title: Freshly edited: ", 1),
            "utf-8",
        )
        deadline = time.monotonic() + 60
        while not served_html(site / "output", "Freshly edited:"):
            assert time.monotonic() < deadline, log.read_text()
            assert server.poll() is None, log.read_text()
            time.sleep(0.3)
        broken = site / "pelicanconf.py"
        broken.write_text(broken.read_text() + "\nTHIS IS NOT PYTHON\n")
        deadline = time.monotonic() + 60
        while "Rebuild failed" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        assert server.poll() is None  # a failed rebuild keeps the server up
    finally:
        server.terminate()
        server.wait(timeout=10)
