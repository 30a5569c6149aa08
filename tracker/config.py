"""Tracker settings: one table, read from `POLKU_*` environment variables.

Settings are data so that the README and the tests can check every one is
documented, and production checks live in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

DEV_SECRET = "dev"
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS = (
    Setting("ENV", "development", "`production` turns on the production checks."),
    Setting(
        "SECRET_KEY",
        DEV_SECRET,
        "Signs tokens and sessions; at least 32 characters in production.",
    ),
    Setting(
        "DATA_DIR", "var", "Private data: events, contacts, manifest, guides, outbox."
    ),
    Setting(
        "SITE_URL",
        "",
        "Public site origin(s), comma-separated; default: SITEURL from the manifest.",
    ),
    Setting("ROUTE_PREFIX", "", "Path prefix for every tracker route, e.g. `/t`."),
    Setting(
        "CONSENT_MODE",
        "cookieless",
        "`cookieless` (daily hash, no cookie) or `consent`.",
    ),
)


class ConfigError(RuntimeError):
    """The tracker cannot start with these settings."""


def defaults() -> dict[str, Any]:
    """Return every setting at its default."""
    return {s.name: s.default for s in SETTINGS}


def finalize(config: dict[str, Any]) -> None:
    """Normalise paths and refuse unsafe production settings."""
    config["DATA_DIR"] = os.path.abspath(str(config["DATA_DIR"]))
    prefix = str(config.get("ROUTE_PREFIX") or "").rstrip("/")
    config["ROUTE_PREFIX"] = (
        prefix if not prefix or prefix.startswith("/") else "/" + prefix
    )
    if config.get("ENV") == "production":
        secret = str(config.get("SECRET_KEY") or "")
        if secret == DEV_SECRET or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                "Set POLKU_SECRET_KEY to a random string of at least "
                f"{MIN_SECRET_LENGTH} characters before running in production."
            )
