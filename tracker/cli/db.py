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
    """The stored data: the PostgreSQL schema and copying; compacting the journal."""


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
            started = time.perf_counter()
            if filled := storage.fill_facts():
                click.echo(
                    _(
                        "Worked out the dashboard's facts of %(count)d contacts"
                        " in %(seconds).1f s.",
                        count=filled,
                        seconds=time.perf_counter() - started,
                    )
                )
        finally:
            storage.close()
    except (StorageError, FileNotFoundError) as e:
        raise click.ClickException(str(e)) from e


@db.command("compact")
def db_compact() -> None:
    """Compact the people journal: each contact once, with every decision.

    Every decision (and its consent proof) stays, in the order it was made;
    the copies of the whole contact each change appended go. Safe while the
    tracker runs, and against a crash at any moment. The tracker also does it
    by itself once the journal grew by POLKU_PEOPLE_COMPACT_MB.

    \b
    Example:
        polku db compact
    """
    from ..db import get_storage
    from ..storage import StorageError
    from ..storage.compaction import Busy

    with open_storage_app().app_context():
        storage = get_storage()
        compact = getattr(storage, "compact_people", None)
        if compact is None:
            click.echo(_("Nothing to compact: the database keeps each contact once."))
            return
        try:
            done = compact()
        except Busy as e:
            raise click.ClickException(
                _("Another process is compacting the people journal; try later.")
            ) from e
        except StorageError as e:
            raise click.ClickException(str(e)) from e
    if done is None:
        click.echo(_("The people journal is compact: nothing was decided since."))
        return
    per_contact = done.after / max(done.contacts, 1)
    click.echo(
        _(
            "People journal compacted from %(before)s to %(after)s "
            "(%(per_contact)s per contact; %(contacts)s contacts, %(decisions)s "
            "decisions kept) in %(seconds).1f s.",
            before=size(done.before),
            after=size(done.after),
            per_contact=size(per_contact),
            contacts=done.contacts,
            decisions=done.decisions,
            seconds=done.seconds,
        )
    )


def size(count: float) -> str:
    """Bytes as the owner reads them: 880 B, 12.4 KB, 108.6 MB."""
    if count < 1000:
        return f"{count:.0f} B"
    if count < 1e6:
        return f"{count / 1e3:.1f} KB"
    return f"{count / 1e6:.1f} MB"


COMMANDS = [db]
