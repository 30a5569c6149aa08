"""The owner's dashboard: the journey at a glance, contacts, and one person's timeline.

Behind a password (POLKU_ADMIN_PASSWORD), a session cookie that never leaves
/admin, a check that every POST (the login's too) comes from the dashboard's
own origin, a CSRF token on every POST after the login, and headers that
forbid inline scripts, framing and caching. Every page reads the aggregates
and indexes the storage keeps; none scans the events, except one contact's
own timeline.
"""

from __future__ import annotations

import csv
import hmac
import io
import json
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from .. import clock
from ..journey import report as journey_report
from ..journey import stages
from ..journey.counters import DIMENSIONS
from ..privacy import erase_everywhere
from ..storage import get_storage
from ..web.limits import limiter
from ..web.site import manifest

bp = Blueprint("admin", __name__, static_folder="static", static_url_path="/static")

PERIODS = ("today", "7d", "30d", "month", "custom")
PAGE_SIZE = 50
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


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


EPOCH = "admin_session_epoch"


def current_epoch() -> str | None:
    """The sessions' epoch: a logout starts a new one, ending every session before.

    The session lives in a signed cookie; a copy taken before the logout would
    otherwise stay valid for its 12 hours. A random value, not a time: servers
    whose clocks differ still agree on it.
    """
    return get_storage().get_meta(EPOCH)


DEFAULT_PORTS = {"http": 80, "https": 443}
SAME_ORIGIN_FETCHES = ("same-origin", "none")  # `none`: the owner's own action


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
        hint = (
            " Behind a reverse proxy, set POLKU_PROXY_HOPS so that the tracker"
            " knows the address it is reached at."
        )
    abort(
        403,
        f"This form was sent from {sent[:200]}, not from the dashboard at {own}, "
        f"so nothing was changed. Open the dashboard at its own address and try "
        f"again.{hint}",
    )


def check_csrf() -> None:
    sent = request.form.get("csrf", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, "The form has expired; please reload the page and try again.")


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


# -- the overview ----------------------------------------------------------------


def period_range(args) -> tuple[str, date, date]:
    """Return (period name, first day, last day) from the query string."""
    today = clock.now().date()
    period = args.get("period", "30d")
    if period == "custom":
        try:
            start = date.fromisoformat(args.get("from", ""))
            end = date.fromisoformat(args.get("to", ""))
        except ValueError:
            period = "30d"
        else:
            if start <= end and (end - start).days <= 3660:
                return period, start, end
            period = "30d"
    if period == "today":
        return period, today, today
    if period == "7d":
        return period, today - timedelta(days=6), today
    if period == "month":
        return period, today.replace(day=1), today
    return "30d", today - timedelta(days=29), today


def current_filters(args) -> dict[str, str]:
    return {d: args[d][:300] for d in DIMENSIONS if args.get(d)}


def overview_data(args) -> dict[str, Any]:
    period, start, end = period_range(args)
    filters = current_filters(args)
    touch = (
        args.get("touch") if args.get("touch") in journey_report.TOUCHES else "first"
    )
    storage = get_storage()
    summary = storage.summary(start.isoformat(), end.isoformat(), filters)
    span = (end - start).days + 1
    prev_start, prev_end = start - timedelta(days=span), start - timedelta(days=1)
    previous = storage.summary(prev_start.isoformat(), prev_end.isoformat(), filters)
    people = people_numbers(storage, start, end, filters, touch)
    data = journey_report.build(
        summary,
        None,
        manifest(),
        start.isoformat(),
        end.isoformat(),
        touch=touch,
        people=people["report"],
    )
    data.update(
        period=period,
        start=start.isoformat(),
        end=end.isoformat(),
        filters=filters,
        previous={
            "pageviews": previous["pageviews"],
            "visitors": previous["visitors"],
            "days": previous["days"],
        },
        guides=people["guides"],
        today=people["today"],
    )
    return data


_people_cache: dict[tuple, dict] = {}


def people_numbers(storage, start: date, end: date, filters: dict, touch: str) -> dict:
    """The overview's numbers about people, kept until a contact changes.

    Going over every contact costs in proportion to the contacts; pageviews
    change by the second, people only when someone decides.
    """
    version = storage.people_version()
    key = (
        id(storage),
        version,
        start,
        end,
        tuple(sorted(filters.items())),
        touch,
        clock.now().date(),
    )
    if version is not None and key in _people_cache:
        return _people_cache[key]
    people = [
        (c, events)
        for c, events in storage.iter_people()
        if journey_report.matches(c, filters, touch)
    ]
    contacts = [c for c, _ in people]
    numbers = {
        "report": journey_report.people_part(
            contacts, start.isoformat(), end.isoformat(), touch
        ),
        "guides": guide_downloads(people, start, end),
        "today": todays_people(contacts),
    }
    if version is not None:
        if len(_people_cache) > 64:
            _people_cache.clear()
        _people_cache[key] = numbers
    return numbers


