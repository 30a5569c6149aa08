"""Fixtures for the hostile-input and privacy suite.

A tracker seeded with real contacts and every kind of valid token (so that
generated requests get past the first checks), a cheap view of every byte it
stores, time travel for signed tokens, and the fuzz's Hypothesis profiles.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings
from itsdangerous import TimestampSigner

from tracker import create_app
from tracker.db import get_storage
from tracker.reading import META_KEY as READING_KEY
from tracker.web import tokens

from ..conftest import BROWSER_UA, SITE, TEST_MANIFEST, Reader, write_manifest

PASSWORD = "the fuzz's dashboard password"
API_KEY = "test-api-key"
DEV_ORIGIN = "http://127.0.0.1:8000"

# Requests per route and tracker configuration (the fuzz runs two of each).
settings.register_profile(
    "polku-fuzz-ci",
    max_examples=40,
    deadline=None,  # a signup fsyncs: timings vary with the machine's load
    database=None,  # keep the checkout clean; a failure prints its blob instead
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "polku-fuzz-bench", settings.get_profile("polku-fuzz-ci"), max_examples=250
)


@pytest.fixture
def fuzz_settings(request) -> settings:
    """The CI profile, or the benchmark one under --slow (or HYPOTHESIS_PROFILE)."""
    slow = request.config.getoption("--slow")
    name = os.environ.get("HYPOTHESIS_PROFILE") or (
        "polku-fuzz-bench" if slow else "polku-fuzz-ci"
    )
    return settings.get_profile(name)


class Stored:
    """Every byte under the data directory; a file is re-read only when it changed.

    `aggregates/` and `people-index.sqlite` are left out: they are folded from the
    journals by any read that needs them, so they only repeat what the
    journals hold. So
    is the rate limits' counters document in `keys.json`: counting a refused
    request is how the limit refuses the next one (see tracker/web/limits.py).
    """

    DERIVED = ("aggregates" + os.sep, "people-index.sqlite")

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, tuple[tuple[int, ...], bytes]] = {}

    def now(self) -> dict[str, bytes]:
        found = {}
        for folder, _, names in os.walk(self.root):
            for name in names:
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, self.root)
                if relative.startswith(self.DERIVED):
                    continue
                stat = os.stat(path)
                key = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
                cached = self._cache.get(path)
                if cached is None or cached[0] != key:
                    cached = (key, without_counters(relative, Path(path)))
                    self._cache[path] = cached
                found[relative] = cached[1]
        return found


# Documents in keys.json that only count or cache what is stored elsewhere: the
# rate limits' counters, and the co-visits GET /api/next keeps for every process.
DERIVED_DOCS = {"counters", READING_KEY}


def without_counters(relative: str, path: Path) -> bytes:
    data = path.read_bytes()
    if relative != "keys.json" or not data:
        return data
    tables = json.loads(data)
    for docs in tables.values():
        for key in [k for k, doc in docs.items() if doc.get("key") in DERIVED_DOCS]:
            del docs[key]
    return json.dumps(tables, sort_keys=True).encode()


def changed_files(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    return sorted(
        k for k in before.keys() | after.keys() if before.get(k) != after.get(k)
    )


C0_AND_SPACE = "".join(map(chr, range(0x21)))


def on_site(location: str, hosts: set[str]) -> bool:
    """Would a browser stay on one of hosts when following this Location?

    Browsers drop tabs and line breaks, trim controls and spaces, read `\\`
    as `/` in http(s) URLs, and take `https:host` as `https://host`. A
    Location that cannot be read at all counts as off-site.
    """
    cleaned = "".join(ch for ch in location if ch not in "\t\n\r")
    cleaned = cleaned.strip(C0_AND_SPACE).replace("\\", "/")
    try:
        parts = urlsplit(cleaned)
        if parts.scheme:
            if parts.scheme.lower() not in ("http", "https"):
                return False
            rest = cleaned.split(":", 1)[1].lstrip("/")
            parts = urlsplit(parts.scheme + "://" + rest)
        elif cleaned.startswith("//"):
            parts = urlsplit("https:" + cleaned)
        return not parts.netloc or (parts.hostname or "") in hosts
    except ValueError:
        return False


def backdated(serializer, seconds: int):
    """Make an itsdangerous serializer sign as if `seconds` ago: time travel
    for expiry checks without sleeping."""
    signer = serializer.signer
    serializer.signer = type(
        "Backdated",
        (signer if isinstance(signer, type) else TimestampSigner,),
        {"get_timestamp": lambda self: int(time.time()) - seconds},
    )
    return serializer


def make_token(app, purpose: str, payload: dict, age: int = 0) -> str:
    """A token for purpose, signed `age` seconds ago."""
    with app.test_request_context():
        return backdated(tokens._serializer(purpose), age).dumps(payload)


def contact_of(app, email: str) -> dict | None:
    with app.app_context():
        return get_storage().find_contact(email)


@dataclass
class World:
    """A seeded tracker and everything valid a hostile request could reuse."""

    app: Any
    origin: str
    tokens: dict[str, list[str]] = field(default_factory=dict)
    contact_ids: list[str] = field(default_factory=list)
    session: str = ""
    csrf: str = ""

    @property
    def session_name(self) -> str:
        return self.app.config["SESSION_COOKIE_NAME"]

    @property
    def data_dir(self) -> Path:
        return Path(self.app.config["DATA_DIR"])


def log_in(app, password: str = PASSWORD):
    """Return a client logged in to the dashboard and its CSRF token."""
    admin = prefix(app) + "/admin"
    client = app.test_client()
    login = client.post(admin + "/login", data={"password": password})
    assert login.status_code == 303
    page = client.get(admin + "/contacts").get_data(as_text=True)
    return client, re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def prefix(app) -> str:
    return app.config["ROUTE_PREFIX"] or ""


class Visitor(Reader):
    """A reader on a given site origin, with the tracker's routes under a prefix."""

    def __init__(self, app, origin: str) -> None:
        super().__init__(app.test_client(), app)
        self.headers = {"Origin": origin, "User-Agent": BROWSER_UA}

    def post(self, path, data=None, json_body=None, **headers):
        if not path.startswith(prefix(self.app) + "/"):
            path = prefix(self.app) + path
        return super().post(path, data=data, json_body=json_body, **headers)


