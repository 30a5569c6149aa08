"""PostgreSQL for the benchmarks: a database per run, prefilled by COPY.

- `create_database(server, name)` makes an empty database on the server
  (a URL the benchmark may create databases with) and returns its URL;
  `drop_database(server, name)` removes it.
- `prefill(url, data_dir, n)` writes n journal events with bench/prefill.py
  into data_dir, then copies them in as `polku db migrate --from-tinydb` does
  (COPY, months partitioned), and folds the aggregates unless told not to.
- `count_events(url)` counts the stored events.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit


def connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path="/" + name))


def create_database(server: str, name: str) -> str:
    with connect(server) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return database_url(server, name)


def drop_database(server: str, name: str) -> None:
    with connect(server) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def prefill(
    url: str, data_dir: str, n: int, site_url: str, fold: bool = True
) -> dict[str, float]:
    """Fill the database with n events; return the seconds each step took."""
    from bench.prefill import prefill_journal
    from tracker.storage.postgres import PostgresStorage
    from tracker.storage.transfer import copy_tinydb

    took = {}
    started = time.perf_counter()
    prefill_journal(data_dir, n, site_url)
    took["journal"] = time.perf_counter() - started
    storage = PostgresStorage(url)
    try:
        started = time.perf_counter()
        counts = copy_tinydb(data_dir, storage)
        took["copy"] = time.perf_counter() - started
        bad = [c for c in counts if not c.ok]
        if bad:
            raise RuntimeError(f"prefill counts differ: {bad}")
        if fold:
            started = time.perf_counter()
            storage.summary()
            took["fold"] = time.perf_counter() - started
    finally:
        storage.close()
    with connect(url) as conn:
        conn.execute("VACUUM ANALYZE")
    return took


def count_events(url: str) -> int:
    with connect(url) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]
