"""Open the configured backend once per process and hand it to the views.

As flaskr's db.py: `get_storage()` opens it lazily per app (so that a server's
forked workers each open their own), `init_app()` wires it into the factory.
The storage package itself knows no Flask: it gets the configuration as a dict.
"""

from __future__ import annotations

from flask import Flask, current_app

from . import storage
from .storage import Storage


def get_storage() -> Storage:
    """Return this app's storage, opened on first use (after a server forks)."""
    ext = current_app.extensions
    if "polku.storage" not in ext:
        ext["polku.storage"] = storage.open_storage(current_app.config)
    return ext["polku.storage"]


def init_app(app: Flask) -> None:
    """Storage lives as long as the process; open it lazily so forks get their own."""
    app.extensions.pop("polku.storage", None)
