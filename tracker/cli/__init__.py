"""The `polku` command: build the site, serve it, and (later) the owner's tools."""

from __future__ import annotations

import json
import logging
import os
import sys
import time

import click

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="polku")
def cli() -> None:
    """Polku: a static site with the customer journey built in.

    Run the commands in the site's folder (the one with pelicanconf.py).
    """


def run_build(publish: bool) -> float:
    """Build the site with Pelican and return the seconds it took."""
    from pelican import Pelican
    from pelican.log import init as init_logging
    from pelican.settings import read_settings

    settings_file = "publishconf.py" if publish else "pelicanconf.py"
    if not os.path.isfile(settings_file):
        raise click.ClickException(
            f"No {settings_file} here; run polku in the site's folder."
        )
    init_logging(level=logging.WARNING)
    logging.getLogger("pelican.plugins.polku").setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        Pelican(read_settings(settings_file)).run()
    except Exception as e:  # Pelican raises plain exceptions for bad content
        raise click.ClickException(f"Build failed: {e}") from e
    return time.perf_counter() - started


@cli.command()
@click.option(
    "--publish", is_flag=True, help="Build with publishconf.py (absolute URLs)."
)
def build(publish: bool) -> None:
    """Build the site into output/ with Pelican.

    \b
    Example:
        polku build --publish
    """
    seconds = run_build(publish)
    click.echo(
        f"Built the site in {seconds:.2f} s "
        f"({'publish' if publish else 'development'} settings)."
    )


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on; its address is also answered as a Host name.",
)
@click.option(
    "--port", default=8000, show_default=True, type=int, help="Port to listen on."
)
@click.option(
    "--output",
    default="output",
    show_default=True,
    type=click.Path(file_okay=False),
    help="The built site to serve.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="Also answer requests for this host name (repeatable).",
)
def serve(host: str, port: int, output: str, allow_hosts: tuple[str, ...]) -> None:
    """Serve the built site and the tracker on one origin, for local use.

    Only requests for local names are answered (localhost, 127.0.0.0/8,
    [::1], the --host address, and every --allow-host name; with --host
    0.0.0.0 any IP address too): others get 421, so that no web page can
    reach the demo by pointing its own name at this machine (DNS rebinding).

    \b
    Example:
        polku build && polku serve --port 8000
        polku serve --host 0.0.0.0 --allow-host laptop.local
    """
    from werkzeug.serving import run_simple

    from .. import create_app
    from ..serve import SiteAndTracker

    if not os.path.isfile(os.path.join(output, "index.html")):
        raise click.ClickException(
            f"No built site in {output}/; run `polku build` first."
        )
    app = SiteAndTracker(create_app(), output, host=host, allow=allow_hosts)
    click.echo(f"Serving {output}/ and the tracker at http://{host}:{port}/", err=True)
    click.echo(f"Answering only for {app.hosts.describe()}.", err=True)
    run_simple(host, port, app, threaded=True, use_reloader=False)


def open_storage_app():
    """Return the tracker app the commands work through (settings from POLKU_*)."""
    from .. import create_app
    from ..config import ConfigError

    try:
        return create_app()
    except ConfigError as e:
        raise click.ClickException(str(e)) from e


def since_option(f):
    return click.option(
        "--since",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="Only count from this day (YYYY-MM-DD); default: all time.",
    )(f)


@cli.command()
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
            click.echo(f"Sent the report to {email_to}.")
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


@cli.command("audiences")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Where to write the lists (default: <data dir>/audiences).",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(["csv", "meta", "google", "linkedin"]),
    multiple=True,
    help="Only these formats (repeatable); default: all four.",
)
def audiences_command(out: str | None, formats: tuple[str, ...]) -> None:
    """Write every configured audience list, for your CRM and ad platforms.

    Ad-platform files hold only people who gave the separate ads consent, as
    SHA-256 hashes; unsubscribed and erased people are never in any list.

    \b
    Example:
        polku audiences --out exports/ --format meta --format google
    """
    from pelican.plugins.polku.audiences import FORMATS, AudienceError

    from ..audiences import write_lists
    from ..storage import get_storage
    from ..web.site import manifest

    site = site_settings()
    app = open_storage_app()
    with app.app_context():
        target = out or os.path.join(app.config["DATA_DIR"], "audiences")
        try:
            count, warnings = write_lists(
                get_storage(),
                manifest(),
                site.get("JOURNEY_AUDIENCES"),
                target,
                formats or FORMATS,
            )
        except AudienceError as e:
            raise click.ClickException(str(e)) from e
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"Wrote {count} audiences to {target}/ (see manifest.json there).")


@cli.group()
def contacts() -> None:
    """GDPR access and erasure, and customers imported from a CSV."""


def find_or_fail(storage, email: str) -> dict:
    from ..journey.people import Refused, normalise_email

    try:
        contact = storage.find_contact(normalise_email(email))
    except Refused as e:
        raise click.ClickException(str(e)) from e
    if contact is None:
        raise click.ClickException(f"No contact with the address {email}.")
    return contact


