"""The PostgreSQL test database: a fresh schema per test, and what it holds.

`POLKU_TEST_DATABASE_URL` (read at import, before the fixtures clear every
POLKU_* variable) names a database the tests may fill; `.ci/run` creates one
per run. Without it the PostgreSQL tests skip, and say why.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

URL = os.environ.get("POLKU_TEST_DATABASE_URL", "")
SKIP = (
    "POLKU_TEST_DATABASE_URL not set: the PostgreSQL backend is not tested "
    "(.ci/run sets it)"
)


def with_options(url: str, schema: str) -> str:
    """The URL with a search_path and an application name that mark the schema."""
    options = quote(f"-c search_path={schema}")
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={options}&application_name={schema}"


def connect():
    import psycopg

    return psycopg.connect(URL, autocommit=True)


@contextlib.contextmanager
def schema() -> Iterator[str]:
    """Yield the URL of a new empty schema; drop it (and its sessions) afterwards."""
    if not URL:
        pytest.skip(SKIP)
    name = "t_" + uuid.uuid4().hex[:16]
    with connect() as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield with_options(URL, name)
    finally:
        with connect() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                [name],
            )
            conn.execute(f"DROP SCHEMA {name} CASCADE")


@contextlib.contextmanager
def closing_storages(monkeypatch) -> Iterator[None]:
    """Close every storage opened meanwhile (apps and CLI runs never close theirs)."""
    import tracker.storage

    opened = []
    real = tracker.storage.open_storage

    def tracking(config):
        backend = real(config)
        opened.append(backend)
        return backend

    monkeypatch.setattr(tracker.storage, "open_storage", tracking)
    try:
        yield
    finally:
        for backend in opened:
            backend.close()


def dump(url: str | None) -> bytes:
    """Every row of every table in the URL's schema, as COPY text."""
    if not url:
        return b""
    import psycopg

    chunks = []
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
        for (table,) in tables:
            query = f"COPY (SELECT * FROM {table}) TO STDOUT"
            with conn.cursor() as cur, cur.copy(query) as copy:
                chunks.extend(bytes(data) for data in copy)
    return b"".join(chunks)
