"""The beacon route served ahead of Flask: the same answers, byte for byte, and
the same records, for good and hostile beacons alike.

Each comparison sends one request to the tracker as it runs (the fast path in
front) and to the same tracker with the fast path taken out (Flask's view
alone), both on one data directory and database, and compares the status,
every header and the body, then the stored records (ids and times apart).
The requests come from the security fuzz's strategies (tests/security/).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker.db import get_storage
from tracker.web.fastpath import BeaconFastPath

from ..conftest import BROWSER_UA, SITE, read_only
from ..security.conftest import World
from ..security.strategies import beacon_bodies, deep_beacon, headers
from .test_collect import GOOD, HEADERS, send

CONFIGS = {
    "site": {},
    "dev": {"ROUTE_PREFIX": "/t", "PROXY_HOPS": 1, "CONSENT_MODE": "consent"},
}
EXAMPLES = {"ci": 60, "slow": 600}


def without_fast_path(app):
    """The same app, its beacons answered by Flask's view alone (the fast path
    is taken out of the chain of WSGI middleware in front of Flask)."""
    holder, attribute = app, "wsgi_app"
    while not isinstance(getattr(holder, attribute), BeaconFastPath):
        holder, attribute = getattr(holder, attribute), "app"
    setattr(holder, attribute, getattr(holder, attribute).app)
    return app


def stored(app) -> Counter:
    """Every stored record as its JSON in field order, ids and times apart."""
    with app.app_context():
        found = list(get_storage().iter_events())
    return Counter(
        json.dumps({k: v for k, v in e.items() if k not in ("id", "ts")}) for e in found
    )


def answer(response) -> tuple:
    return response.status, response.headers.to_wsgi_list(), response.get_data()


class Pair:
    """The tracker with its fast path, and the same without it, on one store."""

    def __init__(self, app_factory, **config) -> None:
        self.fast = app_factory(**config)
        self.flask = without_fast_path(app_factory(**config))
        self.path = (config.get("ROUTE_PREFIX") or "") + "/api/event"

    def post(self, app, body: bytes, headers: dict):
        client = app.test_client(use_cookies=False)
        return client.post(self.path, data=body, headers=headers)

    def compare(self, body: bytes, headers: dict) -> int:
        """Send to both; assert the same answer and the same new record."""
        before = stored(self.fast)
        fast = self.post(self.fast, body, headers)
        after_fast = stored(self.fast)
        slow = self.post(self.flask, body, headers)
        after_slow = stored(self.flask)
        assert answer(fast) == answer(slow), (body, headers)
        assert after_fast - before == after_slow - after_fast, (body, headers)
        return fast.status_code


def test_a_good_beacon_never_reaches_flask(app):
    """Served ahead of Flask's routing: no request context, no hook runs."""
    reached = []
    app.before_request(lambda: reached.append(1))
    assert send(app.test_client(), GOOD).status_code == 202
    assert reached == [] and stored(app).total() == 1
    assert send(app.test_client(), {**GOOD, "width": "wide"}).status_code == 400
    assert reached == [1]  # refusals are Flask's to answer


CORPUS = [
    (GOOD, {}),
    ({**GOOD, "name": "cta-click", "props": {"plan": "pro", "n": 2}}, {}),
    (GOOD, {"Origin": None}),  # no Origin: accepted, no CORS header
    (GOOD, {"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}),
    (GOOD, {"User-Agent": ""}),
    (GOOD, {"DNT": "1"}),
    (GOOD, {"Sec-GPC": "1", "X-Forwarded-For": "203.0.113.9"}),
    (GOOD, {"Content-Type": "application/json; charset=utf-8"}),
    ({**GOOD, "visitor": "abcdefgh-1234"}, {}),
    ({**GOOD, "title": "Ääkköset \u2028 🦊", "referrer": SITE + "/posts/two/"}, {}),
    (GOOD, {"Origin": "https://evil.example"}),
    (GOOD, {"Origin": "null"}),
    (GOOD, {"Origin": "http://[::1"}),
    (GOOD, {"Content-Type": "text/html"}),
    (GOOD, {"Content-Type": None}),
    ({**GOOD, "url": "https://evil.example/x"}, {}),
    ({**GOOD, "url": "javascript:alert(1)"}, {}),
    ({**GOOD, "width": True}, {}),
    ({**GOOD, "unknown": 1}, {}),
    ({**GOOD, "name": "exposure", "props": {"experiment": "x", "variant": "a"}}, {}),
    ({**GOOD, "props": {"n": 2**64}}, {}),
    ({**GOOD, "props": {"n": -(2**63) - 1, "m": 10**30}}, {}),  # no float for them
    ({**GOOD, "width": 2**64}, {}),
    (b"\xef\xbb\xbf" + json.dumps(GOOD).encode(), {}),  # a UTF-8 BOM
    (json.dumps(GOOD).encode("utf-16"), {}),
    (b'{"url": "\\ud800"}', {}),
    (b"[" * 5000, {}),
    (b"not json", {}),
    (b"", {}),
    (b"a" * 9000, {}),
]


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_a_corpus_of_beacons_gets_the_same_answers_and_records(app_factory, config):
    pair = Pair(app_factory, **CONFIGS[config])
    statuses = set()
    for body, extra in CORPUS:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {k: v for k, v in {**HEADERS, **extra}.items() if v is not None}
        statuses.add(pair.compare(data, sent))
    assert {202, 400, 403, 413, 415} <= statuses


def fuzz_examples(request) -> int:
    return EXAMPLES["slow" if request.config.getoption("--slow") else "ci"]


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_the_fuzz_gets_the_same_answers_and_records(app_factory, config, request):
    """The security fuzz's beacons and headers, through both."""
    pair = Pair(app_factory, **CONFIGS[config])
    origin = SITE if config == "site" else "http://127.0.0.1:8000"
    world = World(app=pair.fast, origin=origin)
    bodies = st.one_of(beacon_bodies(world), deep_beacon(world))
    statuses = []

    @settings(
        max_examples=fuzz_examples(request),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=bodies, sent=headers(world, "collect.event"))
    def check(body, sent):
        data, content_type = body
        if content_type:
            sent = {**sent, "Content-Type": content_type}
        statuses.append(pair.compare(data, sent))

    check()
    assert 202 in statuses and any(s >= 400 for s in statuses)


@pytest.mark.tinydb_only
def test_a_storage_failure_is_answered_by_flask_and_stored_nowhere(app_factory):
    pair = Pair(app_factory)
    body = json.dumps(GOOD).encode()
    pair.compare(body, HEADERS)  # the journal files exist
    data_dir = pair.fast.config["DATA_DIR"]
    with read_only(Path(data_dir)):
        fast = pair.post(pair.fast, body, HEADERS)
        slow = pair.post(pair.flask, body, HEADERS)
    assert fast.status_code == 503 and answer(fast) == answer(slow)
    assert fast.headers["Retry-After"]
    assert stored(pair.fast).total() == 2


def test_the_user_agent_is_classified_once_per_string():
    from tracker.web import agents

    agents.kind.cache_clear()
    for _ in range(3):
        assert agents.kind(BROWSER_UA) == "desktop"
    assert agents.kind("Googlebot/2.1") == "bot"
    info = agents.kind.cache_info()
    assert (info.misses, info.hits) == (2, 2)
