"""No open redirect: every route that redirects stays on the site, whatever
target a link or a form carries.

Forms redirect to the site's status pages (never to a target from the
request); the emailed click link to the page signed inside its token; the
dashboard's login to `?next=` inside the dashboard. Each is tried with the
targets browsers are known to read as another site.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from ..conftest import SITE
from .conftest import (
    DEV_ORIGIN,
    PASSWORD,
    Visitor,
    dev_manifest,
    embedded_tracker,
    make_token,
    on_site,
    seed,
    write_manifest,
)

EVIL = "evil.example"
EVIL_URL = "http://evil.example"
TARGETS = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https:/evil.example",
    "\thttps://evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://kettu.example@evil.example/",
    "https://kettu.example.evil.example/",
    "https://kettu.example\\@evil.example/",
    "https://evil.example/https://kettu.example/",
    "%2F%2Fevil.example",
    "%252F%252Fevil.example",
    "/admin//evil.example",
    "/admin/\\evil.example",
    "/admin/%2F%2Fevil.example",
    "/admin/%0D%0ALocation:%20https://evil.example",
    "http://[",
]
HOSTS = {"kettu.example", "localhost"}


def location(response) -> str | None:
    return response.headers.get("Location")


def assert_on_site(response, hosts=HOSTS) -> None:
    target = location(response)
    assert target is None or on_site(target, hosts), target


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One seeded tracker for the module: these requests store little."""
    return seed(embedded_tracker(tmp_path_factory.mktemp("redirects") / "var"), SITE)


@pytest.mark.parametrize("target", TARGETS)
def test_login_next_stays_in_the_dashboard(world, target):
    client = world.app.test_client()
    for sent in (target, quote(target, safe="")):
        login = client.post("/admin/login?next=" + sent, data={"password": PASSWORD})
        assert login.status_code == 303 and location(login).startswith("/admin/")
        assert_on_site(login)


@pytest.mark.parametrize("target", TARGETS)
def test_unauthenticated_dashboard_sends_to_its_own_login(world, target):
    response = world.app.test_client().get("/admin/contacts?next=" + quote(target))
    assert response.status_code == 303
    assert location(response).startswith("/admin/login?next=")
    assert_on_site(response)


@pytest.mark.parametrize("target", TARGETS)
def test_a_signed_click_link_never_leaves_the_site(world, target):
    """Even a target signed with our key (a bug elsewhere, a leaked token)."""
    token = make_token(world.app, "click", {"c": world.contact_ids[0], "u": target})
    response = world.app.test_client().get(f"/click/{token}")
    assert 400 <= response.status_code < 500 and location(response) is None


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("route", ["/subscribe", "/download"])
@pytest.mark.parametrize("email", ["a@example.com", "not an address"])
def test_forms_ignore_redirect_fields(world, route, target, email):
    """Forms go to the site's thank-you or error page; no field chooses."""
    fields = {name: target for name in ("next", "redirect", "return_to", "url")}
    data = {**fields, "email": email, "consent_newsletter": "yes"}
    response = Visitor(world.app, SITE).post(route, data=data)
    assert response.status_code == 303
    assert location(response).startswith(SITE + "/")


@pytest.mark.parametrize("origin", [None, "http://localhost@evil.example", EVIL_URL])
@pytest.mark.parametrize("host", [None, EVIL, "localhost:80@evil.example"])
def test_development_redirects_ignore_a_foreign_origin_or_host(tmp_path, origin, host):
    """With no site URL, redirects are built on the reader's local origin:
    never on another site's, whatever Origin or Host the request names."""
    app = embedded_tracker(tmp_path / "var")
    write_manifest(tmp_path / "var", dev_manifest())
    client = app.test_client()
    headers = {"Origin": origin} if origin else {}
    headers |= {"Host": host} if host else {}
    data = {"email": "a@example.com", "consent_newsletter": "yes"}
    response = client.post("/subscribe", data=data, headers=headers)
    assert response.status_code == 303
    assert_on_site(response, {"127.0.0.1", "localhost", "::1"})
    plain = client.post("/subscribe", data=data, headers={"Origin": DEV_ORIGIN})
    assert location(plain) == DEV_ORIGIN + "/thanks-signup/"


@pytest.mark.parametrize(
    "target, safe",
    [
        ("/admin/contacts", True),
        ("https://kettu.example/oops/", True),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("https:evil.example", False),
        ("https:/evil.example", False),
        (" https://evil.example", False),
        ("\x01https://evil.example", False),
        ("\thttps://evil.example", False),
        ("javascript:alert(1)", False),
        ("https://kettu.example@evil.example/", False),
        ("http://[", False),
    ],
)
def test_the_off_site_check_itself(target, safe):
    assert on_site(target, {"kettu.example"}) is safe
