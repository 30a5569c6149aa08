"""Two tracker servers, as on two machines, writing to one PostgreSQL database.

Each gunicorn instance has a data directory of its own (the manifest, and the
pageview journal its shipper copies into the database) and the same
POLKU_DATABASE_URL. Under load on both: every acknowledged beacon is stored
exactly once, an order sent to both servers at once is recorded once, and
both dashboards show the same totals, every pageview counted, within two
seconds of the last one.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time

from ..conftest import SITE, write_manifest
from .harness import (
    HOST,
    Load,
    Server,
    check_data_opens,
    check_stored_once,
    read_database,
    report,
    running,
)

API_KEY = "reliability-api-key"
PASSWORD = "reliability-password"


def servers(tmp_path, url: str) -> list[Server]:
    found = []
    for name in ("one", "two"):
        data_dir = tmp_path / name
        write_manifest(data_dir)
        env = {
            "POLKU_DATABASE_URL": url,
            "POLKU_API_KEY": API_KEY,
            "POLKU_ADMIN_PASSWORD": PASSWORD,
        }
        found.append(Server(data_dir, tmp_path / f"{name}.log", workers=2, env=env))
    return found


def post_order(port: int, order_id: str) -> int:
    body = json.dumps(
        {
            "email": "buyer@example.com",
            "kind": "purchase",
            "value": 10,
            "order_id": order_id,
        }
    )
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request(
            "POST",
            "/api/conversion",
            body,
            {
                "Authorization": f"Bearer {API_KEY}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Origin": SITE,
            },
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def same_order_everywhere(ports: list[int], order_id: str) -> list[int]:
    """Send one order id from 8 threads to both servers at once."""
    statuses: list[int] = []
    threads = [
        threading.Thread(
            target=lambda p=ports[n % 2]: statuses.append(post_order(p, order_id))
        )
        for n in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def dashboard_totals(port: int) -> list[int]:
    """The overview's visitors and pageviews, as the owner reads them."""
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(
            "POST",
            "/admin/login",
            f"password={PASSWORD}",
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"http://{HOST}:{port}",  # the dashboard's own
            },
        )
        response = conn.getresponse()
        response.read()
        cookie = response.getheader("Set-Cookie", "").split(";")[0]
        conn.request("GET", "/admin/", headers={"Cookie": cookie})
        page = conn.getresponse().read().decode()
    finally:
        conn.close()
    values = re.findall(r'class="kpi-value">([^<]+)<', page)[:2]
    assert len(values) == 2, page[:2000]
    return [int(re.sub(r"\D", "", v)) for v in values]


def dashboards_agree(ports: list[int], pageviews: int, within: float = 10.0):
    """Both dashboards' totals, once they show every acknowledged pageview
    (each server ships its journal every half second), or after `within`."""
    deadline = time.monotonic() + within
    while True:
        totals = [dashboard_totals(port) for port in ports]
        if all(t[1] == pageviews for t in totals) or time.monotonic() > deadline:
            return totals
        time.sleep(0.1)


def test_two_servers_on_one_database(tmp_path, request, capsys, pg_url):
    seconds = 30.0 if request.config.getoption("--slow") else 6.0
    one, two = servers(tmp_path, pg_url)
    load = Load([one.port, two.port], threads=8, max_seconds=seconds + 60)
    with running(load, one, two):
        time.sleep(seconds / 2)
        orders = same_order_everywhere([one.port, two.port], "A-1001")
        time.sleep(seconds / 2)
        stats = load.stop()
        stopped = time.monotonic()
        totals = dashboards_agree([one.port, two.port], len(stats.acknowledged))
        agreed = time.monotonic() - stopped

    assert not stats.crashes, stats.crashes
    assert stats.statuses() == {202: len(stats.outcomes)}, stats.statuses()
    stored = check_stored_once(stats, read_database(pg_url))
    assert set(stored) == stats.acknowledged
    assert set(orders) <= {200, 201, 202} and orders, orders
    assert totals[0] == totals[1], totals
    assert totals[0][1] == len(stored), (totals, len(stored))
    assert agreed <= 2.0, f"the dashboards agreed only after {agreed:.1f} s"
    check_data_opens(tmp_path / "one", len(stored), url=pg_url)
    check_order_once(pg_url)
    report(
        capsys,
        "two servers, one PostgreSQL database",
        stats,
        stored,
        events_per_s=f"{stats.rate():.0f}",
        dashboards=totals,
        dashboards_agreed_after_s=f"{agreed:.2f}",
        order_answers=sorted(orders),
    )


def check_order_once(url: str) -> None:
    from tracker.storage.postgres import PostgresStorage

    storage = PostgresStorage(url)
    try:
        buyer = storage.find_contact("buyer@example.com")
        assert buyer["orders"].count("A-1001") == 1, buyer["orders"]
        purchases = [
            e for e in storage.decisions(buyer["id"]) if e["type"] == "purchase"
        ]
        assert len(purchases) == 1, purchases
    finally:
        storage.close()


def test_a_graceful_stop_ships_what_is_left(tmp_path, capsys, pg_url):
    """A server stopped (SIGTERM) before its shipper's next turn: each worker
    ships the rest as it exits, so nothing waits for a restart."""
    data_dir = tmp_path / "one"
    write_manifest(data_dir)
    env = {"POLKU_DATABASE_URL": pg_url, "POLKU_SHIP_INTERVAL": "3600"}
    server = Server(data_dir, tmp_path / "one.log", workers=2, env=env)
    load = Load([server.port], threads=4, max_seconds=60)
    with running(load, server):
        time.sleep(2)
        stats = load.stop()
        assert read_database(pg_url).events == []  # all still in the journal
    stored = check_stored_once(stats, read_database(pg_url))
    assert set(stored) == stats.acknowledged and stored
    report(capsys, "graceful stop ships the rest", stats, stored)
