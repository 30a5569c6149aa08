"""Open the configured backend once per process and hand it to the views."""

from __future__ import annotations

from flask import Flask, current_app

from .base import People, Record, Storage, StorageError, StorageUnavailable

__all__ = [
    "People",
    "Record",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "get_storage",
    "init_app",
    "open_storage",
]


def open_storage(config: dict) -> Storage:
    """Return the backend the settings ask for: memory, PostgreSQL or TinyDB."""
    url = config.get("DATABASE_URL") or ""
    if url == "memory://":
        from .memory import MemoryStorage

        return MemoryStorage()
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStorage

        return PostgresStorage(url)
    if url:
        raise StorageError(
            f"POLKU_DATABASE_URL: unsupported database {url.split(':')[0]!r}"
        )
    from .tinydb_store import TinyDBStorage

    return TinyDBStorage(config["DATA_DIR"], float(config.get("FLUSH_INTERVAL", 1.0)))


def get_storage() -> Storage:
    """Return this app's storage, opened on first use (after a server forks)."""
    ext = current_app.extensions
    if "polku.storage" not in ext:
        ext["polku.storage"] = open_storage(current_app.config)
    return ext["polku.storage"]


def init_app(app: Flask) -> None:
    """Storage lives as long as the process; open it lazily so forks get their own."""
    app.extensions.pop("polku.storage", None)
