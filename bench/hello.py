"""The ceiling: a Flask endpoint that only parses the beacon's JSON and answers 202.

gunicorn -w 2 -k sync -b 127.0.0.1:8000 'bench.hello:create_app()'
"""

from __future__ import annotations

import json

from flask import Flask, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/api/event")
    def event():
        json.loads(request.get_data())
        return "", 202

    return app