@contacts.command("export")
@click.argument("email")
def contacts_export(email: str) -> None:
    """Print everything stored about one person, as JSON.

    \b
    Example:
        polku contacts export reader@example.com > reader.json
    """
    from ..storage import get_storage

    with open_storage_app().app_context():
        storage = get_storage()
        contact = find_or_fail(storage, email)
        data = {"contact": contact, "timeline": storage.timeline(contact["id"])}
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@contacts.command("erase")
@click.argument("email")
@click.confirmation_option(prompt="Erase this person and every trace of them?")
def contacts_erase(email: str) -> None:
    """Erase one person: their contact, timeline, emails in the outbox.

    Anonymous counts (pageviews, visitors) stay.

    \b
    Example:
        polku contacts erase reader@example.com --yes
    """
    from ..privacy import erase_everywhere
    from ..storage import get_storage

    app = open_storage_app()
    with app.app_context():
        contact = find_or_fail(get_storage(), email)
        removed = erase_everywhere(get_storage(), app.config["DATA_DIR"], contact)
    click.echo(f"Erased {email} ({removed} files rewritten or removed).")


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def contacts_import(file: str) -> None:
    """Import customers from a shop or CRM CSV (email, name, date, value).

    Optional columns: currency, order_id, kind (purchase, booking or quote).
    Re-importing the same file changes nothing.

    \b
    Example:
        polku contacts import shop-orders.csv
    """
    from ..imports import CsvError, import_rows, read_csv
    from ..storage import get_storage

    try:
        rows = read_csv(file)
    except CsvError as e:
        raise click.ClickException(str(e)) from e
    with open_storage_app().app_context():
        with click.progressbar(
            length=len(rows), label="Importing", file=sys.stderr
        ) as bar:
            added, skipped = import_rows(get_storage(), rows, progress=bar.update)
    click.echo(f"Imported {added} orders; {skipped} were already there.")


@contacts.command("prune")
def contacts_prune() -> None:
    """Delete signups never confirmed within POLKU_PENDING_DAYS.

    \b
    Example:
        polku contacts prune
    """
    from ..privacy import prune_pending
    from ..storage import get_storage

    app = open_storage_app()
    with app.app_context():
        config = app.config
        count = prune_pending(
            get_storage(), config["DATA_DIR"], int(config["PENDING_DAYS"])
        )
    click.echo(f"Pruned {count} unconfirmed signups.")


@cli.group()
def db() -> None:
    """The PostgreSQL database of POLKU_DATABASE_URL: schema and copying."""


@db.command("migrate")
@click.option(
    "--from-tinydb",
    "from_tinydb",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False),
    help="Also copy this TinyDB data directory into the database.",
)
def db_migrate(from_tinydb: str | None) -> None:
    """Create or upgrade the schema; copy a TinyDB data directory into it.

    Safe to rerun: a second copy adds only what the directory gained since,
    and the counts per table are checked.

    \b
    Example:
        POLKU_DATABASE_URL=postgresql://polku@db.example/polku polku db migrate
        polku db migrate --from-tinydb var
    """
    from ..storage import StorageError
    from .db import copy_from_tinydb, open_database

    try:
        storage = open_database(open_storage_app().config["DATABASE_URL"])
        try:
            applied = storage.db.migrate()
            click.echo(f"Migrations applied: {', '.join(applied) or 'none needed'}.")
            if from_tinydb:
                copy_from_tinydb(from_tinydb, storage)
        finally:
            storage.close()
    except (StorageError, FileNotFoundError) as e:
        raise click.ClickException(str(e)) from e


def site_settings(publish: bool = False) -> dict:
    """Read the site's Pelican settings (theme, digest options) from this folder."""
    from pelican.settings import read_settings

    name = "publishconf.py" if publish else "pelicanconf.py"
    if not os.path.isfile(name):
        raise click.ClickException(f"No {name} here; run polku in the site's folder.")
    return read_settings(name)


@cli.command()
@click.option(
    "--dry-run",
    "dry_run",
    type=click.Path(file_okay=False),
    help="Write one .eml per recipient (and index.html, a preview) into DIR.",
)
@click.option("--send", is_flag=True, help="Send to every confirmed subscriber.")
@click.option(
    "--to", "to", metavar="EMAIL", help="Send one test copy; changes nothing."
)
@click.option(
    "--rate", default=10.0, show_default=True, help="Messages per second at most."
)
def digest(dry_run: str | None, send: bool, to: str | None, rate: float) -> None:
    """Send the newsletter digest of posts published since the last one.

    A run that is stopped half way resumes when started again, and nobody
    gets a second copy.

    \b
    Example:
        polku digest --dry-run /tmp/digest
        polku digest --to me@example.com
        polku digest --send
    """
    from .digest import run_digest

    if sum(bool(x) for x in (dry_run, send, to)) != 1:
        raise click.UsageError("Choose one of --dry-run DIR, --send or --to EMAIL.")
    run_digest(
        open_storage_app(),
        site_settings(),
        dry_run=dry_run,
        send=send,
        to=to,
        rate=rate,
    )
