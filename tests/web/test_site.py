"""What the tracker knows of the site: origins and the links built on them."""

from __future__ import annotations

import pytest

from tracker.web import site as sitemeta


@pytest.mark.parametrize("url", ["http://[::1", "http://[", "https://]x"])
def test_a_malformed_origin_is_no_origin(url):
    assert sitemeta.origin_of(url) == ""
    assert sitemeta.is_dev_origin(url) is False


@pytest.mark.parametrize("path", ["/api/event", "/subscribe", "/confirm/x"])
def test_a_malformed_origin_header_is_refused_not_a_500(client, path):
    """`Origin: http://[::1` (an unclosed bracket) raised in every route's
    origin check."""
    headers = {"Origin": "http://[::1", "Accept": "application/json"}
    response = client.post(path, data=b"{}", headers=headers)
    assert 400 <= response.status_code < 500
    assert client.options(path, headers={"Origin": "http://[::1"}).status_code < 500
