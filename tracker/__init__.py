"""The Polku tracker: a Flask app factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from . import config as tracker_config


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the tracker; settings come from POLKU_* unless test_config is given."""
    app = Flask(__name__)
    app.config.from_mapping(tracker_config.defaults())
    if test_config is None:
        app.config.from_prefixed_env("POLKU")
    else:
        app.config.from_mapping(test_config)
    tracker_config.finalize(app.config)
    os.makedirs(app.config["DATA_DIR"], exist_ok=True)

    from . import health

    prefix = app.config["ROUTE_PREFIX"] or None
    app.register_blueprint(health.bp, url_prefix=prefix)
    return app
