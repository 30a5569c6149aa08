"""The Polku tracker: a Flask app factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

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
    if app.config["PROXY_HOPS"]:
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from . import admin, api, charts, collect, errors, forms, health, storage
    from .limits import limiter

    storage.init_app(app)
    errors.init_app(app)
    limiter.init_app(app)
    limiter.exempt(collect.bp)  # beacons are not forms; no per-request limiter work
    prefix = app.config["ROUTE_PREFIX"] or None
    for blueprint in (health.bp, collect.bp, forms.bp, api.bp):
        app.register_blueprint(blueprint, url_prefix=prefix)
    app.register_blueprint(admin.bp, url_prefix=(prefix or "") + "/admin")
    admin.init_app(app)
    charts.init_templates(app)
    return app
