"""The `polku` command: one click group; each family of commands in its own module.

`site` (build, serve), `report`, `experiments`, `spend`, `audiences`, `contacts`,
`digest`, `bounces`, `db`.
"""

from __future__ import annotations

import click

from . import (
    audiences,
    bounces,
    contacts,
    db,
    digest,
    experiments,
    init,
    report,
    sequences,
    site,
    spend,
)
from .common import CONTEXT_SETTINGS, load_site_env


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="polku")
def cli() -> None:
    """Polku: a static site with the customer journey built in.

    Run the commands in the site's folder (the one with pelicanconf.py); the
    POLKU_* settings in its polku.env apply unless the shell sets them.
    """
    load_site_env()


for family in (
    init,
    site,
    report,
    experiments,
    spend,
    audiences,
    contacts,
    digest,
    sequences,
    bounces,
    db,
):
    for command in family.COMMANDS:
        cli.add_command(command)
