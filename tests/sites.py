"""Real sites for the tests: a copy of the demo, real `polku build` and `polku
serve` in child processes, and the environment those children get."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracker import clock

ROOT = Path(__file__).resolve().parent.parent
SITE_FILES = ("pelicanconf.py", "publishconf.py", "content", "theme", "plugins")


def without_developer_settings(environ) -> dict[str, str]:
    """The environment without POLKU_* settings, but for the session's clock."""
    return {
        k: v for k, v in environ.items() if not k.startswith("POLKU_") or k == clock.ENV
    }


def copy_site(target: Path) -> Path:
    """Copy the demo site's sources into target, as a user's checkout would look."""
    target.mkdir(parents=True, exist_ok=True)
    for name in SITE_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(
                src, target / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(src, target / name)
    return target


def bare_environ(**settings: str) -> dict[str, str]:
    """The environment without the developer's POLKU_* settings, plus these."""
    env = without_developer_settings(os.environ)
    env.update(settings)
    return env


def child_environ() -> dict[str, str]:
    """The environment for a `polku` child process: no POLKU_* of the developer's,
    but the test's database when it runs on PostgreSQL (see app_factory)."""
    env = bare_environ()
    if os.environ.get("POLKU_DATABASE_URL"):
        env["POLKU_DATABASE_URL"] = os.environ["POLKU_DATABASE_URL"]
    return env


def build_site(
    site: Path, publish: bool = False, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run `polku build` in site, in a child process as a user would."""
    args = [sys.executable, "-m", "tracker.cli", "build"] + (
        ["--publish"] if publish else []
    )
    full_env = {**child_environ(), **(env or {})}
    result = subprocess.run(
        args, cwd=site, env=full_env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Path:
    """The demo site, built once with `polku build` into its own output/ and var/."""
    site = copy_site(tmp_path_factory.mktemp("demo"))
    result = build_site(site)
    (site / "build.log").write_text(result.stdout + result.stderr)
    return site


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> Path:
    """The demo site built with publishconf.py."""
    site = copy_site(tmp_path_factory.mktemp("published"))
    build_site(site, publish=True)
    return site


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 20.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def polku_serve(site: Path, log: Path, env: dict[str, str], port: int | None = None):
    """Run `polku serve` in site on port (a free one by default); yield its base URL."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tracker.cli", "serve", "--port", str(port)],
            cwd=site,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(base + "/healthz")
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def served(demo):
    """`polku serve` on a free port over the built demo; yields its base URL."""
    with polku_serve(demo, demo / "serve.log", bare_environ()) as base:
        yield base