def seed(app, origin: str) -> World:
    """Give the tracker a confirmed customer, a pending signup and a lead, and
    mint a valid token of every purpose for them."""
    reader = Visitor(app, origin)
    page = origin + "/posts/one/?utm_source=news"
    beacon = {"name": "pageview", "url": page, "title": "One"}
    assert reader.post("/api/event", json_body=beacon).status_code == 202
    reader.confirm("customer@example.com")
    reader.post(
        "/api/conversion",
        json_body={"email": "customer@example.com", "value": 90, "order_id": "o-1"},
        Authorization=f"Bearer {API_KEY}",
    )
    reader.subscribe("pending@example.com")
    reader.download("lead@example.com")
    reader.client.get(reader.link("download", to="lead@example.com")).close()  # proven
    customer, pending, lead = (
        contact_of(app, e)
        for e in ("customer@example.com", "pending@example.com", "lead@example.com")
    )
    world = World(app, origin)
    world.contact_ids = [customer["id"], pending["id"], lead["id"]]
    world.tokens = {
        "confirm": [
            make_token(
                app, "confirm", {"c": pending["id"], "r": [*pending["requests"]][0]}
            )
        ],
        "download": [
            make_token(app, "download", {"c": lead["id"], "g": "website-checklist"})
        ],
        "unsubscribe": [make_token(app, "unsubscribe", {"c": customer["id"]})],
        "feedback": [make_token(app, "feedback", {"c": customer["id"], "k": "d1"})],
        "preferences": [make_token(app, "preferences", {"c": lead["id"]})],
        "click": [
            make_token(app, "click", {"c": customer["id"], "u": target})
            for target in (page, "https://evil.example/", "javascript:alert(1)")
        ],
    }
    admin, world.csrf = log_in(app)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = admin.get_cookie(name, path=prefix(app) + "/admin")
    world.session = cookie.value
    overview = admin.get(prefix(app) + "/admin/")
    assert overview.status_code == 200  # folds the aggregates once
    return world


def dev_manifest() -> dict:
    """The test manifest of a site with no URL yet: development on any local port."""
    return {**TEST_MANIFEST, "site": {**TEST_MANIFEST["site"], "url": ""}}


def embedded_tracker(data_dir: Path, **overrides):
    """A tracker on the embedded backend: everything it stores is under data_dir."""
    write_manifest(data_dir)
    config = {
        "TESTING": True,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "SECRET_KEY": "test-secret-key",
        "API_KEY": API_KEY,
        "ADMIN_PASSWORD": PASSWORD,
        "RATELIMIT_ENABLED": False,
        **overrides,
    }
    return create_app(config)


@pytest.fixture
def site_world(tmp_path) -> World:
    """The tracker as deployed: one site origin, no route prefix, no proxy."""
    return seed(embedded_tracker(tmp_path / "var"), SITE)


@pytest.fixture
def dev_world(tmp_path) -> World:
    """The tracker in development behind one proxy, its routes under /t."""
    app = embedded_tracker(tmp_path / "var", ROUTE_PREFIX="/t", PROXY_HOPS=1)
    write_manifest(Path(app.config["DATA_DIR"]), dev_manifest())
    return seed(app, DEV_ORIGIN)
