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
MIN_ADMIN_PASSWORD_LENGTH = 12


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
        "Signs tokens and hashes; 32+ characters in production.",
    ),
    Setting(
        "ADMIN_PASSWORD",
        "",
        "Password of the dashboard at /admin/; empty: the dashboard is off; "
        f"{MIN_ADMIN_PASSWORD_LENGTH}+ characters in production.",
    ),
    Setting(
        "DATA_DIR", "var", "Private data: journals, contacts, manifest, guides, outbox."
    ),
    Setting(
        "SITE_URL",
        "",
        "Public site origin(s), comma-separated; default: the build's SITEURL.",
    ),
    Setting("ROUTE_PREFIX", "", "Path prefix for every tracker route, e.g. `/t`."),
    Setting(
        "CONSENT_MODE",
        "cookieless",
        "`cookieless` (daily hash, no cookie) or `consent`.",
    ),
    Setting(
        "DATABASE_URL",
        "",
        "`postgresql://...` for the scale-out backend; empty: TinyDB.",
    ),
    Setting(
        "FLUSH_INTERVAL", 1.0, "Seconds between fdatasyncs of the pageview journal."
    ),
    Setting(
        "PEOPLE_COMPACT_MB",
        64,
        "Compact the people journal once it grew by this many MB since its last "
        "compaction; 0: only by `polku db compact`.",
    ),
    Setting(
        "SHIP_INTERVAL",
        0.5,
        "PostgreSQL: seconds between shipments of the server's pageview journal "
        "into the database; 0: each pageview is inserted by its request.",
    ),
    Setting(
        "PROXY_HOPS", 0, "Reverse proxies in front of the tracker (for the client IP)."
    ),
    Setting(
        "API_KEY",
        "",
        "Bearer key for `POST /api/conversion`; empty disables the route.",
    ),
    Setting(
        "BOUNCE_SECRET",
        "",
        "Password (HTTP basic auth) of `POST /api/bounces/postmark`; empty: off.",
    ),
    Setting(
        "MAILGUN_SIGNING_KEY",
        "",
        "Mailgun's webhook signing key, for `POST /api/bounces/mailgun`; empty: off.",
    ),
    Setting(
        "SES_TOPIC_ARN",
        "",
        "SNS topic ARN(s), comma-separated, whose SES notifications "
        "`POST /api/bounces/ses` takes; empty: off.",
    ),
    Setting(
        "SNS_EXTRA_HOSTS",
        "",
        "Hosts trusted for SNS certificates besides sns.<region>.amazonaws.com "
        "(tests only).",
    ),
    Setting(
        "SMTP_HOST",
        "",
        "SMTP server; empty: mail goes to `<data dir>/outbox/` as .eml.",
    ),
    Setting("SMTP_PORT", 587, "SMTP port (465 means implicit TLS)."),
    Setting("SMTP_USER", "", "SMTP login, if the server needs one."),
    Setting("SMTP_PASSWORD", "", "SMTP password."),
    Setting("SMTP_STARTTLS", True, "Use STARTTLS on ports other than 465."),
    Setting(
        "MAIL_FROM",
        "",
        "From address of every email; empty: the site's name, noreply@ its host.",
    ),
    Setting(
        "BOUNCE_IMAP_HOST",
        "",
        "IMAP server of the bounce mailbox `polku bounces fetch` reads; empty: off.",
    ),
    Setting("BOUNCE_IMAP_PORT", 993, "IMAP port of the bounce mailbox."),
    Setting("BOUNCE_IMAP_USER", "", "Login of the bounce mailbox."),
    Setting("BOUNCE_IMAP_PASSWORD", "", "Password of the bounce mailbox."),
    Setting("BOUNCE_IMAP_FOLDER", "INBOX", "Folder the bounces arrive in."),
    Setting(
        "BOUNCE_IMAP_SSL",
        True,
        "IMAP over TLS (implicit, port 993); `false` only for a server on this "
        "machine.",
    ),
    Setting(
        "RATELIMIT_ENABLED", True, "`false` turns the per-IP form rate limits off."
    ),
    Setting(
        "RATELIMIT_FORMS",
        "10/minute;50/hour",
        "Form posts allowed per IP, counted across every worker and server.",
    ),
    Setting(
        "MAIL_LIMIT_CONFIRM",
        "1/10 minutes;3/day",
        "Confirmation emails one address can be sent, however many ask.",
    ),
    Setting(
        "MAIL_LIMIT_GUIDE",
        "1/day",
        "Emails with the same guide one address can be sent.",
    ),
    Setting(
        "MAIL_LIMIT_PREFERENCES",
        "1/10 minutes;3/day",
        "Emails with a link to the reader's own page one address can be sent.",
    ),
    Setting(
        "OWNER_EMAIL",
        "",
        "Where quote and booking requests are emailed at once, with the "
        "visitor's pages read; empty: they wait on the dashboard only.",
    ),
    Setting(
        "MAIL_LIMIT_QUOTE",
        "3/hour;10/day",
        "Emails to the owner about quote requests from one address.",
    ),
    Setting(
        "MAIL_LIMIT_QUOTE_IP",
        "5/hour;20/day",
        "Emails to the owner about quote requests from one IP address.",
    ),
    Setting(
        "MAIL_LIMIT_QUOTE_ALL",
        "30/hour;100/day",
        "Emails to the owner about quote requests in all, whoever posts them.",
    ),
    Setting(
        "PHONE_REGION",
        "",
        "Country (ISO code, e.g. `FI`) of phone numbers given without a country "
        "code; empty: the site's language's (fi: FI), else they need one.",
    ),
    Setting(
        "CURRENCY",
        "EUR",
        "The site's currency: revenue, ad spend, cost per lead and ROAS are "
        "reported in it; amounts in other currencies are shown apart, never summed.",
    ),
    Setting(
        "FEEDBACK_DAYS",
        90,
        "Ask a customer the recommend-us question at most this often.",
    ),
    Setting("PENDING_DAYS", 14, "Unconfirmed signups are pruned after this many days."),
    Setting("CONFIRM_DAYS", 7, "How long a confirmation link is valid."),
    Setting("DOWNLOAD_DAYS", 7, "How long a guide download link is valid."),
    Setting(
        "COMPLAINT_REPROVE_DAYS",
        365,
        "A signup by an address that complained gets a confirmation again only "
        "after this many days (confirming lifts the suppression); -1: never.",
    ),
    Setting(
        "BOUNCE_REPROVE_DAYS",
        30,
        "The same for an address suppressed by bounces; -1: never.",
    ),
)


