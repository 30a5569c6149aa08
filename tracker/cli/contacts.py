"""`polku contacts`: access, erasure, import and pruning of people."""

from __future__ import annotations

import json
import sys

import click

from .common import _, n_, open_storage_app, site_lang


@click.group()
def contacts() -> None:
    """GDPR access and erasure, and customers imported from a CSV."""


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
def contacts_import(file: str) -> None:
    """Import customers from a shop or CRM CSV (email, name, date, value).

    Optional columns: currency, order_id, kind (purchase, booking or quote).
    Comma, semicolon or tab between cells; UTF-8, UTF-16 or Windows-1252;
    dates as YYYY-MM-DD or D.M.YYYY; amounts such as 1 200,50 or 1,200.50.
    Re-importing the same file changes nothing.

    \b
    Example:
        polku contacts import shop-orders.csv
    """
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
            get_storage(), config["DATA_DIR"], int(config["PENDING_DAYS"])
        )
    click.echo(
        n_(
            "Pruned %(count)d unconfirmed signup.",
            "Pruned %(count)d unconfirmed signups.",
            count,
        )
    )


COMMANDS = [contacts]
