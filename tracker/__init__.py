"""The Polku tracker: a Flask app factory."""

from __future__ import annotations

import os
import threading
from typing import Any

from flask import Flask
from jinja2 import FileSystemBytecodeCache
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
    from .web.fastpath import BeaconFastPath

    # Beacons are answered ahead of Flask, behind the proxy fix (the reader's IP).
    beacons = BeaconFastPath(app, app.wsgi_app)
    if app.config["PROXY_HOPS"]:
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(beacons, x_for=hops, x_proto=hops, x_host=hops)
    else:
        app.wsgi_app = UndeclaredProxyWarning(beacons, app.logger)

    from . import db, errors, i18n
    from .admin import bp as admin_bp
    from .admin import init_app as init_admin
    from .web import (
        api,
        bounce_hooks,
        collect,
        forms,
        health,
        preferences,
        quotes,
        site,
    )
    from .web import next as next_block
    from .web.limits import limiter

    # Compiled templates are kept on disk (jinja2's per-user temp folder, keyed
    # by each template's source), so a new worker's first page need not
    # compile them again: half a second of a cold dashboard.
    app.jinja_options = {
        **app.jinja_options,
        "bytecode_cache": FileSystemBytecodeCache(),
    }
    db.init_app(app)
    errors.init_app(app)
    i18n.install(app.jinja_env, lambda: site.site_lang())  # every page and email
    limiter.init_app(app)
    limiter.exempt(collect.bp)  # beacons are not forms; no per-request limiter work
    limiter.exempt(next_block.bp)  # never per address: one office, one block
    prefix = app.config["ROUTE_PREFIX"] or None
    for blueprint in (
        health.bp,
        collect.bp,
        forms.bp,
        api.bp,
        bounce_hooks.bp,
        preferences.bp,
        next_block.bp,
        quotes.bp,
    ):
        app.register_blueprint(blueprint, url_prefix=prefix)
    app.register_blueprint(admin_bp, url_prefix=(prefix or "") + "/admin")
    init_admin(app)
    return app


class UndeclaredProxyWarning:
    """Log once when X-Forwarded-For arrives while POLKU_PROXY_HOPS is 0.

    The tracker then reads every reader's address as the proxy's: one visitor
    hash per user agent, one rate limit for everyone. The cost per request is
    one look-up in the environ until the warning is given, then none beyond
    an attribute read.
    """

    def __init__(self, app, logger) -> None:
        self.app, self.logger = app, logger
        self.warned = False
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if not self.warned and "HTTP_X_FORWARDED_FOR" in environ:
            self.warn()
        return self.app(environ, start_response)

    def warn(self) -> None:
        with self.lock:
            if self.warned:
                return
            self.warned = True
        self.logger.warning(
            "A request came with X-Forwarded-For but POLKU_PROXY_HOPS is 0, so "
            "every reader behind the proxy shares its address and one rate limit. "
            "Behind a reverse proxy, set POLKU_PROXY_HOPS to the number of proxies "
            "(1 for one nginx or Caddy); without one, a client sent the header "
            "itself and it is ignored. (Said once per process.)"
        )
