"""The dashboard's Deliverability page: each send's bounce and complaint rates.

The rows are `mail.sends.per_send`'s (the counts kept at send time, the
bounces and complaints on the people's timelines, the limits of
`journey.deliverability`), the same as the weekly report's warnings. The
overview shows a warning when a recent send passed a limit.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template

from .. import clock
from ..db import get_storage
from ..journey import deliverability as rules
from ..mail import sends
from .blueprint import bp

RECENT_DAYS = 30  # the overview warns about sends this recent


def reports() -> list[dict]:
    """The bounces and complaints, kept until someone's record changes."""
    storage = get_storage()
    version = storage.people_version()
    kept = current_app.extensions.get("polku.delivery_reports")
    if version is not None and kept and kept[0] == (id(storage), version):
        return kept[1]
    found = sends.reports(storage)
    if version is not None:
        key = (id(storage), version)
        current_app.extensions["polku.delivery_reports"] = (key, found)
    return found


def rows(since: str | None = None) -> list[rules.Row]:
    return sends.per_send(get_storage(), since, reports())


def recent_alerts() -> list[rules.Row]:
    """The sends of the last RECENT_DAYS that passed a limit or were blocked."""
    since = (clock.now() - timedelta(days=RECENT_DAYS)).date().isoformat()
    return rules.alerts(rows(since))


@bp.app_template_global()
def deliverability_alerts() -> list[rules.Row]:
    """For the overview's warning (read only when a page asks)."""
    return recent_alerts()


@bp.get("/deliverability")
def deliverability():
    return render_template(
        "admin/deliverability.html",
        rows=rows(),
        complaint_limit=rules.COMPLAINT_LIMIT,
        hard_limit=rules.HARD_LIMIT,
    )
