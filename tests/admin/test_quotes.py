"""The dashboard's quote requests: open until the owner marks them answered."""

from __future__ import annotations

import re
from html import unescape

from ..conftest import Reader
from ..web.stored import contact, timeline
from ..web.test_quotes import FORM
from .conftest import csrf


def requested(admin_app, **changes):
    visitor = Reader(admin_app.test_client(), admin_app)
    assert visitor.post("/quote", data={**FORM, **changes}).status_code == 303


def answer_url(page: str) -> str:
    return unescape(re.search(r'action="([^"]+/answered)"', page).group(1))


def test_an_open_request_waits_on_the_dashboard_until_answered(admin, admin_app):
    requested(admin_app, message="Hello <script>alert(1)</script>\nA new site.")
    overview = admin.get("/admin/").get_data(as_text=True)
    assert "1 quote request waits for an answer." in overview
    page = admin.get("/admin/quotes").get_data(as_text=True)
    assert "Aino Virtanen" in page and "+358401234567" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nA new site." in page
    assert "<script>alert" not in page
    url = answer_url(page)
    response = admin.post(url, data={"csrf": csrf(admin)})
    assert response.status_code == 303
    page = admin.get("/admin/quotes").get_data(as_text=True)
    assert "No open requests." in page and "Answered lately" in page
    assert "quote request waits" not in admin.get("/admin/").get_data(as_text=True)
    kept = contact(admin_app, "aino@example.com")
    (request,) = kept["quotes"].values()
    assert request["answered_at"] and kept["lead_at"] is None
    types = [e["type"] for e in timeline(admin_app, "aino@example.com")]
    assert types == ["quote_request", "quote_answered"]
    person = admin.get(f"/admin/contacts/{kept['id']}").get_data(as_text=True)
    assert "Sent a quote request (address not verified)" in person
    assert "The quote request was marked answered" in person


def test_marking_answered_needs_the_dashboards_csrf_token(admin, admin_app):
    requested(admin_app)
    url = answer_url(admin.get("/admin/quotes").get_data(as_text=True))
    assert admin.post(url, data={"csrf": "forged"}).status_code == 400
    assert admin.post(url, data={}).status_code == 400
    other_site = admin.post(
        url, data={"csrf": csrf(admin)}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status_code == 403
    assert "Mark answered" in admin.get("/admin/quotes").get_data(as_text=True)


def test_an_unknown_request_is_404(admin, admin_app):
    requested(admin_app)
    kept = contact(admin_app, "aino@example.com")
    token = csrf(admin)
    for url in (
        f"/admin/quotes/{kept['id']}/nope/answered",
        "/admin/quotes/nobody/nope/answered",
    ):
        assert admin.post(url, data={"csrf": token}).status_code == 404


def test_the_dashboard_is_closed_to_strangers(admin_app):
    requested(admin_app)
    stranger = admin_app.test_client()
    assert stranger.get("/admin/quotes").status_code == 303
    page = stranger.post("/admin/quotes/x/y/answered", data={})
    assert page.status_code == 303 and "/admin/login" in page.headers["Location"]
