"""Shared fixtures: the app on each backend, its client and CLI runner, a reader;
the clock and the environment every test starts from."""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from tracker import clock, create_app

from . import pg

# The fixture families in modules of their own (imported here, they are found
# everywhere): real sites and servers, the browser, the SMTP servers.
from .browsers import (  # noqa: F401
    ARTIFACTS,
    artifacts,
    browser,
    launch_chromium,
    playwright,
)
from .mailserver import Inbox, smtp  # noqa: F401
from .sites import (  # noqa: F401
    ROOT,
    bare_environ,
    build_site,
    child_environ,
    copy_site,
    demo,
    free_port,
    polku_serve,
    published,
    served,
    wait_for,
    without_developer_settings,
)


@pytest.fixture
def pg_url(monkeypatch):
    """A fresh schema in the test database; every storage opened on it is closed."""
    with pg.schema() as url:
        with pg.closing_storages(monkeypatch):
            yield url


def pytest_addoption(parser):
    parser.addoption(
        "--slow", action="store_true", help="run long load, crash and fuzz variants"
    )
    parser.addoption(
        "--clock",
        metavar="WHEN",
        help="run every test and every process it starts with the clock at WHEN: "
        "an ISO 8601 moment or a shift in days such as +365d (POLKU_CLOCK)",
    )


def pytest_configure(config):
    if config.getoption("--clock"):
        os.environ[clock.ENV] = config.getoption("--clock")
        clock.reset()


def pytest_collection_modifyitems(config, items):
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="long variant: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@contextlib.contextmanager
def read_only(path: Path):
    """Make a folder tree unwritable, even for root (which ignores file modes)."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-R", "+i", str(path)], check=True)
    else:
        for p in [path, *path.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-R", "-i", str(path)], check=True)
        else:
            for p in [path, *path.rglob("*")]:
                p.chmod(p.stat().st_mode | 0o200)


@pytest.fixture(autouse=True)
def _session_clock():
    """Every test starts on the session's clock (the real one, or --clock's);
    a test that sets it gets it put back."""
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def set_clock():
    """Set the one clock the code reads (ISO 8601 or datetime; it ticks on)."""
    return clock.set_now


@pytest.fixture(autouse=True)
def _pelican_forgets_logged_messages():
    """Pelican's log filter drops a message it has seen once, in any logger of
    the process: a build in one test must not silence the next test's log."""
    from pelican.log import LimitFilter

    LimitFilter._raised_messages.clear()
    LimitFilter._group_count.clear()


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch):
    """Keep a developer's POLKU_* settings out of every test."""
    for name in list(os.environ):
        if name.startswith("POLKU_") and name != clock.ENV:
            monkeypatch.delenv(name)


SITE = "https://kettu.example"
TEST_MANIFEST = {
    "version": 1,
    "site": {"name": "Kettu Studio", "url": SITE, "lang": "en"},
    "posts": [
        {
            "kind": "article",
            "url": "posts/one/",
            "title": "One",
            "date": "2026-11-01T09:00:00",
            "category": "Websites",
            "tags": ["speed"],
            "summary": "",
            "cta": {"kind": "newsletter"},
        },
    ],
    "guides": {
        "website-checklist": {
            "slug": "website-checklist",
            "title": "The checklist",
            "url": "guide-website-checklist/",
            "summary": "",
            "file": "website-checklist.pdf",
        },
    },
    "status_pages": {
        "signup": "thanks-signup/",
        "confirmed": "thanks-confirmed/",
        "download": "thanks-download/",
        "unsubscribed": "thanks-unsubscribed/",
        "feedback": "thanks-feedback/",
        "error": "oops/",
    },
    "consent": {
        "newsletter": "Send me the letter.",
        "ads": "Ads are fine.",
        "version": "v1",
    },
}


def write_manifest(data_dir: Path, manifest: dict = TEST_MANIFEST) -> None:
    (data_dir / "guides").mkdir(parents=True, exist_ok=True)
    (data_dir / "manifest.json").write_text(json.dumps(manifest))
    (data_dir / "guides" / "website-checklist.pdf").write_bytes(b"%PDF-1.4 the guide")


@pytest.fixture(params=["tinydb", "postgres"])
def app_factory(request, tmp_path, monkeypatch):
    """Make a tracker over a fresh data dir with the test manifest; overrides win.

    Runs on each backend; on PostgreSQL, `polku` commands run in the test
    (POLKU_DATABASE_URL) and the build's audience lists share the database.
    """
    database = ""
    if request.param == "postgres":
        if request.node.get_closest_marker("tinydb_only"):
            pytest.skip("about the embedded backend's files")
        database = request.getfixturevalue("pg_url")
        monkeypatch.setenv("POLKU_DATABASE_URL", database)

    def make(**overrides):
        data_dir = tmp_path / "var"
        write_manifest(data_dir)
        config = {
            "TESTING": True,
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": database,
            "SECRET_KEY": "test-secret-key",
            "API_KEY": "test-api-key",
            "RATELIMIT_ENABLED": False,
            **overrides,
        }
        return create_app(config)

    return make


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def client(app):
    return app.test_client()


def raw_data(app) -> bytes:
    """Every byte stored (data directory, database), to search for what must not be."""
    root = Path(app.config["DATA_DIR"])
    files = b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())
    return files + pg.dump(app.config.get("DATABASE_URL"))


class Reader:
    """A reader using the site's forms and the links in the emails they get."""

    def __init__(self, client, app):
        self.client, self.app = client, app
        self.headers = {"Origin": SITE, "User-Agent": BROWSER_UA}

    def post(self, path, data=None, json_body=None, **headers):
        return self.client.post(
            path, data=data, json=json_body, headers={**self.headers, **headers}
        )

    def subscribe(self, email="reader@example.com", **fields):
        data = {
            "email": email,
            "consent_newsletter": "yes",
            "consent_version": "v1",
            "form": "article-signup",
            "source": "/posts/one/",
            **fields,
        }
        return self.post("/subscribe", data=data)

    def download(self, email="reader@example.com", guide="website-checklist", **fields):
        return self.post("/download", data={"email": email, "guide": guide, **fields})

    def outbox(self) -> list:
        folder = Path(self.app.config["DATA_DIR"]) / "outbox"
        if not folder.is_dir():
            return []
        parser = email.parser.BytesParser(policy=email.policy.default)
        return [parser.parsebytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]

    def link(self, route: str, to: str | None = None) -> str:
        """Return the path of the first link to route in the last email (to someone)."""
        sent = [m for m in self.outbox() if to is None or m["To"] == to]
        message = sent[-1]
        text = message.get_body(("plain",)).get_content()
        for word in text.split():
            if f"/{route}/" in word:
                return urlsplit(word).path
        raise AssertionError(f"no /{route}/ link in {text}")

    def confirm(self, email="reader@example.com"):
        self.subscribe(email)
        return self.post(self.link("confirm", to=email))


BROWSER_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)


@pytest.fixture
def reader(client, app):
    return Reader(client, app)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(params=["memory", "tinydb", "postgres"])
def storage(request, tmp_path):
    """Every backend behind the one interface."""
    from tracker.storage import open_storage

    url = {"memory": "memory://", "tinydb": ""}.get(request.param)
    if url is None:
        url = request.getfixturevalue("pg_url")
    backend = open_storage({"DATABASE_URL": url, "DATA_DIR": str(tmp_path / "var")})
    yield backend
    backend.close()
