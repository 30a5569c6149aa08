"""The dashboard's fixtures: an app with a password, a logged-in client; and the
helpers its tests share (the CSRF token, a reader seeded through the app)."""

from __future__ import annotations

import re

import pytest

from tracker.db import get_storage

from ..conftest import SITE
from ..web.test_collect import GOOD, send

PASSWORD = "correct horse battery staple"


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
