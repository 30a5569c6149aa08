"""The plugin's settings: defaults merged with the site's, checked once.

Each error names the setting, shows the bad value and lists what is allowed,
because writers meet these messages in a build log, not in the code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tracker.i18n import N_ as _
from tracker.i18n import gettext
from tracker.journey import sendtime
from tracker.journey.identifiers import SettingsError

CONSENT_MODES = ("cookieless", "consent")
NEXT_PAGE_KINDS = ("newsletter", "offer", "feedback")


# The consent wording the forms show when the site sets none (JOURNEY_CONSENT),
# in English; the site's language comes from the catalogue, %(site)s is SITENAME.
CONSENT_WORDING = {
    "newsletter": _(
        "Send me the %(site)s newsletter: new posts by email. "
        "I can unsubscribe with one click in every email."
    ),
    "ads": _(
        "I also agree that my email address, hashed, may be used to show me "
        "our ads on Meta, Google and LinkedIn. Optional; withdraw any time."
    ),
    "quote": _(
        "Keep my name, email address, phone number and message to answer this "
        "request. %(site)s sends me nothing else unless I ask."
    ),
}

DEFAULTS: dict[str, Any] = {
    "TRACKER_URL": "",
    "TRACKER_PREFIX": "",
    "JOURNEY_CONSENT_MODE": "cookieless",
    "JOURNEY_CONSENT": None,  # {"newsletter": ..., "ads": ..., "version": ...}
    "JOURNEY_CONSENT_VERSION": "2026-11-01",
    "JOURNEY_DEFAULT_CTA": "newsletter",
    "JOURNEY_INJECT": True,  # add the script, pixel and signup to any theme's pages
    "JOURNEY_SEND_WINDOW": "08:00-20:00",  # sequences' mail, in the site's TIMEZONE
    "JOURNEY_MAX_PER_DAY": 1,  # automated emails per person per local day
    "JOURNEY_HOLDOUT": 0.1,  # share of readers who keep the default block
    # Pages the personalised block links for these calls to action (slugs).
    "JOURNEY_NEXT_PAGES": {"newsletter": "newsletter", "offer": None, "feedback": None},
    "JOURNEY_DATA_DIR": None,  # default: var/ beside the content folder
    "JOURNEY_GUIDES_DIR": None,  # default: guides/ inside the content folder
    "JOURNEY_STATUS_PAGES": {
        "signup": "thanks-signup",
        "confirmed": "thanks-confirmed",
        "download": "thanks-download",
        "unsubscribed": "thanks-unsubscribed",
        "feedback": "thanks-feedback",
        "quote": "thanks-quote",
        "error": "oops",
    },
}


# One error for every bad site setting, the plugin's and the core's rules'
# (audiences): the build fails on it with the setting's name, the CLI shows it.
JourneySettingsError = SettingsError


@dataclass(frozen=True)
class JourneySettings:
    tracker_url: str
    prefix: str
    consent_mode: str
    consent: dict[str, str]
    default_cta: str
    data_dir: str
    guides_dir: str
    status_pages: dict[str, str] = field(default_factory=dict)
    inject: bool = True
    send_window: str = "08:00-20:00"
    max_per_day: int = 1
    holdout: float = 0.1
    next_pages: dict[str, str] = field(default_factory=dict)

    def route(self, path: str) -> str:
        """Return the URL of a tracker route as the site's pages should use it."""
        return f"{self.tracker_url}{self.prefix}{path}"


def _check_tracker_url(url: str) -> str:
    url = (url or "").rstrip("/")
    if url and (
        urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc
    ):
        raise JourneySettingsError(
            f"TRACKER_URL: {url!r} is not an absolute http(s) URL; "
            "leave it empty to use same-origin paths"
        )
    return url


def _check_prefix(prefix: str) -> str:
    prefix = (prefix or "").strip().rstrip("/")
    if prefix and not prefix.startswith("/"):
        prefix = "/" + prefix
    if any(c in prefix for c in "?#\"'<> "):
        raise JourneySettingsError(f"TRACKER_PREFIX: {prefix!r} is not a URL path")
    return prefix


