"""Every dashboard route, as the URL map lists them (so a new one is covered):
refused without login, and every POST refused without the session's CSRF
token. Nothing is stored by a refused request.
"""

from __future__ import annotations

import pytest
from flask import url_for

from ..conftest import SITE
from .conftest import PASSWORD, Stored, changed_files, embedded_tracker, log_in, seed

OPEN = {"admin.login", "admin.static"}  # the login page and its stylesheet


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return seed(embedded_tracker(tmp_path_factory.mktemp("access") / "var"), SITE)


def admin_calls(world) -> list[tuple[str, str]]:
    """(method, URL) of every dashboard route behind the login."""
    values = {"contact_id": world.contact_ids[0], "table": "sources", "quote_id": "q"}
    calls = []
    with world.app.test_request_context():
        for rule in world.app.url_map.iter_rules():
            if rule.endpoint.startswith("admin.") and rule.endpoint not in OPEN:
                url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    calls.append((method, url))
    return calls


def test_the_dashboard_has_routes_to_check(world):
    urls = {url for _, url in admin_calls(world)}
    assert "/admin/" in urls and "/admin/logout" in urls


@pytest.mark.parametrize("cookie", [None, "session=forged.value.sig"])
def test_every_dashboard_route_refuses_without_login(world, cookie):
    client = world.app.test_client(use_cookies=False)
    headers = {"Cookie": cookie} if cookie else {}
    stored = Stored(world.data_dir)
    before = stored.now()
    for method, url in admin_calls(world):
        response = client.open(url, method=method, headers=headers, data={})
        assert response.status_code == 303, (method, url)
        assert response.headers["Location"].startswith("/admin/login?next="), url
    assert changed_files(before, stored.now()) == []


@pytest.mark.parametrize("csrf", [None, "", "forged-token"])
def test_every_dashboard_post_needs_the_sessions_csrf_token(world, csrf):
    admin, _ = log_in(world.app, PASSWORD)
    fields = {"confirm": "yes"} | ({"csrf": csrf} if csrf is not None else {})
    stored = Stored(world.data_dir)
    before = stored.now()
    posts = [url for method, url in admin_calls(world) if method == "POST"]
    assert posts
    for url in posts:
        assert admin.post(url, data=fields).status_code == 400, url
    assert changed_files(before, stored.now()) == []
    assert admin.get("/admin/contacts").status_code == 200  # still logged in


CROSS_ORIGIN = [
    {"Origin": "https://evil.example"},
    {"Origin": SITE},  # the public site is not the dashboard
    {"Origin": "null"},
    {"Referer": "https://evil.example/page"},
    {"Sec-Fetch-Site": "cross-site"},
]


@pytest.mark.parametrize("headers", CROSS_ORIGIN, ids=lambda h: str(h))
def test_every_dashboard_post_from_another_origin_is_refused(world, headers):
    """With the session and its valid CSRF token, as a page elsewhere would
    make the owner's own browser send them: 403, nothing stored."""
    admin, token = log_in(world.app, PASSWORD)
    stored = Stored(world.data_dir)
    before = stored.now()
    posts = [url for method, url in admin_calls(world) if method == "POST"]
    for url in posts:
        response = admin.post(
            url, data={"confirm": "yes", "csrf": token}, headers=headers
        )
        assert response.status_code == 403, url
    assert changed_files(before, stored.now()) == []
    assert admin.get("/admin/contacts").status_code == 200  # still logged in


@pytest.mark.parametrize("headers", CROSS_ORIGIN, ids=lambda h: str(h))
def test_login_from_another_origin_opens_no_session(world, headers):
    client = world.app.test_client()
    response = client.post("/admin/login", data={"password": PASSWORD}, headers=headers)
    assert response.status_code == 403
    assert client.get_cookie(world.session_name, path="/admin") is None
    assert client.get("/admin/contacts").status_code == 303