def default_mail_from(config: dict[str, Any]) -> str:
    """`<site name> <noreply@<site host>>`: the name the build wrote into the
    manifest, the host of POLKU_SITE_URL or else of the build's SITEURL."""
    from urllib.parse import urlsplit

    from .datadir import read_manifest

    try:
        site = read_manifest(str(config["DATA_DIR"])).get("site") or {}
    except (OSError, ValueError):
        site = {}
    origin = str(config.get("SITE_URL") or "").split(",")[0].strip()
    host = urlsplit(origin or str(site.get("url") or "")).hostname or "localhost"
    name = " ".join(str(site.get("name") or "").split())
    return mailbox_text(name, f"noreply@{host}")


def mailbox_text(name: str, address: str) -> str:
    """`"Name" <address>` as POLKU_MAIL_FROM takes it (the name unencoded)."""
    if not name:
        return address
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{address}>'


class ConfigError(RuntimeError):
    """The tracker cannot start with these settings."""


def defaults() -> dict[str, Any]:
    """Return every setting at its default, plus the fixed Flask settings."""
    return {
        **{s.name: s.default for s in SETTINGS},
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "RATELIMIT_STORAGE_URI": "polku://",  # shared: see limits.py
        "RATELIMIT_HEADERS_ENABLED": True,
    }


def finalize(config: dict[str, Any]) -> None:
    """Normalise paths and refuse unsafe production settings."""
    config["DATA_DIR"] = os.path.abspath(str(config["DATA_DIR"]))
    prefix = str(config.get("ROUTE_PREFIX") or "").rstrip("/")
    config["ROUTE_PREFIX"] = (
        prefix if not prefix or prefix.startswith("/") else "/" + prefix
    )
    currency = str(config.get("CURRENCY") or "EUR").strip().upper()
    if len(currency) != 3 or not currency.isascii() or not currency.isalpha():
        raise ConfigError("Set POLKU_CURRENCY to a three-letter code such as EUR.")
    config["CURRENCY"] = currency
    if not str(config.get("MAIL_FROM") or "").strip():
        config["MAIL_FROM"] = default_mail_from(config)
    if config.get("ENV") == "production":
        secret = str(config.get("SECRET_KEY") or "")
        if secret == DEV_SECRET or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                "Set POLKU_SECRET_KEY to a random string of at least "
                f"{MIN_SECRET_LENGTH} characters before running in production."
            )
        password = config.get("ADMIN_PASSWORD")
        if password and len(str(password)) < MIN_ADMIN_PASSWORD_LENGTH:
            raise ConfigError(
                "Set POLKU_ADMIN_PASSWORD to at least "
                f"{MIN_ADMIN_PASSWORD_LENGTH} characters (or leave it empty to keep "
                "the dashboard off) before running in production."
            )
