"""A real headless Chromium (Debian's `chromium`), driven by Playwright."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .sites import ROOT

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def playwright():
    """One Playwright driver for the session (two at once refuse to run)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as driver:
        yield driver


def launch_chromium(playwright, *args: str):
    """A real headless Chromium from Debian's `chromium` package (more args: args)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (apt-get install chromium)")
    return playwright.chromium.launch(
        executable_path=executable,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            *args,
        ],
    )


@pytest.fixture(scope="session")
def browser(playwright):
    launched = launch_chromium(playwright)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
