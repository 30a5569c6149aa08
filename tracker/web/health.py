"""Liveness for load balancers and `polku serve`."""

from flask import Blueprint

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return {"ok": True}
