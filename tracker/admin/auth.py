"""Who may open the dashboard: login, logout, the session, CSRF and the origin check.

Behind a password (POLKU_ADMIN_PASSWORD), a session cookie that never leaves
/admin, a check that every POST (the login's too) comes from the dashboard's
own origin, a CSRF token on every POST after the login, and headers that
forbid inline scripts, framing and caching.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from ..db import get_storage
from ..web.limits import limiter
from ..web.site import gettext as _
from .blueprint import bp

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
EPOCH = "admin_session_epoch"
DEFAULT_PORTS = {"http": 80, "https": 443}
SAME_ORIGIN_FETCHES = ("same-origin", "none")  # `none`: the owner's own action


@bp.after_request
def security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    # Same-origin posts keep their Origin (with `no-referrer` a browser sends
    # `Origin: null`); no other site ever learns a dashboard address.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.before_request
def require_login():
    if not current_app.config.get("ADMIN_PASSWORD"):
        return render_template("admin/off.html"), 503
    if request.method == "POST":
        check_origin()
    if request.endpoint in ("admin.login", "admin.static"):
        return None
    if not session.get("admin") or session.get("epoch") != current_epoch():
        session.clear()
        return redirect(url_for("admin.login", next=request.full_path), 303)
    if request.method == "POST":
        check_csrf()
    return None


def current_epoch() -> str | None:
    """The sessions' epoch: a logout starts a new one, ending every session before.

    The session lives in a signed cookie; a copy taken before the logout would
    otherwise stay valid for its 12 hours. A random value, not a time: servers
    whose clocks differ still agree on it.
    """
    return get_storage().get_meta(EPOCH)


def origin_of(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL or origin; None if it has none."""
    try:
        parts = urlsplit(url.strip())
        scheme, host = parts.scheme.lower(), parts.hostname
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host or parts.username is not None:
        return None
    return scheme, host, port


def check_origin() -> None:
    """Refuse a POST that a browser says comes from another origin.

    A page elsewhere can make the owner's browser post to the dashboard, with
    its cookie; the browser names the page's origin in `Origin` (or, failing
    that, `Referer`) and says `Sec-Fetch-Site`, which no page can forge. The
    dashboard's own origin is this request's scheme and host, as the browser
    sent them (or the proxy, with POLKU_PROXY_HOPS). `Origin: null` (an opaque
    origin, or a page whose referrer policy is `no-referrer`) passes only when
    the browser says the fetch is same-origin. A POST that names no origin at
    all keeps to the CSRF token (every browser sends Origin on a cross-site POST).
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    sent = request.headers.get("Origin")
    if sent is None:
        referer = request.headers.get("Referer")
        sent = None if referer is None else (referer or "null")
    own = origin_of(request.host_url)
    if fetch_site is not None and fetch_site.lower() not in SAME_ORIGIN_FETCHES:
        refuse_origin(sent or f"another site (Sec-Fetch-Site: {fetch_site})")
    if sent is None:
        return
    if sent.strip() == "null":
        if (fetch_site or "").lower() != "same-origin":
            refuse_origin("a page that hides its origin")
        return
    if own is None or origin_of(sent) != own:
        refuse_origin(sent)


def refuse_origin(sent: str) -> None:
    own = request.host_url.rstrip("/")
    hint = ""
    if "X-Forwarded-For" in request.headers and not current_app.config["PROXY_HOPS"]:
        hint = " " + _(
            "Behind a reverse proxy, set POLKU_PROXY_HOPS so that the tracker"
            " knows the address it is reached at."
        )
    message = _(
        "This form was sent from %(sent)s, not from the dashboard at %(own)s, "
        "so nothing was changed. Open the dashboard at its own address and try "
        "again.",
        sent=sent[:200],
        own=own,
    )
    abort(403, message + hint)


def check_csrf() -> None:
    sent = request.form.get("csrf", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, _("The form has expired; please reload the page and try again."))


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def safe_next(target: str | None) -> str:
    """Only ever redirect inside the dashboard (no open redirect through ?next=)."""
    base = url_for("admin.overview")
    inside = target and target.startswith(base) and target.isprintable()  # no CRLF
    if inside and "//" not in target and "\\" not in target:
        return target
    return base


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("5/minute;30/hour", methods=["POST"])
def login():
    error = None
    if request.method == "POST":
        given = request.form.get("password", "").encode()
        wanted = str(current_app.config["ADMIN_PASSWORD"]).encode()
        if hmac.compare_digest(given, wanted):
            session.clear()
            session["admin"] = True
            session["epoch"] = get_storage().update_meta(
                EPOCH, lambda old: old or secrets.token_hex(16)
            )
            session.permanent = True
            csrf_token()
            return redirect(safe_next(request.args.get("next")), 303)
        error = "That password is not right."
    return render_template("admin/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout():
    get_storage().update_meta(EPOCH, lambda _: secrets.token_hex(16))
    session.clear()
    return redirect(url_for("admin.login"), 303)


class AdminOnlySessions(SecureCookieSessionInterface):
    """Open the session cookie only under /admin: readers never carry or cost one."""

    def open_session(self, app, request):
        if not request.path.startswith(app.config["SESSION_COOKIE_PATH"]):
            return self.null_session_class()
        return super().open_session(app, request)


def init_app(app) -> None:
    """Keep the owner's session in a cookie that lives under /admin for 12 hours."""
    app.session_interface = AdminOnlySessions()
    app.config.setdefault("SESSION_COOKIE_NAME", "polku_admin")
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SECURE"] = app.config["ENV"] == "production"
    app.config["SESSION_COOKIE_PATH"] = (app.config["ROUTE_PREFIX"] or "") + "/admin"
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=12)
    app.jinja_env.globals["csrf_token"] = csrf_token