def guide_downloads(
    people: list[tuple[dict, list[dict]]], start: date, end: date
) -> list:
    """Downloads per guide in the period, from the contacts' own events."""
    first, last = start.isoformat(), end.isoformat()
    counts: Counter = Counter(
        event.get("guide") or "?"
        for _, events in people
        for event in events
        if event["type"] == "download" and first <= event["ts"][:10] <= last
    )
    guides = manifest().get("guides") or {}
    rows = [
        {
            "guide": slug,
            "title": (guides.get(slug) or {}).get("title", slug),
            "downloads": n,
        }
        for slug, n in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r["downloads"], r["guide"]))


def todays_people(contacts: list[dict]) -> dict[str, list[dict]]:
    today = clock.now().date().isoformat()
    leads = [c for c in contacts if (c.get("lead_at") or "")[:10] == today]
    customers = [c for c in contacts if (c.get("customer_at") or "")[:10] == today]
    return {"leads": leads[:10], "customers": customers[:10]}


@bp.get("/")
def overview():
    return render_template("admin/overview.html", data=overview_data(request.args))


# -- contacts ----------------------------------------------------------------------


def describe(contact: dict, decisions: list[dict], now: datetime) -> dict:
    """One row of the contact list: stage, lead score, RFM segment, last seen."""
    value = stages.rfm(
        [e for e in decisions if e["type"] in ("purchase", "booking")], now
    )
    return {
        "contact": contact,
        "stage": stages.contact_stage(contact, decisions),
        "segment": value.segment if value else "",
        "score": stages.lead_score(decisions, now),
        "last_seen": decisions[-1]["ts"] if decisions else contact["created"],
    }


def described(people, now: datetime) -> list[dict]:
    """A row (stage, score, segment, last seen) for every contact, each worked
    out again only when its contact changed.

    A row is kept under its contact's last update, number of decisions and
    the day (the score decays by day; every change of a contact updates it or
    adds a decision), so after one signup only that person is worked out
    again; the row always shows the contact as stored now. The memo belongs
    to the app and holds the contacts of the last pass alone, so an erased
    person leaves it at the next look.
    """
    memo = current_app.extensions.get("polku.contact_rows", {})
    fresh: dict[str, tuple[tuple, dict]] = {}
    today = now.date()
    for contact, decisions in people:
        key = (contact.get("updated"), len(decisions), today)
        hit = memo.get(contact["id"])
        if hit is None or hit[0] != key:
            hit = (key, describe(contact, decisions, now))
        hit[1]["contact"] = contact
        fresh[contact["id"]] = hit
    current_app.extensions["polku.contact_rows"] = fresh
    return [row for _, row in fresh.values()]


def contact_rows(args, page: int | None = None) -> tuple[list[dict], int]:
    """Return the matching contacts, most recently seen first, and how many match."""
    query = (args.get("q") or "").strip().lower()[:200]
    stage = args.get("stage") or ""
    segment = args.get("segment") or ""
    rows = [
        row
        for row in described(get_storage().iter_people(), clock.now())
        if (
            not query
            or query in row["contact"]["email"]
            or query in (row["contact"].get("first_name") or "").lower()
        )
        and (not stage or row["stage"] == stage)
        and (not segment or row["segment"] == segment)
    ]
    rows.sort(key=lambda row: row["last_seen"], reverse=True)
    if page is not None:
        return rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], len(rows)
    return rows, len(rows)


@bp.get("/contacts")
def contacts():
    try:
        page = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        page = 1
    shown, total = contact_rows(request.args, page)
    return render_template(
        "admin/contacts.html",
        rows=shown,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        stages=stages.STAGES,
        segments=SEGMENTS,
        args=request.args,
    )


SEGMENTS = (
    "champions",
    "loyal",
    "new",
    "promising",
    "at risk",
    "hibernating",
    "needs attention",
)


def load_contact(contact_id: str) -> dict:
    contact = get_storage().get_contact(contact_id)
    if contact is None:
        abort(404, "No such contact (perhaps erased).")
    return contact


