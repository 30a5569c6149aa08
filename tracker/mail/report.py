"""The report by email: the same numbers as `polku report`, for the owner.

In the site's language, numbers, percentages and dates through Babel.
"""

from __future__ import annotations

from datetime import date, datetime

import click
from flask import render_template, url_for

from .. import i18n, mail
from ..journey import people
from ..web import site as sitemeta
from ..web.site import gettext as _


def formats(lang: str | None) -> dict:
    """The report's numbers, percentages and dates as the language writes them."""
    return {
        "number": lambda value: i18n.format_number(value, lang),
        "percent": lambda rate: i18n.format_percent(rate, lang, 1),
        "day": lambda ts: i18n.format_date(datetime.fromisoformat(ts).date(), lang),
    }


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
    context = {
        "data": data,
        "site_name": site_name,
        "period": period,
        "subject": subject,
        "dashboard": sitemeta.tracker_base() + url_for("admin.overview"),
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
    try:
        mail.send_one(app.config, msg)
    except mail.MailError as e:
        raise click.ClickException(str(e)) from e
