"""What the site's script sends, checked and turned into journey fields (pure)."""

from __future__ import annotations

import pytest

from tracker.web import beacon


@pytest.mark.parametrize("url", ["http://[::1", "https://[/posts/one/"])
def test_an_unreadable_page_url_is_refused(url):
    with pytest.raises(beacon.InvalidBeacon):
        beacon.page_fields(url, None)


def test_an_unreadable_referrer_is_no_referrer():
    """`referrer: "http://[::1"` raised ValueError (a 500) from urlsplit."""
    fields = beacon.page_fields("https://kettu.example/posts/one/", "http://[::1")
    assert fields["referrer"] is None and fields["entry"] is True


def test_the_pixel_takes_an_unreadable_referrer(client):
    query = {"u": "/posts/one/", "r": "http://[::1"}
    assert client.get("/api/pixel.gif", query_string=query).status_code == 200
    query = {"u": "http://[::1/posts/one/"}
    assert client.get("/api/pixel.gif", query_string=query).status_code == 400


def test_json_nested_past_the_recursion_limit_is_invalid():
    """5,000 `[` (within the 8 KB limit) made json.loads raise RecursionError."""
    with pytest.raises(beacon.InvalidBeacon, match="not valid JSON"):
        beacon.parse(b"[" * 5000)


@pytest.mark.parametrize(
    "body",
    [
        b'{"url": "https://kettu.example/", "title": "\\ud800"}',
        b'{"url": "https://kettu.example/\\udc80"}',
        b'{"url": "https://kettu.example/", "props": {"\\ud83d": 1}}',
    ],
)
def test_half_a_surrogate_pair_is_invalid(body):
    """JSON may escape half a surrogate pair; it could not be written (a 500)."""
    with pytest.raises(beacon.InvalidBeacon, match="not valid Unicode"):
        beacon.parse(body)


def test_a_whole_surrogate_pair_is_fine():
    body = b'{"url": "https://kettu.example/", "title": "\\ud83d\\ude00"}'
    assert beacon.parse(body)["title"] == "\U0001f600"