@bp.get("/contacts/<contact_id>")
def contact(contact_id: str):
    contact = load_contact(contact_id)
    events = get_storage().timeline(contact_id)
    now = clock.now()
    purchases = [e for e in events if e["type"] in ("purchase", "booking")]
    return render_template(
        "admin/contact.html",
        contact=contact,
        timeline=events,
        stage=stages.contact_stage(contact, events),
        score=stages.lead_score(events, now),
        rfm=stages.rfm(purchases, now),
    )


@bp.get("/contacts/<contact_id>/export.json")
def export_contact(contact_id: str):
    contact = load_contact(contact_id)
    body = json.dumps(
        {"contact": contact, "timeline": get_storage().timeline(contact_id)},
        indent=2,
        ensure_ascii=False,
    )
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="contact-{contact_id}.json"'
        },
    )


@bp.post("/contacts/<contact_id>/erase")
def erase_contact(contact_id: str):
    contact = load_contact(contact_id)
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm the erasure.")
        return redirect(url_for("admin.contact", contact_id=contact_id), 303)
    erase_everywhere(get_storage(), current_app.config["DATA_DIR"], contact)
    flash("The contact was erased.")
    return redirect(url_for("admin.contacts"), 303)


# -- CSV downloads -------------------------------------------------------------------

TABLES = {
    "sources": (
        "sources",
        ["source", "visits", "visitors", "leads", "customers", "conversion_rate"],
    ),
    "campaigns": (
        "campaigns",
        ["campaign", "visits", "visitors", "leads", "customers", "conversion_rate"],
    ),
    "pages": (
        "posts",
        [
            "path",
            "title",
            "kind",
            "views",
            "visitors",
            "entries",
            "signups",
            "conversion_rate",
        ],
    ),
    "landings": (
        "landings",
        ["path", "visits", "visitors", "leads", "customers", "conversion_rate"],
    ),
    "guides": ("guides", ["guide", "title", "downloads"]),
    "referrals": (
        "referrals",
        ["email", "first_name", "referred", "converted", "advocate"],
    ),
    "feedback": ("feedback_rows", ["email", "score", "comment"]),
    "funnel": (
        "funnel",
        ["stage", "count", "rate_from_previous", "rate_from_top", "drop_off"],
    ),
}


def csv_response(name: str, fields: list[str], rows: Iterable[dict]) -> Response:
    """Stream a table as CSV, a thousand rows at a time: 100k contacts start at once."""

    def chunks() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(fields)
        for n, row in enumerate(rows, 1):
            writer.writerow([neutralise(row.get(k)) for k in fields])
            if n % 1000 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return Response(
        stream_with_context(chunks()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="polku-{name}.csv"'},
    )


def neutralise(value: Any) -> Any:
    """Keep a spreadsheet from running a stored string as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


CONTACT_FIELDS = [
    "email",
    "first_name",
    "stage",
    "score",
    "segment",
    "newsletter",
    "ads_consent",
    "last_seen",
]


def contact_line(row: dict) -> dict:
    contact = row["contact"]
    return {
        "email": contact["email"],
        "first_name": contact.get("first_name"),
        "stage": row["stage"],
        "score": row["score"],
        "segment": row["segment"],
        "newsletter": contact["status"],
        "ads_consent": bool(contact["consent"].get("ads")),
        "last_seen": row["last_seen"],
    }


@bp.get("/<table>.csv")
def table_csv(table: str):
    if table == "contacts":
        rows, _ = contact_rows(request.args)
        return csv_response("contacts", CONTACT_FIELDS, map(contact_line, rows))
    if table not in TABLES:
        abort(404)
    key, fields = TABLES[table]
    data = overview_data(request.args)
    data["feedback_rows"] = data["feedback"]["detractors_to_follow_up"]
    return csv_response(table, fields, data[key])


class AdminOnlySessions(SecureCookieSessionInterface):
    """Open the session cookie only under /admin: readers never carry or cost one."""

    def open_session(self, app, request):
        if not request.path.startswith(app.config["SESSION_COOKIE_PATH"]):
            return self.null_session_class()
        return super().open_session(app, request)


def init_app(app) -> None:
    app.session_interface = AdminOnlySessions()
    app.config.setdefault("SESSION_COOKIE_NAME", "polku_admin")
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SECURE"] = app.config["ENV"] == "production"
    app.config["SESSION_COOKIE_PATH"] = (app.config["ROUTE_PREFIX"] or "") + "/admin"
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=12)
    app.jinja_env.globals["csrf_token"] = csrf_token
