"""The tracker with its beacon fast path taken out: Flask's view answers every
beacon, as before issue 21. A variant of bench/ingest.py (`polku-flask`).

gunicorn -w 2 -k sync -b 127.0.0.1:8000 'bench.no_fastpath:create_app()'
"""

from __future__ import annotations

from flask import Flask

import tracker
from tracker.web.fastpath import BeaconFastPath


def create_app() -> Flask:
    app = tracker.create_app()
    holder, attribute = app, "wsgi_app"
    while not isinstance(getattr(holder, attribute), BeaconFastPath):
        holder, attribute = getattr(holder, attribute), "app"
    setattr(holder, attribute, getattr(holder, attribute).app)
    return app
