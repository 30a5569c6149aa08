"""`polku db`: the work behind the database commands (cli.py stays thin)."""

from __future__ import annotations

import sys
import time

import click

from ..storage.postgres import PostgresStorage
from .common import _, open_storage_app


def open_database(url: str) -> PostgresStorage:
    if not url.startswith(("postgresql://", "postgres://")):
        raise click.ClickException(
            _("Set POLKU_DATABASE_URL=postgresql://... to the database to use.")
        )
    return PostgresStorage(url)


def copy_from_tinydb(data_dir: str, storage: PostgresStorage) -> None:
    """Copy, fold the aggregates, print the counts; fail if any table differs."""
    from ..storage import transfer

    started = time.perf_counter()
    with click.progressbar(
        length=transfer.source_lines(data_dir),
        label=_("Copying events"),
        file=sys.stderr,
    ) as bar:
        counts = transfer.copy_tinydb(data_dir, storage, bar.update)
    copied = time.perf_counter() - started
    click.echo(_("Folding the events into the dashboard's aggregates..."), err=True)
    storage.summary()
    folded = time.perf_counter() - started - copied
    click.echo(f"{'table':<10} {'TinyDB':>10} {'PostgreSQL':>10}")
    for count in counts:
        mark = "" if count.ok else "  <- " + _("differs")
        click.echo(
            f"{count.table:<10} {count.source:>10} {count.destination:>10}{mark}"
        )
    click.echo(
        _(
            "Copied in %(copied).1f s; aggregates folded in %(folded).1f s.",
            copied=copied,
            folded=folded,
        )
    )
    wrong = [c.table for c in counts if not c.ok]
    if wrong:
        raise click.ClickException(
            _(
                "The counts differ for %(tables)s: the database holds other data, "
                "or the copy is incomplete (run it again to resume).",
                tables=", ".join(wrong),
            )
        )


@click.group()
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

    try:
        storage = open_database(open_storage_app().config["DATABASE_URL"])
        try:
            applied = storage.db.migrate()
            click.echo(
                _("Migrations applied: %(names)s.", names=", ".join(applied))
                if applied
                else _("Migrations applied: none needed.")
            )
            if from_tinydb:
                copy_from_tinydb(from_tinydb, storage)
        finally:
            storage.close()
    except (StorageError, FileNotFoundError) as e:
        raise click.ClickException(str(e)) from e


COMMANDS = [db]
