"""Rate limits hold: every form shares one budget per reader, a forged
X-Forwarded-For does not buy more, and a refused request stores nothing.

(The basic cases, a signup beyond the limit and the login's own limit, live
in tests/web/test_forms.py and tests/admin/test_auth.py.)
"""

from __future__ import annotations

import pytest

from ..conftest import SITE
from .conftest import (
    PASSWORD,
    Stored,
    Visitor,
    changed_files,
    embedded_tracker,
    make_token,
    seed,
)

LIMIT = 3


def limited_world(tmp_path, **config):
    """A seeded tracker whose forms allow LIMIT posts a minute per reader.

    The limit is read on each request: seeding runs under a looser one, and
    the readers below come from other addresses than the seeding's.
    """
    app = embedded_tracker(
        tmp_path / "var",
        RATELIMIT_ENABLED=True,
        RATELIMIT_FORMS="1000/minute",
        **config,
    )
    world = seed(app, SITE)
    app.config["RATELIMIT_FORMS"] = f"{LIMIT}/minute"
    app.config["MAIL_LIMIT_CONFIRM"] = app.config["MAIL_LIMIT_GUIDE"] = ""
    return world


@pytest.fixture
def world(tmp_path):
    return limited_world(tmp_path)


def form_posts(world) -> dict[str, tuple[str, dict]]:
    """One valid post to each limited form, as a reader's browser sends it."""
    customer = world.contact_ids[0]
    return {
        "subscribe": (
            "/subscribe",
            {"email": "new@example.com", "consent_newsletter": "yes"},
        ),
        "download": (
            "/download",
            {"email": "d@example.com", "guide": "website-checklist"},
        ),
        "confirm": (f"/confirm/{world.tokens['confirm'][0]}", {}),
        "unsubscribe": (f"/unsubscribe/{world.tokens['unsubscribe'][0]}", {}),
        "feedback": (
            f"/feedback/{make_token(world.app, 'feedback', {'c': customer, 'k': 'x'})}",
            {"score": "9"},
        ),
    }


def post_as(world, ip: str, path: str, data: dict, forwarded: str | None = None):
    reader = Visitor(world.app, SITE)
    reader.client.environ_base["REMOTE_ADDR"] = ip
    headers = {"Accept": "application/json"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    return reader.post(path, data=data, **headers)


FORMS = ("subscribe", "download")
TOKEN_ROUTES = ("confirm", "unsubscribe", "feedback")


def test_every_form_shares_one_budget_and_refusals_store_nothing(world):
    posts = form_posts(world)
    spent = [
        post_as(world, "198.51.100.1", *posts[name])
        for name in ("subscribe", "download", "subscribe")
    ]
    assert [r.status_code for r in spent] == [200] * LIMIT
    stored = Stored(world.data_dir)
    before = stored.now()
    for name in FORMS:
        response = post_as(world, "198.51.100.1", *posts[name])
        assert response.status_code == 429, name
        assert response.json["ok"] is False
    assert changed_files(before, stored.now()) == []
    other = post_as(world, "198.51.100.2", *posts["subscribe"])
    assert other.status_code == 200  # another reader has a budget of their own


def test_links_with_a_valid_token_are_never_limited_per_address(world):
    """Mail providers post one-click unsubscribes from a handful of addresses."""
    posts = form_posts(world)
    for _ in range(LIMIT + 1):
        post_as(world, "198.51.100.4", *posts["subscribe"])  # the budget is spent
    for name in TOKEN_ROUTES:
        response = post_as(world, "198.51.100.4", *posts[name])
        assert response.status_code in (200, 410), (name, response.json)


def test_a_forged_forwarded_for_buys_no_more_posts(world):
    """Without a proxy in front (POLKU_PROXY_HOPS=0) the header is ignored."""
    path, data = form_posts(world)["subscribe"]
    codes = [
        post_as(
            world, "198.51.100.3", path, data, forwarded=f"203.0.113.{n}"
        ).status_code
        for n in range(LIMIT + 2)
    ]
    assert codes == [200] * LIMIT + [429, 429]


def test_behind_a_proxy_the_budget_is_the_readers(tmp_path):
    """With one proxy, the reader is the address it appends; what the reader
    wrote into the header before it is not believed."""
    world = limited_world(tmp_path, PROXY_HOPS=1)
    path, data = form_posts(world)["subscribe"]
    proxy = "10.0.0.1"
    codes = [
        post_as(
            world, proxy, path, data, forwarded=f"1.1.1.{n}, 203.0.113.7"
        ).status_code
        for n in range(LIMIT + 1)
    ]
    assert codes == [200] * LIMIT + [429]
    neighbour = post_as(world, proxy, path, data, forwarded="203.0.113.8")
    assert neighbour.status_code == 200


def test_login_attempts_stay_limited_whatever_the_forwarded_for(tmp_path):
    world = limited_world(tmp_path)
    client = world.app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    codes = [
        client.post(
            "/admin/login",
            data={"password": "wrong"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n in range(7)
    ]
    assert codes == [401] * 5 + [429, 429]
    right = client.post("/admin/login", data={"password": PASSWORD})
    assert right.status_code == 429  # not even the right password, for a minute
