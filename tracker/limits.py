"""Per-IP rate limits on the forms (Flask-Limiter), with no CAPTCHA service."""

from __future__ import annotations

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, storage_uri="memory://")


def form_limit() -> str:
    return current_app.config["RATELIMIT_FORMS"]


forms = limiter.shared_limit(form_limit, scope="forms")
