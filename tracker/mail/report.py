"""The weekly report by email: the same numbers as `polku report`, for the owner."""

from __future__ import annotations

import click
from flask import render_template, url_for

from .. import mail
from ..journey import people
from ..web import site as sitemeta


def send_report(app, address: str, data: dict) -> None:
    """Send the report as a multipart email (text + HTML, CSS inlined)."""
    try:
        to = people.normalise_email(address)
    except people.Refused as e:
        raise click.ClickException(f"--email: {e}") from e
    site_name = (sitemeta.manifest().get("site") or {}).get("name") or "Polku"
    period = f"since {data['since']}" if data["since"] else "all time"
    context = {
        "data": data,
        "site_name": site_name,
        "period": period,
        "dashboard": sitemeta.public_base() + url_for("admin.overview"),
    }
    msg = mail.build(
        app.config,
        to,
        f"{site_name}: your journey report, {period}",
        render_template("email/report.txt", **context),
        render_template("email/report.html", **context),
    )
    try:
        mail.send_one(app.config, msg)
    except mail.MailError as e:
        raise click.ClickException(str(e)) from e
