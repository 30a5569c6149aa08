"""`make run`: the demo's dashboard gets a fresh random password each run,
printed with its address, unless the user chose one (POLKU_ADMIN_PASSWORD).

The real Makefile runs against a stand-in virtualenv whose `polku` only
records how it was called, so no demo server starts.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import ROOT, bare_environ

STUB = """#!/bin/sh
echo "$* password=$POLKU_ADMIN_PASSWORD" >> "$(dirname "$0")/calls"
"""


@pytest.fixture
def venv(tmp_path):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "polku").write_text(STUB)
    (bin_dir / "polku").chmod(0o755)
    (bin_dir / "python").symlink_to(sys.executable)
    return tmp_path / "venv"


def make_run(venv, *args, **env) -> tuple[str, str, list[str]]:
    """Run `make run` on the stand-in; return the printed password, the output
    and the stand-in's calls."""
    calls = venv / "bin" / "calls"
    calls.unlink(missing_ok=True)
    done = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "run", f"VENV={venv}", *args],
        env=bare_environ(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    printed = re.search(
        r"^Dashboard: http://127\.0\.0\.1:8000/admin/ \(password: (.+)\)$",
        done.stdout,
        re.M,
    )
    assert printed, done.stdout
    return printed.group(1), done.stdout, calls.read_text().splitlines()


def test_each_run_gets_a_new_random_password(venv):
    first, _, calls = make_run(venv)
    second, _, _ = make_run(venv)
    assert first != second
    for password in (first, second):
        assert len(password) >= 16 and password != "polku-demo"
    build, serve = calls
    assert build.startswith("build ")
    assert serve == f"serve --host 127.0.0.1 --port 8000 password={first}"


def test_a_password_the_user_set_is_kept(venv):
    chosen = "our own dashboard password"
    password, _, calls = make_run(venv, POLKU_ADMIN_PASSWORD="our-own-password-1")
    assert password == "our-own-password-1"
    assert calls[-1].endswith("password=our-own-password-1")
    _, out, calls = make_run(venv, f"POLKU_ADMIN_PASSWORD={chosen}")
    assert f"(password: {chosen})" in out
    assert calls[-1].endswith(f"password={chosen}")


def test_no_documented_password_is_left():
    for name in ("Makefile", "README.md"):
        assert "polku-demo" not in (ROOT / name).read_text(), name
