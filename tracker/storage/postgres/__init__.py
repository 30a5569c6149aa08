"""The PostgreSQL backend (`POLKU_DATABASE_URL=postgresql://...`)."""

from .store import PostgresStorage

__all__ = ["PostgresStorage"]
