"""The connection pool, its errors, advisory locks and the schema migrations."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool

from ..base import StorageUnavailable

MIGRATIONS = os.path.join(os.path.dirname(__file__), os.pardir, "migrations")


def unavailable(e: psycopg.Error) -> StorageUnavailable:
    """The 503 the tracker answers while the database is down or full."""
    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
    return StorageUnavailable(
        f"Cannot store data now: the database is unavailable ({first}). "
        "Try again shortly."
    )


def migration_files() -> list[tuple[str, str]]:
    """Return (version, SQL) of every migration, in the order they apply."""
    names = sorted(n for n in os.listdir(MIGRATIONS) if n.endswith(".sql"))
    found = []
    for name in names:
        with open(os.path.join(MIGRATIONS, name), encoding="utf-8") as f:
            found.append((name.removesuffix(".sql"), f.read()))
    return found


def lock(conn: psycopg.Connection, name: str) -> None:
    """Take a transaction-level advisory lock, one per name and schema."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':' || %s))",
        [name],
    )


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply the migrations not applied yet; return their versions.

    Under an advisory lock, in one transaction: two servers starting at once
    apply each migration once, and a failed migration leaves nothing behind.
    """
    with conn.transaction():
        lock(conn, "migrations")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
        applied = []
        for version, sql in migration_files():
            if version in done:
                continue
            conn.execute(sql)
            conn.execute(
                "INSERT INTO schema_migrations (version) VALUES (%s)", [version]
            )
            applied.append(version)
        return applied


def configure(conn: psycopg.Connection) -> None:
    """Parse documents with orjson: the fold reads every event once."""
    set_json_loads(orjson.loads, conn)


class Database:
    """A pool of autocommit connections, opened (and migrated) on first use.

    Opened lazily, so each server process (gunicorn forks after loading the
    app) gets its own; an unreachable database is a StorageUnavailable, and
    the next call tries again.
    """

    def __init__(self, url: str, max_size: int = 8) -> None:
        self.url, self.max_size = url, max_size
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()

    def _kwargs(self) -> dict:
        kwargs: dict = {"autocommit": True}
        if "connect_timeout" not in conninfo_to_dict(self.url):
            kwargs["connect_timeout"] = 5
        return kwargs

    def migrate(self) -> list[str]:
        """Apply pending migrations over one plain connection; return them."""
        try:
            with psycopg.connect(self.url, **self._kwargs()) as conn:
                return migrate(conn)
        except psycopg.OperationalError as e:
            raise unavailable(e) from e

    def _open(self) -> ConnectionPool:
        """Migrate first (failing fast when the database is down), then open
        the pool."""
        self.migrate()
        pool = ConnectionPool(
            self.url,
            kwargs=self._kwargs(),
            min_size=1,
            max_size=self.max_size,
            open=False,
            timeout=5.0,
            num_workers=1,
            name="polku",
            configure=configure,
        )
        try:
            pool.open(wait=True, timeout=5.0)
        except BaseException:
            pool.close()
            raise
        return pool

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        """Lend a connection; database outages become StorageUnavailable."""
        try:
            if self._pool is None:
                with self._lock:
                    if self._pool is None:
                        self._pool = self._open()
            with self._pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as e:
            raise unavailable(e) from e

    @contextmanager
    def transaction(self, lock_name: str | None = None) -> Iterator[psycopg.Connection]:
        """A connection inside one transaction, under an advisory lock if named."""
        with self.connect() as conn, conn.transaction():
            if lock_name:
                lock(conn, lock_name)
            yield conn

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
