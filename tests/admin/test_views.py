"""The owner's dashboard: access, safety, and numbers that agree with the CLI."""

from __future__ import annotations

import json
import re

import pytest

from tracker.cli import cli
from tracker.db import get_storage

from ..conftest import SITE
from ..web.test_collect import GOOD, send

PASSWORD = "correct horse battery staple"
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture
def admin_app(app_factory):
    return app_factory(ADMIN_PASSWORD=PASSWORD)


@pytest.fixture
def admin(admin_app):
    client = admin_app.test_client()
    response = client.post("/admin/login", data={"password": PASSWORD})
    assert response.status_code == 303
    return client


def csrf(client) -> str:
    page = client.get("/admin/contacts").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def seed(app, campaign="spring", name="Aino"):
    from ..conftest import Reader

    reader = Reader(app.test_client(), app)
    body = {
        **GOOD,
        "url": f"{SITE}/posts/one/?utm_source=facebook&utm_campaign={campaign}",
    }
    send(reader.client, body)
    reader.subscribe(first_name=name)
    reader.post(reader.link("confirm"))
    reader.post(
        "/api/conversion",
        json_body={"email": "reader@example.com", "value": 290, "order_id": "o1"},
        Authorization="Bearer test-api-key",
    )
    with app.app_context():
        return get_storage().find_contact("reader@example.com")


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


def test_erase_from_the_dashboard(admin, admin_app):
    contact = seed(admin_app)
    url = f"/admin/contacts/{contact['id']}/erase"
    token = csrf(admin)
    unconfirmed = admin.post(url, data={"csrf": token})
    assert unconfirmed.status_code == 303
    with admin_app.app_context():
        assert get_storage().get_contact(contact["id"])
    assert admin.post(url, data={"csrf": token, "confirm": "yes"}).status_code == 303
    with admin_app.app_context():
        assert get_storage().get_contact(contact["id"]) is None


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


def test_stored_strings_are_escaped(admin, admin_app):
    contact = seed(admin_app, campaign=XSS, name=XSS)
    pages = [
        admin.get("/admin/"),
        admin.get("/admin/contacts"),
        admin.get(f"/admin/contacts/{contact['id']}"),
    ]
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "<script>alert(1)" not in html and "onerror=alert" not in html.replace(
            "onerror=alert(2)&gt;", ""
        )


def test_contact_page_shows_the_stitched_visit_with_its_campaign(admin, admin_app):
    contact = seed(admin_app, campaign="spring")
    html = admin.get(f"/admin/contacts/{contact['id']}").get_data(as_text=True)
    assert "spring" in html and "/posts/one/" in html
    assert "290" in html


def test_funnel_matches_polku_report(admin, admin_app, runner):
    seed(admin_app)
    html = admin.get("/admin/?period=30d").get_data(as_text=True)
    env = {"POLKU_DATA_DIR": admin_app.config["DATA_DIR"], "POLKU_SECRET_KEY": "x" * 40}
    report = json.loads(runner.invoke(cli, ["report", "--json"], env=env).output)
    csv_text = admin.get("/admin/funnel.csv?period=30d").get_data(as_text=True)
    counts = [int(line.split(",")[1]) for line in csv_text.strip().splitlines()[1:]]
    assert counts == [step["count"] for step in report["funnel"]]
    assert counts[2] == 1 and counts[3] == 1
    assert html


def test_filters_narrow_the_overview(admin, admin_app):
    seed(admin_app)
    send(
        admin_app.test_client(), {**GOOD, "url": f"{SITE}/posts/two/?utm_source=google"}
    )
    everything = admin.get("/admin/sources.csv").get_data(as_text=True)
    assert "facebook" in everything and "google" in everything
    only = admin.get("/admin/sources.csv?source=google").get_data(as_text=True)
    assert "google" in only and "facebook" not in only


def test_csv_neutralises_formulas(admin, admin_app):
    seed(admin_app, campaign="=HYPERLINK(1)")
    text = admin.get("/admin/campaigns.csv").get_data(as_text=True)
    assert "'=HYPERLINK(1)" in text


def test_contacts_csv_lists_everyone_with_their_stage(admin, admin_app):
    import csv
    import io

    contact = seed(admin_app)
    with admin_app.app_context(), get_storage().transaction() as people:
        # Forms refuse such a name (people.clean_name); older data may hold one.
        people.save({**contact, "first_name": "=cmd"})
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/contacts.csv").text)))
    assert [(r["email"], r["first_name"], r["stage"]) for r in rows] == [
        ("reader@example.com", "'=cmd", "customer")
    ]


def test_contacts_search_and_filter(admin, admin_app):
    seed(admin_app)
    assert "reader@example.com" in admin.get("/admin/contacts?q=reader").get_data(
        as_text=True
    )
    assert "reader@example.com" not in admin.get("/admin/contacts?q=zzz").get_data(
        as_text=True
    )
    assert "reader@example.com" in admin.get("/admin/contacts?stage=customer").get_data(
        as_text=True
    )
    assert "reader@example.com" not in admin.get("/admin/contacts?stage=lead").get_data(
        as_text=True
    )


def test_the_contact_list_follows_each_change(admin, admin_app):
    reader = seed(admin_app)
    assert reader["email"] in admin.get("/admin/contacts?stage=customer").get_data(
        as_text=True
    )
    from ..conftest import Reader

    Reader(admin_app.test_client(), admin_app).subscribe("second@example.com")
    leads = admin.get("/admin/contacts?stage=engaged").get_data(as_text=True)
    assert "second@example.com" in leads and reader["email"] not in leads
    admin_app.test_client().post(
        "/api/conversion",
        json={"email": "second@example.com", "value": 90, "order_id": "o2"},
        headers={"Authorization": "Bearer test-api-key"},
    )
    customers = admin.get("/admin/contacts?stage=customer").get_data(as_text=True)
    assert "second@example.com" in customers and reader["email"] in customers


def test_feedback_and_referrals_panels(admin, admin_app):
    from tracker.web import tokens

    from ..conftest import Reader

    contact = seed(admin_app)
    reader = Reader(admin_app.test_client(), admin_app)
    with admin_app.test_request_context():
        token = tokens.make("feedback", {"c": contact["id"], "k": "d1"})
    reader.post(f"/feedback/{token}", data={"score": "4", "comment": "Too slow"})
    reader.subscribe("friend@example.com", ref=contact["ref_code"])
    reader.post(reader.link("confirm", to="friend@example.com"))
    html = admin.get("/admin/").get_data(as_text=True)
    assert "Too slow" in html and "-100" in html
    referrals = admin.get("/admin/referrals.csv").get_data(as_text=True)
    assert "reader@example.com" in referrals and ",1,1," in referrals


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
#
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
