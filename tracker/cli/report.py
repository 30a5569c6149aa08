"""`polku report`: the journey in the terminal, as JSON or by email."""

from __future__ import annotations

import json

import click

from .common import _, open_storage_app, since_option


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
    from ..journey import report as journey_report
    from ..storage import get_storage
    from ..web.site import manifest

    app = open_storage_app()
    with app.test_request_context():
        storage = get_storage()
        day = since.date().isoformat() if since else None
        data = journey_report.build(
            storage.summary(day), storage.iter_contacts(), manifest(), day, touch=touch
        )
        if email_to:
            from ..mail.report import send_report

            send_report(app, email_to, data)
            click.echo(_("Sent the report to %(address)s.", address=email_to))
            return
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(render_report(data))


def render_report(data: dict) -> str:
    """Lay the report out for a terminal."""
    period = f"since {data['since']}" if data["since"] else "all time"
    lines = [f"Polku report, {period}", ""]
    lines.append(f"Pageviews {data['pageviews']:,} (bots apart: {data['bots']:,})")
    lines += ["", "Journey funnel"]
    for step in data["funnel"]:
        rate = step["rate_from_previous"]
        shown = "" if rate is None else f"  {rate:6.1%} of previous"
        lines.append(f"  {step['stage']:<9} {step['count']:>8,}{shown}")
    lines += ["", f"Sources ({data['touch']} touch)"]
    for row in data["sources"][:10]:
        lines.append(
            f"  {row['source'][:28]:<28} {row['visitors']:>7,} visitors "
            f"{row['leads']:>5,} leads {row['customers']:>5,} customers"
        )
    lines += ["", "Top posts and pages"]
    for row in data["posts"][:10]:
        title = row["title"][:40]
        lines.append(
            f"  {title:<40} {row['views']:>7,} views {row['signups']:>4,} signups"
        )
    return "\n".join(lines)


COMMANDS = [report]
