"""The dashboard's blueprint: `auth`, `views` and `exports` register their routes on it.

Its stylesheet is the tracker's `static/admin.css`, served under /admin/static.
"""

from __future__ import annotations

import os

from flask import Blueprint

STATIC = os.path.join(os.path.dirname(os.path.dirname(__file__)), "static")

bp = Blueprint("admin", __name__, static_folder=STATIC, static_url_path="/static")
