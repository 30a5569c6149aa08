"""`polku audiences`: the audience lists for a CRM and the ad platforms."""

from __future__ import annotations

from functools import partial

import click

from .. import datadir, i18n
from .common import _, n_, open_storage_app, site_lang, site_settings


@click.command("audiences")
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
    from pelican.plugins.polku.lists import small_lists, write_lists

    from ..db import get_storage
    from ..web.site import manifest

    site = site_settings()
    app = open_storage_app()
    with app.app_context():
        target = out or datadir.path(app.config["DATA_DIR"], datadir.AUDIENCES)
        try:
            count, small = write_lists(
                get_storage(),
                manifest(),
                site.get("JOURNEY_AUDIENCES"),
                target,
                formats or FORMATS,
            )
        except AudienceError as e:
            raise click.ClickException(str(e)) from e
    if small:
        plural = partial(i18n.ngettext, site_lang())
        click.echo(small_lists(small, _, plural), err=True)
    click.echo(
        n_(
            "Wrote %(count)d audience to %(target)s/ (see manifest.json there).",
            "Wrote %(count)d audiences to %(target)s/ (see manifest.json there).",
            count,
            target=target,
        )
    )


COMMANDS = [audiences_command]
