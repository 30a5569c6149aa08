"""What every `polku` command shares: the tracker app, the site's settings."""

from __future__ import annotations

import os

import click

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


def open_storage_app():
    """Return the tracker app the commands work through (settings from POLKU_*)."""
    from .. import create_app
    from ..config import ConfigError

    try:
        return create_app()
    except ConfigError as e:
        raise click.ClickException(str(e)) from e


def site_settings(publish: bool = False) -> dict:
    """Read the site's Pelican settings (theme, digest options) from this folder."""
    from pelican.settings import read_settings

    name = "publishconf.py" if publish else "pelicanconf.py"
    if not os.path.isfile(name):
        raise click.ClickException(f"No {name} here; run polku in the site's folder.")
    return read_settings(name)


def since_option(f):
    return click.option(
        "--since",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        help="Only count from this day (YYYY-MM-DD); default: all time.",
    )(f)
