"""The owner's dashboard: access and safety (login, sessions, CSRF, origins)."""

from __future__ import annotations

import pytest

from tracker.db import get_storage

from .conftest import PASSWORD, csrf, seed


def test_admin_is_off_without_a_password(client):
    response = client.get("/admin/")
    assert response.status_code == 503
    assert b"POLKU_ADMIN_PASSWORD" in response.data


ROUTES = [
    ("get", "/admin/"),
    ("get", "/admin/contacts"),
    ("get", "/admin/contacts/abc"),
    ("get", "/admin/contacts/abc/export.json"),
    ("get", "/admin/sources.csv"),
    ("get", "/admin/contacts.csv"),
    ("post", "/admin/contacts/abc/erase"),
    ("post", "/admin/logout"),
]


@pytest.mark.parametrize("method, path", ROUTES)
def test_every_admin_route_refuses_without_login(admin_app, method, path):
    response = getattr(admin_app.test_client(), method)(path)
    assert response.status_code == 303
    assert "/admin/login" in response.headers["Location"]


def test_wrong_password_is_refused(admin_app):
    response = admin_app.test_client().post("/admin/login", data={"password": "nope"})
    assert response.status_code == 401


def test_login_attempts_are_rate_limited(app_factory):
    app = app_factory(ADMIN_PASSWORD=PASSWORD, RATELIMIT_ENABLED=True)
    client = app.test_client()
    codes = [
        client.post("/admin/login", data={"password": "x"}).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]


def test_no_open_redirect_after_login(admin_app):
    client = admin_app.test_client()
    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/admin/\\evil",
        "/elsewhere",
        "/admin/%0D%0ASet-Cookie:%20x=1",  # was a 500: line breaks in Location
    ):
        response = client.post(
            "/admin/login?next=" + target, data={"password": PASSWORD}
        )
        assert response.headers["Location"].endswith("/admin/"), target


def test_admin_posts_need_a_csrf_token(admin, admin_app):
    contact = seed(admin_app)
    url = f"/admin/contacts/{contact['id']}/erase"
    assert admin.post(url, data={"confirm": "yes"}).status_code == 400
    assert admin.post(url, data={"confirm": "yes", "csrf": "forged"}).status_code == 400
    assert admin.post("/admin/logout").status_code == 400
    with admin_app.app_context():
        assert get_storage().get_contact(contact["id"])


def test_logout(admin):
    token = csrf(admin)
    assert admin.post("/admin/logout", data={"csrf": token}).status_code == 303
    assert admin.get("/admin/").status_code == 303


