"""Hostile input on every route: never a 5xx, nothing stored when refused, no
open redirect.

Hypothesis generates requests to every route in the app's URL map (see
strategies.SHAPES), against the tracker as deployed (one site origin) and as
in development (any local port, routes under a prefix, behind a proxy). Each
route gets its share: 40 requests per route and configuration by default,
250 with `--slow` (or HYPOTHESIS_PROFILE=polku-fuzz-bench), over 10,000 in
all. Each run
prints how many requests it made, to how many routes, and the answers.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from urllib.parse import urlsplit

import pytest
from hypothesis import given

from ..conftest import SITE
from ..mailserver import mail_server
from .conftest import Stored, World, changed_files, embedded_tracker, on_site, seed
from .strategies import SHAPES, Call, calls_to

# Routes whose GET records an observation (a pageview, a click, a download);
# every other GET, HEAD or OPTIONS must leave the data untouched.
OBSERVING = {"collect.pixel", "forms.click", "forms.guide_file"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def fuzzed_rules(app) -> list:
    """Every route; the erasure last, as it makes the seeded tokens useless."""
    rules = app.url_map.iter_rules()
    return sorted(rules, key=lambda r: (r.endpoint == "admin.erase_contact", r.rule))


def test_every_route_has_a_fuzz_shape(tmp_path):
    """A new route fails here until strategies.SHAPES says what it takes."""
    app = embedded_tracker(tmp_path / "var")
    missing = {r.endpoint for r in fuzzed_rules(app)} - set(SHAPES)
    assert not missing, f"add a Shape to tests/security/strategies.py for {missing}"


def requested_hosts(call: Call, app) -> set[str]:
    """The host the request was sent to: a redirect there stays on site
    (Werkzeug's redirect from `//` to `/` names it)."""
    names = ["Host"] + (["X-Forwarded-Host"] if app.config["PROXY_HOPS"] else [])
    found = set()
    for name in names:
        if name in call.headers:
            try:
                found.add(urlsplit("http://" + call.headers[name]).hostname or "")
            except ValueError:
                continue
    return found


def refused(response, prefix: str) -> bool:
    """A 4xx, a form's 303 back to itself with the reason (`/form/<token>`) or
    to the error page, or the dashboard sending a visitor who is not logged in
    to its login (with ?next=)."""
    if 400 <= response.status_code < 500:
        return True
    target = urlsplit(response.headers.get("Location", ""))
    return response.status_code in (302, 303) and (
        target.path.endswith("/oops/")
        or target.path.startswith(prefix + "/form/")
        or (target.path == prefix + "/admin/login" and "next=" in target.query)
    )


class Fuzz:
    """Sends generated calls to one tracker and checks every answer."""

    def __init__(self, world: World, hosts: set[str]) -> None:
        self.world, self.hosts = world, hosts
        self.client = world.app.test_client(use_cookies=False)
        self.stored = Stored(world.data_dir)
        self.statuses: Counter = Counter()
        self.routes: Counter = Counter()
        self.by_route: dict[str, Counter] = defaultdict(Counter)
        self.prefix = world.app.config["ROUTE_PREFIX"] or ""

    def check(self, call: Call) -> None:
        before = self.stored.now()
        response = call.send(self.client)
        response.close()  # a guide or a stylesheet is sent as an open file
        self.statuses[response.status_code] += 1
        self.routes[call.endpoint, call.method] += 1
        self.by_route[call.endpoint][response.status_code] += 1
        assert response.status_code < 500, response.get_data(as_text=True)[:500]
        location = response.headers.get("Location")
        hosts = self.hosts | requested_hosts(call, self.world.app)
        assert location is None or on_site(location, hosts), location
        if refused(response, self.prefix) or (
            call.method in SAFE_METHODS and call.endpoint not in OBSERVING
        ):
            changed = changed_files(before, self.stored.now())
            assert not changed, f"{response.status_code} but stored {changed}"

    def report(self, capsys, name: str, seconds: float, verbose: bool) -> None:
        """Print the figures (per route too with -v): they go into bench/README."""
        requests = sum(self.statuses.values())
        endpoints = {endpoint for endpoint, _ in self.routes}
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(self.statuses.items()))
        with capsys.disabled():
            print(
                f"\n[fuzz {name}] requests={requests} "
                f"routes={len(endpoints)}/{len(fuzzed_rules(self.world.app))} "
                f"route+method={len(self.routes)} seconds={seconds:.1f} "
                f"statuses {statuses}"
            )
            if verbose:
                for endpoint, counts in sorted(self.by_route.items()):
                    print(f"  {endpoint}: {dict(sorted(counts.items()))}")


def run_fuzz(
    world: World,
    hosts: set[str],
    fuzz_settings,
    request,
    name: str,
    only: set[str] | None = None,
    deep: bool = False,
):
    """Fuzz each route in turn (or those in only): every route gets the same
    share of requests (deep: strategies.deep_calls_to's)."""
    fuzz = Fuzz(world, hosts)
    began = time.monotonic()
    try:
        for rule in fuzzed_rules(world.app):
            if only is not None and rule.endpoint not in only:
                continue

            @fuzz_settings
            @given(call=calls_to(world, rule, deep))
            def one_route(call: Call) -> None:
                fuzz.check(call)

            one_route()
    finally:
        verbose = request.config.getoption("verbose") > 0
        capsys = request.getfixturevalue("capsys")
        fuzz.report(capsys, name, time.monotonic() - began, verbose)


def test_fuzz_as_deployed(site_world, fuzz_settings, request):
    run_fuzz(site_world, {"kettu.example", "localhost"}, fuzz_settings, request, "site")


def test_fuzz_in_development(dev_world, fuzz_settings, request):
    hosts = {"127.0.0.1", "localhost", "::1"}
    run_fuzz(dev_world, hosts, fuzz_settings, request, "dev")


# The routes that read a claimed visitor id, a number to store or an address
# to mail, fuzzed once more in consent mode, sending through a real SMTP server
# that offers SMTPUTF8 (where `jörg@exämple.fi` made a signup a 500): first
# every call as above, then valid calls each with one field deep inside
# hostile (a number past 64 bits or 1e400, a visitor id that is no string,
# an address in Unicode), which random mutation alone reaches too rarely.
MAILING = {"collect.event", "forms.subscribe", "forms.download", "api.conversion"}


@pytest.fixture
def mailing_world(tmp_path):
    app = embedded_tracker(tmp_path / "var", CONSENT_MODE="consent")
    world = seed(app, SITE)  # reads its links from the outbox
    with mail_server(smtputf8=True) as (server, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        yield world, server


def test_fuzz_in_consent_mode_with_a_mail_server(mailing_world, fuzz_settings, request):
    world, server = mailing_world
    hosts = {"kettu.example", "localhost"}
    run_fuzz(world, hosts, fuzz_settings, request, "consent+smtp", only=MAILING)
    run_fuzz(world, hosts, fuzz_settings, request, "deep", only=MAILING, deep=True)
    assert any("SMTPUTF8" in d.mail_options for d in server.deliveries)
