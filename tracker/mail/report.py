"""The report by email: the same numbers as `polku report`, for the owner.

In the site's language, numbers, percentages and dates through Babel.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click
from flask import render_template, url_for

from .. import clock, i18n, mail
from ..db import get_storage
from ..journey import people
from ..journey.deliverability import COMPLAINT_LIMIT, HARD_LIMIT, alerts
from ..web import site as sitemeta
from ..web.site import gettext as _
from . import retry, sends

RECENT_DAYS = 30


def formats(lang: str | None) -> dict:
    """The report's numbers, percentages and dates as the language writes them."""
    return {
        "number": lambda value: i18n.format_number(value, lang),
        "percent": lambda rate: i18n.format_percent(rate, lang, 1),
        "day": lambda ts: i18n.format_date(datetime.fromisoformat(ts).date(), lang),
    }


def mail_alerts(storage, since: str | None) -> list:
    """The sends of the report's period (else of the last 30 days) that passed
    a complaint or bounce limit, or were blocked by policy."""
    if not since:
        since = (clock.now() - timedelta(days=RECENT_DAYS)).date().isoformat()
    return alerts(sends.per_send(storage, since))


def send_report(app, address: str, data: dict) -> None:
    """Send the report as a multipart email (text + HTML, CSS inlined)."""
    try:
        to = people.normalise_email(address)
    except people.Refused as e:
        raise click.ClickException(f"--email: {e}") from e
    lang = sitemeta.site_lang()
    site_name = (sitemeta.manifest().get("site") or {}).get("name") or "Polku"
    if data["since"]:
        day = i18n.format_date(date.fromisoformat(data["since"]), lang)
        period = _("since %(day)s", day=day)
    else:
        period = _("all time")
    subject = _(
        "%(site)s: your journey report, %(period)s", site=site_name, period=period
    )
    storage = get_storage()
    context = {
        "data": data,
        "site_name": site_name,
        "period": period,
        "subject": subject,
        "dashboard": sitemeta.tracker_base() + url_for("admin.overview"),
        "mail_alerts": mail_alerts(storage, data["since"]),
        "limits": {"complaints": COMPLAINT_LIMIT, "hard": HARD_LIMIT},
        **formats(lang),
    }
    msg = mail.build(
        app.config,
        to,
        subject,
        render_template("email/report.txt", **context),
        render_template("email/report.html", **context),
        send="report",
    )
    answer = retry.deliver(
        storage,
        lambda m: mail.send_one(app.config, m),
        msg,
        send="report",
        contact=storage.find_contact(to),  # the owner may be a subscriber too
        needs=retry.ASKED,
    )
    if answer.result == retry.QUEUED:
        raise click.ClickException(
            _(
                "The mail server delayed the report (%(status)s); it waits in the "
                "retry queue and goes out with the next `polku sequences run "
                "--send` or `polku digest --send`.",
                status=answer.status,
            )
        )
    if answer.result != retry.SENT:
        raise click.ClickException(
            f"could not send to {to}: {answer.status or answer.reason}"
        )
