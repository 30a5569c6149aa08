"""`polku contacts`: access, erasure, import and pruning of people."""

from __future__ import annotations

import json
import sys

import click

from ..i18n import N_
from .common import _, n_, open_storage_app, site_lang


@click.group()
def contacts() -> None:
    """GDPR access and erasure; customers and subscribers imported from a CSV."""


def find_or_fail(storage, email: str) -> dict:
    from ..journey.people import Refused, normalise_email

    try:
        contact = storage.find_contact(normalise_email(email))
    except Refused as e:
        raise click.ClickException(str(e)) from e
    if contact is None:
        raise click.ClickException(
            _("No contact with the address %(email)s.", email=email)
        )
    return contact


@contacts.command("export")
@click.argument("email")
def contacts_export(email: str) -> None:
    """Print everything stored about one person, as JSON.

    \b
    Example:
        polku contacts export reader@example.com > reader.json
    """
    from ..db import get_storage
    from ..privacy import export

    with open_storage_app().app_context():
        storage = get_storage()
        data = export(storage, find_or_fail(storage, email))
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
    from ..db import get_storage
    from ..privacy import erase_everywhere

    app = open_storage_app()
    with app.app_context():
        contact = find_or_fail(get_storage(), email)
        removed = erase_everywhere(
            get_storage(), app.config["DATA_DIR"], contact, app.config["SECRET_KEY"]
        )
    click.echo(
        n_(
            "Erased %(email)s (%(count)d file rewritten or removed).",
            "Erased %(email)s (%(count)d files rewritten or removed).",
            removed,
            email=email,
        )
    )


@contacts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--subscribers",
    is_flag=True,
    help="FILE is a subscriber list exported from Mailchimp, Kit, Ghost, "
    "listmonk or Substack.",
)
@click.option(
    "--reconfirm",
    is_flag=True,
    help="With --subscribers: email each subscribed address the signup's "
    "confirmation instead; only those who confirm are subscribed.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="With --subscribers: tell what the import would do; store and send nothing.",
)
def contacts_import(file: str, subscribers: bool, reconfirm: bool, dry_run: bool):
    """Import customers from a shop or CRM CSV, or a subscriber list.

    Customers: columns email, name, date, value; optional currency,
    order_id, kind (purchase, booking or quote). Comma, semicolon or tab
    between cells; UTF-8, UTF-16 or Windows-1252; dates as YYYY-MM-DD or
    D.M.YYYY; amounts such as 1 200,50 or 1,200.50.

    Subscribers (--subscribers): an export of Mailchimp, Kit, Ghost, listmonk
    or Substack, recognised by its columns. Subscribed people become
    confirmed subscribers whose consent proof is the export's (their opt-in
    time, "imported from Mailchimp export of DATE"); unsubscribed, cleaned
    and bounced addresses go into the suppression record. A decision made
    in Polku since stays. --reconfirm, for a list whose consent cannot be
    shown: each address gets the signup form's confirmation email instead
    (over SMTP, or into the outbox when no POLKU_SMTP_HOST is set).

    Re-importing the same file changes nothing.

    \b
    Examples:
        polku contacts import shop-orders.csv
        polku contacts import subscribed_members_export.csv --subscribers
        polku contacts import subscribers.csv --subscribers --reconfirm --dry-run
    """
    if (reconfirm or dry_run) and not subscribers:
        raise click.UsageError(_("--reconfirm and --dry-run go with --subscribers."))
    if subscribers:
        import_subscribers(file, reconfirm=reconfirm, dry_run=dry_run)
        return
    from ..db import get_storage
    from ..imports import CsvError, import_rows, read_csv

    try:
        rows = read_csv(file, site_lang())
    except CsvError as e:
        raise click.ClickException(str(e)) from e
    with open_storage_app().app_context():
        with click.progressbar(
            length=len(rows), label=_("Importing"), file=sys.stderr
        ) as bar:
            added, skipped = import_rows(get_storage(), rows, progress=bar.update)
    click.echo(
        n_(
            "Imported %(count)d order; %(skipped)d were already there.",
            "Imported %(count)d orders; %(skipped)d were already there.",
            added,
            skipped=skipped,
        )
    )


def import_subscribers(file: str, *, reconfirm: bool, dry_run: bool) -> None:
    from ..db import get_storage
    from ..imports import CsvError
    from ..imports.formats import read_export
    from ..imports.subscribers import export_of, import_entries
    from ..journey import imported

    try:
        known, rows = read_export(file, site_lang())
    except CsvError as e:
        raise click.ClickException(str(e)) from e
    app = open_storage_app()
    secret = app.config["SECRET_KEY"]
    with app.test_request_context():  # the confirm links, as the digest's
        storage = get_storage()
        export = export_of(known.tool, file)
        with click.progressbar(
            length=len(rows), label=_("Importing"), file=sys.stderr
        ) as bar:
            summary = import_entries(
                storage,
                export,
                rows,
                secret=secret,
                proven=not reconfirm,
                dry_run=dry_run,
                progress=bar.update,
            )
        if dry_run:
            summary.counts[imported.ASK] += len(summary.ask)
        elif summary.ask:
            from ..imports.reconfirm import ask_all

            with click.progressbar(
                length=len(summary.ask), label=_("Asking"), file=sys.stderr
            ) as bar:
                ask_all(storage, export, summary, secret=secret, progress=bar.update)
    click.echo(report(summary, export, reconfirm=reconfirm, dry_run=dry_run))


OUTCOMES = {
    "imported": N_("imported as subscribers"),
    "ask": N_("asked to confirm by email"),
    "already": N_("already there"),
    "unsubscribed": N_("unsubscribed"),
    "suppressed": N_("suppressed (bounced or complained)"),
    "skipped": N_("skipped"),
}


def report(summary, export, *, reconfirm: bool, dry_run: bool) -> str:
    """The import's summary: one line per outcome, the reasons rows were skipped."""
    lines = [_("Dry run: nothing was stored or sent.")] if dry_run else []
    lines.append(
        n_(
            "%(tool)s export of %(date)s: %(count)d row.",
            "%(tool)s export of %(date)s: %(count)d rows.",
            summary.rows,
            tool=export.tool,
            date=export.at[:10],
        )
    )
    shown = [o for o in OUTCOMES if o != ("imported" if reconfirm else "ask")]
    for outcome in shown:
        lines.append(f"  {_(OUTCOMES[outcome])}: {summary.counts[outcome]}")
    for reason, count in sorted(summary.reasons.items(), key=lambda r: -r[1]):
        lines.append(f"    - {_(reason)}: {count}")
    return "\n".join(lines)


@contacts.command("prune")
def contacts_prune() -> None:
    """Delete signups never confirmed within POLKU_PENDING_DAYS.

    \b
    Example:
        polku contacts prune
    """
    from ..db import get_storage
    from ..privacy import prune_pending

    app = open_storage_app()
    with app.app_context():
        config = app.config
        count = prune_pending(
            get_storage(),
            config["DATA_DIR"],
            int(config["PENDING_DAYS"]),
            config["SECRET_KEY"],
        )
    click.echo(
        n_(
            "Pruned %(count)d unconfirmed signup.",
            "Pruned %(count)d unconfirmed signups.",
            count,
        )
    )


COMMANDS = [contacts]