@pytest.mark.parametrize("path", ["/admin/", "/admin/login", "/admin/contacts"])
def test_security_headers(admin, path):
    response = admin.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(app_factory):
    app = app_factory(ADMIN_PASSWORD=PASSWORD, ENV="production", SECRET_KEY="s" * 40)
    response = app.test_client().post(
        "/admin/login", data={"password": PASSWORD}, base_url="https://kettu.example"
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Path=/admin" in cookie


def test_a_session_copied_before_logout_is_refused_after(admin, admin_app):
    """The session is a signed cookie: a copy kept from before the logout
    stayed valid for its 12 hours."""
    name = admin_app.config["SESSION_COOKIE_NAME"]
    copied = admin.get_cookie(name, path="/admin").value
    assert admin.post("/admin/logout", data={"csrf": csrf(admin)}).status_code == 303
    thief = admin_app.test_client()
    thief.set_cookie(name, copied, path="/admin")
    refused = thief.get("/admin/contacts")
    assert refused.status_code == 303 and "/admin/login" in refused.headers["Location"]
    again = admin_app.test_client()
    assert again.post("/admin/login", data={"password": PASSWORD}).status_code == 303
    assert again.get("/admin/contacts").status_code == 200


# -- the dashboard's own origin ------------------------------------------------------

# A page elsewhere can make the owner's browser post to the dashboard; the
# browser says where the form came from (Origin, or Referer). The test client's
# dashboard lives at http://localhost.


OWN = "http://localhost"
FOREIGN_ORIGINS = [
    "http://evil.example",
    "http://localhost.evil.example",
    "http://localhost:5000",
    "https://localhost",
    "null",
    "http://[::1",
    "",
]


def logged_out(client) -> bool:
    response = client.get("/admin/")
    return response.status_code == 303 and "/admin/login" in response.location


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_login_from_another_origin_is_refused(admin_app, origin):
    client = admin_app.test_client()
    response = client.post(
        "/admin/login", data={"password": PASSWORD}, headers={"Origin": origin}
    )
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers
    assert logged_out(client)


def test_login_named_elsewhere_by_its_referer_is_refused(admin_app):
    client = admin_app.test_client()
    for referer in ("http://evil.example/page", "http://localhost:5000/admin/login"):
        response = client.post(
            "/admin/login", data={"password": PASSWORD}, headers={"Referer": referer}
        )
        assert response.status_code == 403, referer
        assert logged_out(client)


def test_a_browser_saying_cross_site_is_refused(admin_app):
    """Sec-Fetch-Site, which no page can forge, decides when Origin is hidden."""
    client = admin_app.test_client()
    for site in ("cross-site", "same-site"):
        for origin in ({}, {"Origin": "null"}):
            response = client.post(
                "/admin/login",
                data={"password": PASSWORD},
                headers={"Sec-Fetch-Site": site, **origin},
            )
            assert response.status_code == 403, (site, origin)
    assert logged_out(client)


def test_the_refusal_says_why(admin_app):
    response = admin_app.test_client().post(
        "/admin/login",
        data={"password": PASSWORD},
        headers={"Origin": "http://evil.example", "Accept": "text/html"},
    )
    text = response.get_data(as_text=True)
    assert "http://evil.example" in text and "nothing was changed" in text


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": OWN},
        {"Origin": "HTTP://LOCALHOST:80"},
        {"Referer": OWN + "/admin/login"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},  # a no-referrer page
        {"Origin": OWN, "Sec-Fetch-Site": "same-origin"},
        {},  # no browser said where from: as before (the login has no token)
    ],
)
def test_login_from_the_dashboard_itself_works(admin_app, headers):
    client = admin_app.test_client()
    response = client.post("/admin/login", data={"password": PASSWORD}, headers=headers)
    assert response.status_code == 303
    assert client.get("/admin/").status_code == 200


def test_erase_from_another_origin_changes_nothing(admin, admin_app):
    contact = seed(admin_app)
    url = f"/admin/contacts/{contact['id']}/erase"
    fields = {"csrf": csrf(admin), "confirm": "yes"}
    for headers in (
        {"Origin": "http://evil.example"},
        {"Referer": "http://evil.example/x"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        assert admin.post(url, data=fields, headers=headers).status_code == 403
        with admin_app.app_context():
            assert get_storage().get_contact(contact["id"]), headers
    for headers in ({"Origin": "http://evil.example"}, {"Origin": "null"}):
        refused = admin.post("/admin/logout", data=fields, headers=headers)
        assert refused.status_code == 403
    assert admin.get("/admin/contacts").status_code == 200  # still logged in
    erased = admin.post(url, data=fields, headers={"Origin": OWN})
    assert erased.status_code == 303
    with admin_app.app_context():
        assert get_storage().get_contact(contact["id"]) is None


def test_the_own_origin_still_needs_the_csrf_token(admin, admin_app):
    contact = seed(admin_app)
    url = f"/admin/contacts/{contact['id']}/erase"
    headers = {"Origin": OWN}
    assert admin.post(url, data={"confirm": "yes"}, headers=headers).status_code == 400
    with admin_app.app_context():
        assert get_storage().get_contact(contact["id"])


def test_behind_a_declared_proxy_the_public_origin_is_the_dashboards(app_factory):
    app = app_factory(ADMIN_PASSWORD=PASSWORD, PROXY_HOPS=1)
    proxied = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "track.kettu.example",
    }
    client = app.test_client()
    response = client.post(
        "/admin/login",
        data={"password": PASSWORD},
        headers={**proxied, "Origin": "https://track.kettu.example"},
    )
    assert response.status_code == 303


def test_behind_an_undeclared_proxy_the_refusal_names_the_setting(admin_app):
    response = admin_app.test_client().post(
        "/admin/login",
        data={"password": PASSWORD},
        headers={"Origin": "https://track.kettu.example", "X-Forwarded-For": "1.2.3.4"},
    )
    assert response.status_code == 403
    assert "POLKU_PROXY_HOPS" in response.get_data(as_text=True)
