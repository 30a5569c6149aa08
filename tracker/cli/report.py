"""`polku report`: the journey in the terminal, as JSON or by email."""

from __future__ import annotations

import json
from decimal import Decimal

import click

from .. import i18n
from ..i18n import N_
from .common import _, open_storage_app, since_option, site_lang


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@since_option
@click.option(
    "--touch",
    type=click.Choice(["first", "last"]),
    default="first",
    show_default=True,
    help="Credit leads and customers to their first or last visit's source.",
)
@click.option(
    "--email", "email_to", metavar="ADDRESS", help="Email the report instead."
)
def report(as_json: bool, since, touch: str, email_to: str | None) -> None:
    """Show the journey funnel, sources and top posts.

    \b
    Example:
        polku report --since 2026-11-01
        polku report --json
        polku report --email owner@example.com --since 2026-11-16
    """
    from ..db import get_storage
    from ..imports.spend import load
    from ..journey import money
    from ..journey import report as journey_report
    from ..web.site import manifest

    app = open_storage_app()
    with app.test_request_context():
        storage = get_storage()
        day = since.date().isoformat() if since else None
        people = list(storage.people_facts(day))
        currency = app.config["CURRENCY"]
        spent = load(storage)
        data = journey_report.build(
            storage.summary(day),
            None,
            manifest(),
            day,
            touch=touch,
            people=journey_report.people_part(
                people, day, None, touch, storage.people_facts(referred=True)
            ),
            money_part=money.part(people, day, None, touch, currency, spent),
        )
        if email_to:
            from ..mail.report import send_report

            send_report(app, email_to, data)
            click.echo(_("Sent the report to %(address)s.", address=email_to))
            return
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=number))
    else:
        click.echo(render_report(data))


def number(value):
    """Amounts are Decimal (exact sums); JSON has numbers."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


STAGES = {
    "visitor": N_("visitor"),
    "engaged": N_("engaged"),
    "lead": N_("lead"),
    "customer": N_("customer"),
    "advocate": N_("advocate"),
}


def render_report(data: dict) -> str:
    """Lay the report out for a terminal, in the site's language."""
    lang = site_lang()

    def number(value) -> str:
        return i18n.format_number(value, lang)

    if data["since"]:
        title = _("Polku report, since %(day)s", day=data["since"])
    else:
        title = _("Polku report, all time")
    lines = [title, ""]
    pageviews, bots = number(data["pageviews"]), number(data["bots"])
    lines.append(
        _("Pageviews %(count)s (bots apart: %(bots)s)", count=pageviews, bots=bots)
    )
    lines += ["", _("Journey funnel")]
    lines.append("  " + _("People seen in the period who reached each stage or beyond"))
    for step in data["funnel"]:
        rate = step["rate_from_previous"]
        shown = ""
        if rate is not None:
            percent = i18n.format_percent(rate, lang, 1)
            shown = "  " + _("%(rate)s of previous", rate=f"{percent:>7}")
        stage = _(STAGES.get(step["stage"], step["stage"]))
        lines.append(f"  {stage:<12} {number(step['count']):>8}{shown}")
    touch = _("first touch") if data["touch"] == "first" else _("last touch")
    lines += ["", _("Sources (%(touch)s)", touch=touch)]
    for row in data["sources"][:10]:
        counts = _(
            "%(visitors)s visitors %(leads)s leads %(customers)s customers",
            visitors=f"{number(row['visitors']):>7}",
            leads=f"{number(row['leads']):>5}",
            customers=f"{number(row['customers']):>5}",
        )
        lines.append(f"  {row['source'][:28]:<28} {counts}")
    lines += ["", _("Top posts and pages")]
    for row in data["posts"][:10]:
        counts = _(
            "%(views)s views %(signups)s signups",
            views=f"{number(row['views']):>7}",
            signups=f"{number(row['signups']):>4}",
        )
        lines.append(f"  {row['title'][:40]:<40} {counts}")
    return "\n".join(lines)


COMMANDS = [report]
