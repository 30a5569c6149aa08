"""The storage interface and its backends; `open_storage` picks one from settings.

No Flask here: the app hands the configuration over (see tracker/db.py).
"""

from __future__ import annotations

from .base import People, Record, Storage, StorageError, StorageUnavailable

__all__ = [
    "People",
    "Record",
    "Storage",
    "StorageError",
    "StorageUnavailable",
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

        return PostgresStorage(
            url,
            config.get("DATA_DIR") or None,
            float(config.get("SHIP_INTERVAL", 0.5)),
            float(config.get("FLUSH_INTERVAL", 1.0)),
        )
    if url:
        raise StorageError(
            f"POLKU_DATABASE_URL: unsupported database {url.split(':')[0]!r}"
        )
    from .tinydb_store import TinyDBStorage

    return TinyDBStorage(
        config["DATA_DIR"],
        float(config.get("FLUSH_INTERVAL", 1.0)),
        int(float(config.get("PEOPLE_COMPACT_MB", 64)) * (1 << 20)),
    )
