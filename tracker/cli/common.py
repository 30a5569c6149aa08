"""What every `polku` command shares: the tracker app, the site's settings."""

from __future__ import annotations

import logging
import os

import click

from .. import datadir, i18n

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}


SITE_ENV = "polku.env"


def load_site_env(path: str = SITE_ENV) -> list[str]:
    """Read the site folder's `polku.env` (POLKU_* settings) into the environment.

    A variable the shell already sets wins. Returns the names taken from the
    file. Lines are `NAME=value`; `#` starts a comment; quotes around a value
    are dropped.
    """
    if not os.path.isfile(path):
        return []
    taken = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, sep, value = line.strip().partition("=")
            name = name.strip()
            if not sep or not name.startswith("POLKU_") or name in os.environ:
                continue
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            os.environ[name] = value
            taken.append(name)
    return taken


def site_lang() -> str | None:
    """The site's language (the build's manifest), for what the owner is told."""
    return datadir.site_lang(os.environ.get("POLKU_DATA_DIR") or "var")


def _(message: str, /, **values) -> str:
    """The message in the site's language, with %(name)s values filled in."""
    return i18n.gettext(site_lang(), message, **values)


def n_(singular: str, plural: str, count: int, /, **values) -> str:
    """A message whose words follow a number (count is also %(count)s)."""
    return i18n.ngettext(site_lang(), singular, plural, count, count=count, **values)


def open_storage_app():
    """Return the tracker app the commands work through (settings from POLKU_*)."""
    from .. import create_app
    from ..config import ConfigError

    try:
        return create_app()
    except ConfigError as e:
        raise click.ClickException(str(e)) from e


def site_settings(publish: bool = False) -> dict:
    """Read the site's Pelican settings (theme, digest options) from this folder.

    Pelican's own warnings about building (feeds without SITEURL, say) belong
    to `polku build`; a command that only reads the settings keeps them quiet.
    """
    from pelican.settings import read_settings

    name = "publishconf.py" if publish else "pelicanconf.py"
    if not os.path.isfile(name):
        raise click.ClickException(
            _("No %(name)s here; run polku in the site's folder.", name=name)
        )
    quiet = logging.getLogger("pelican.settings")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return read_settings(name)
    finally:
        quiet.setLevel(level)


def since_option(f):
    return click.option(
        "--since",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        metavar="YYYY-MM-DD",
        help="Only count from this day; default: all time.",
    )(f)