def resolve_data_dir(settings: dict[str, Any]) -> str:
    """Return the data directory: POLKU_DATA_DIR, JOURNEY_DATA_DIR, or var/.

    The environment wins so that the build, the tracker and every command agree.
    """
    site_dir = os.path.dirname(os.path.abspath(settings["PATH"]))
    chosen = os.environ.get("POLKU_DATA_DIR") or settings.get("JOURNEY_DATA_DIR")
    return os.path.abspath(chosen) if chosen else os.path.join(site_dir, "var")


def read(settings: dict[str, Any]) -> JourneySettings:
    """Merge the site's settings over DEFAULTS and check them."""
    merged = {**DEFAULTS, **{k: v for k, v in settings.items() if k in DEFAULTS}}
    mode = os.environ.get("POLKU_CONSENT_MODE") or merged["JOURNEY_CONSENT_MODE"]
    if mode not in CONSENT_MODES:
        raise JourneySettingsError(
            f"JOURNEY_CONSENT_MODE: unknown mode {mode!r}; "
            f"expected one of {', '.join(CONSENT_MODES)}"
        )
    lang = str(settings.get("DEFAULT_LANG", "en"))
    site = {"site": str(settings.get("SITENAME") or "").strip() or "this site"}
    consent = {k: gettext(lang, text) % site for k, text in CONSENT_WORDING.items()}
    consent["version"] = merged["JOURNEY_CONSENT_VERSION"]
    if merged["JOURNEY_CONSENT"]:
        if not isinstance(merged["JOURNEY_CONSENT"], dict):
            raise JourneySettingsError("JOURNEY_CONSENT: expected a dict")
        consent.update(merged["JOURNEY_CONSENT"])
    for key in ("newsletter", "ads", "version"):
        if not str(consent.get(key, "")).strip():
            raise JourneySettingsError(f"JOURNEY_CONSENT[{key!r}]: must not be empty")
    if not isinstance(merged["JOURNEY_INJECT"], bool):
        raise JourneySettingsError(
            f"JOURNEY_INJECT: expected True or False, not {merged['JOURNEY_INJECT']!r}"
        )
    try:
        sendtime.zone(settings.get("TIMEZONE"))
        window = sendtime.parse_window(merged["JOURNEY_SEND_WINDOW"])
    except sendtime.DelayError as e:
        raise JourneySettingsError(f"JOURNEY_SEND_WINDOW / TIMEZONE: {e}") from None
    per_day = merged["JOURNEY_MAX_PER_DAY"]
    if not isinstance(per_day, int) or isinstance(per_day, bool) or per_day < 1:
        raise JourneySettingsError(
            f"JOURNEY_MAX_PER_DAY: a whole number of 1 or more, not {per_day!r}"
        )
    holdout = merged["JOURNEY_HOLDOUT"]
    if (
        not isinstance(holdout, int | float)
        or isinstance(holdout, bool)
        or not 0 <= holdout <= 1
    ):
        raise JourneySettingsError(
            f"JOURNEY_HOLDOUT: a share from 0 to 1 (0.1 is 10 %), not {holdout!r}"
        )
    next_pages = merged["JOURNEY_NEXT_PAGES"]
    if not isinstance(next_pages, dict) or set(next_pages) - set(NEXT_PAGE_KINDS):
        raise JourneySettingsError(
            f"JOURNEY_NEXT_PAGES: a dict of page slugs by {', '.join(NEXT_PAGE_KINDS)}"
            f", not {next_pages!r}"
        )
    guides_dir = merged["JOURNEY_GUIDES_DIR"] or os.path.join(
        settings["PATH"], "guides"
    )
    return JourneySettings(
        tracker_url=_check_tracker_url(merged["TRACKER_URL"]),
        prefix=_check_prefix(
            os.environ.get("POLKU_ROUTE_PREFIX") or merged["TRACKER_PREFIX"]
        ),
        consent_mode=mode,
        consent=consent,
        default_cta=merged["JOURNEY_DEFAULT_CTA"],
        data_dir=resolve_data_dir(settings),
        guides_dir=os.path.abspath(guides_dir),
        status_pages=dict(merged["JOURNEY_STATUS_PAGES"]),
        inject=merged["JOURNEY_INJECT"],
        send_window=f"{window.start:%H:%M}-{window.end:%H:%M}",
        max_per_day=per_day,
        holdout=float(holdout),
        next_pages={
            k: str(v).strip()
            for k, v in {**DEFAULTS["JOURNEY_NEXT_PAGES"], **next_pages}.items()
            if v
        },
    )
