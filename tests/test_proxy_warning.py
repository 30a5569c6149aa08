"""X-Forwarded-For with POLKU_PROXY_HOPS=0 means a proxy the tracker does not
know about: every reader would share the proxy's address and one rate limit.
The tracker says so in its log, once per process."""

from __future__ import annotations

import json
import logging
import urllib.request

from tracker import create_app

from .conftest import write_manifest
from .web.test_collect import GOOD, send

PROXY = "203.0.113.9"


def tracker(tmp_path, **settings):
    """The tracker on the embedded backend (which one does not matter here)."""
    data = tmp_path / "var"
    write_manifest(data)
    config = {"TESTING": True, "DATA_DIR": str(data), "DATABASE_URL": ""}
    return create_app({**config, "RATELIMIT_ENABLED": False, **settings})


def warnings_in(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "X-Forwarded-For" in r.getMessage()
    ]


def test_forwarded_for_without_hops_is_logged_once(tmp_path, caplog):
    client = tracker(tmp_path).test_client()
    caplog.set_level(logging.WARNING)
    assert send(client, GOOD).status_code == 202
    assert warnings_in(caplog) == []
    for n in range(3):
        headers = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert send(client, GOOD, **headers).status_code == 202
    assert client.get("/healthz", headers={"X-Forwarded-For": PROXY}).json
    (warning,) = warnings_in(caplog)
    assert "POLKU_PROXY_HOPS" in warning


def test_no_warning_when_the_proxy_is_declared(tmp_path, caplog):
    client = tracker(tmp_path, PROXY_HOPS=1).test_client()
    caplog.set_level(logging.WARNING)
    for _ in range(2):
        assert send(client, GOOD, **{"X-Forwarded-For": PROXY}).status_code == 202
    assert warnings_in(caplog) == []


def test_each_app_warns_for_itself(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    from pelican.log import LimitFilter

    for n in range(2):
        LimitFilter._raised_messages.clear()  # Pelican's filter drops repeats
        client = tracker(tmp_path / str(n)).test_client()
        send(client, GOOD, **{"X-Forwarded-For": PROXY})
    assert len(warnings_in(caplog)) == 2


def test_gunicorn_logs_it_once(tmp_path):
    """The real server: one worker, several forwarded beacons, one line in its log."""
    from .reliability.harness import Server

    data = tmp_path / "var"
    write_manifest(data)
    log = tmp_path / "gunicorn.log"
    server = Server(data, log, workers=1)
    server.start()
    try:
        for n in range(5):
            request = urllib.request.Request(
                server.base + "/api/event",
                data=json.dumps(GOOD).encode(),
                method="POST",
                headers={
                    "Origin": "https://kettu.example",
                    "Content-Type": "text/plain",
                    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
                    "X-Forwarded-For": f"198.51.100.{n}",
                },
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 202
    finally:
        server.stop()
    lines = [line for line in log.read_text().splitlines() if "X-Forwarded-For" in line]
    assert len(lines) == 1, lines
    assert "POLKU_PROXY_HOPS" in lines[0]
