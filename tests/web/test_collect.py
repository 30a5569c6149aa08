"""POST /api/event and GET /api/pixel.gif."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker.db import get_storage

from ..conftest import BROWSER_UA, SITE, raw_data, read_only

GOOD = {
    "name": "pageview",
    "url": SITE + "/posts/one/?utm_source=facebook&utm_medium=paid"
    "&utm_campaign=spring&ref=abc",
    "referrer": "https://news.example/x",
    "width": 390,
    "title": "One",
}
HEADERS = {"Origin": SITE, "User-Agent": BROWSER_UA, "Content-Type": "text/plain"}


def events(app):
    with app.app_context():
        return list(get_storage().iter_events())


def send(client, body, **headers):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/api/event", data=data, headers={**HEADERS, **headers})


def test_pageview_is_accepted_and_stored(client, app):
    response = send(client, GOOD)
    assert response.status_code == 202
    (event,) = events(app)
    assert event["type"] == "pageview" and event["path"] == "/posts/one/"
    assert event["utm"] == {
        "source": "facebook",
        "medium": "paid",
        "campaign": "spring",
    }
    assert event["ref"] == "abc" and event["referrer"] == "news.example"
    assert event["device"] == "desktop" and event["width"] == 390
    assert len(event["visitor"]) == 32


def test_two_identical_beacons_are_two_pageviews(client, app):
    assert send(client, GOOD).status_code == 202
    assert send(client, GOOD).status_code == 202
    assert len(events(app)) == 2


def test_visitor_id_is_stable_within_a_day_and_holds_no_ip(client, app):
    send(client, GOOD, **{"X-Forwarded-For": "203.0.113.9"})
    send(client, GOOD)
    first, second = events(app)
    assert first["visitor"] == second["visitor"]
    assert b"127.0.0.1" not in raw_data(app)


def test_named_event_with_props(client, app):
    body = {**GOOD, "name": "cta-click", "props": {"where": "footer", "n": 2}}
    assert send(client, body).status_code == 202
    (event,) = events(app)
    assert event["type"] == "event" and event["props"] == {"where": "footer", "n": 2}


def test_json_content_type_is_fine(client, app):
    assert send(client, GOOD, **{"Content-Type": "application/json"}).status_code == 202


def test_bots_are_counted_apart(client, app):
    send(
        client,
        GOOD,
        **{"User-Agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
    )
    (event,) = events(app)
    assert event["type"] == "bot" and "visitor" not in event


def test_mobile_device_class(client, app):
    ua = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    )
    send(client, GOOD, **{"User-Agent": ua})
    assert events(app)[0]["device"] == "mobile"


@pytest.mark.parametrize(
    "body, headers, status",
    [
        (b"{not json", {}, 400),
        (b"[1, 2]", {}, 400),
        (json.dumps({**GOOD, "extra": 1}), {}, 400),
        (json.dumps({**GOOD, "width": "wide"}), {}, 400),
        (json.dumps({**GOOD, "url": "javascript:alert(1)"}), {}, 400),
        (json.dumps({**GOOD, "url": "https://evil.example/"}), {}, 400),
        (json.dumps({**GOOD, "url": "ftp://kettu.example/"}), {}, 400),
        (json.dumps({**GOOD, "name": "<script>"}), {}, 400),
        (json.dumps({k: v for k, v in GOOD.items() if k != "url"}), {}, 400),
        (json.dumps(GOOD), {"Origin": "https://evil.example"}, 403),
        (json.dumps(GOOD), {"Content-Type": "multipart/form-data"}, 415),
        (json.dumps({**GOOD, "title": "x" * 9000}), {}, 413),
    ],
)
def test_bad_beacons_get_a_json_4xx_and_store_nothing(
    client, app, body, headers, status
):
    response = send(client, body, **headers)
    assert response.status_code == status, response.json
    assert response.json["ok"] is False and response.json["error"]
    assert events(app) == []


def test_pixel_records_a_pageview_for_no_js_readers(client, app):
    response = client.get(
        "/api/pixel.gif?u=%2Fposts%2Fone%2F", headers={"User-Agent": BROWSER_UA}
    )
    assert response.status_code == 200 and response.mimetype == "image/gif"
    (event,) = events(app)
    assert event["path"] == "/posts/one/" and event["host"] == "kettu.example"


def test_pixel_refuses_foreign_pages(client, app):
    response = client.get("/api/pixel.gif?u=https%3A%2F%2Fevil.example%2F")
    assert response.status_code == 400
    assert events(app) == []


def test_dev_accepts_any_local_port(app_factory):
    app = app_factory(SITE_URL="")
    with open(app.config["DATA_DIR"] + "/manifest.json", "w") as f:
        f.write("{}")
    client = app.test_client()
    body = {**GOOD, "url": "http://127.0.0.1:8123/posts/one/"}
    assert send(client, body, Origin="http://127.0.0.1:8123").status_code == 202


def test_production_refuses_local_origins(app_factory):
    app = app_factory(ENV="production", SECRET_KEY="x" * 40)
    body = {**GOOD, "url": "http://127.0.0.1:8123/posts/one/"}
    response = send(app.test_client(), body, Origin="http://127.0.0.1:8123")
    assert response.status_code == 403


@pytest.mark.tinydb_only
def test_storage_down_answers_503_and_recovers(client, app):
    send(client, GOOD)
    with read_only(Path(app.config["DATA_DIR"])):
        response = send(client, GOOD)
        assert response.status_code == 503
        assert "Cannot store data now" in response.json["error"]
    assert send(client, GOOD).status_code == 202
    assert len(events(app)) == 2


def test_consent_mode_uses_the_browser_id_unless_dnt(app_factory):
    app = app_factory(CONSENT_MODE="consent")
    client = app.test_client()
    send(client, {**GOOD, "visitor": "browser-id-1234"})
    send(client, {**GOOD, "visitor": "browser-id-1234"}, DNT="1")
    send(client, {**GOOD, "visitor": "browser-id-1234"}, **{"Sec-GPC": "1"})
    ids = [e["visitor"] for e in events(app)]
    assert ids[0] == "browser-id-1234"
    assert ids[1] != "browser-id-1234" and ids[2] != "browser-id-1234"


def test_cookieless_mode_ignores_a_claimed_id(client, app):
    send(client, {**GOOD, "visitor": "browser-id-1234"})
    assert events(app)[0]["visitor"] != "browser-id-1234"


# ---- numbers and ids no store can hold: a 4xx, never a 500 -------------------

BIG = 2**64  # orjson (journal, PostgreSQL events) writes integers up to 64 bits


def stored(app) -> bytes:
    """Every byte stored, once the storage is open (PostgreSQL's schema and
    settings are written when it first opens)."""
    events(app)
    return raw_data(app)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({**GOOD, "name": "buy", "props": {"n": BIG}}),
        json.dumps({**GOOD, "name": "buy", "props": {"n": -(2**63) - 1}}),
        json.dumps({**GOOD, "name": "buy", "props": {"n": 10**400}}),
        json.dumps({**GOOD, "name": "buy", "props": {"n": {"deep": BIG}}}),
        json.dumps({**GOOD, "name": "buy", "props": {"n": [BIG]}}),
        json.dumps({**GOOD, "width": BIG}),
        json.dumps({**GOOD, "name": "buy"})[:-1] + ', "props": {"n": 1e400}}',
        json.dumps({**GOOD, "name": "buy"})[:-1] + ', "props": {"n": -1e400}}',
        json.dumps({**GOOD, "name": "buy"})[:-1] + ', "props": {"n": NaN}}',
    ],
)
def test_numbers_no_store_can_hold_are_refused(client, app, body):
    """A 2**64 prop made orjson raise (a 500); 1e400 would be stored as null."""
    before = stored(app)
    response = send(client, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["ok"] is False and response.json["error"]
    assert events(app) == [] and stored(app) == before


def test_the_largest_64_bit_props_are_kept(client, app):
    props = {"max": 2**63 - 1, "min": -(2**63), "x": 1.5e300}
    assert send(client, {**GOOD, "name": "buy", "props": props}).status_code == 202
    assert events(app)[0]["props"] == props


NOT_A_STRING = [12345678, 2**64, ["browser-id-1234"], {"id": "browser-id-1234"}, True]


@pytest.mark.parametrize("visitor", NOT_A_STRING)
def test_consent_mode_refuses_a_visitor_id_that_is_not_a_string(app_factory, visitor):
    app = app_factory(CONSENT_MODE="consent")
    client = app.test_client()
    before = stored(app)
    response = send(client, {**GOOD, "visitor": visitor})
    assert response.status_code == 400 and response.json["ok"] is False
    assert "visitor" in response.json["error"]
    assert events(app) == [] and stored(app) == before


@pytest.mark.parametrize("visitor", NOT_A_STRING)
@pytest.mark.parametrize("route", ["/subscribe", "/download"])
@pytest.mark.parametrize("mode", ["consent", "cookieless"])
def test_forms_take_no_claimed_visitor_id_whatever_it_is(
    app_factory, route, visitor, mode
):
    """`"visitor": 12345678` in a JSON signup raised TypeError in the regex: a
    500. The forms no longer take a claimed id at all (the browser that opens
    the emailed link is joined instead), so it is ignored, and stored nowhere."""
    app = app_factory(CONSENT_MODE=mode)
    client = app.test_client()
    body = {
        "email": "reader@example.com",
        "consent_newsletter": "yes",
        "guide": "website-checklist",
        "visitor": visitor,
    }
    response = client.post(
        route,
        json=body,
        headers={
            "Origin": SITE,
            "User-Agent": BROWSER_UA,
            "Accept": "application/json",
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["ok"] is True
    assert b"browser-id-1234" not in raw_data(app)


# -- A/B test exposures -----------------------------------------------------------

CTA_TEST = {
    "name": "newsletter-cta",
    "status": "running",
    "goal": "signup",
    "variants": [{"name": "control"}, {"name": "fixes"}],
}


def with_experiments(app, **experiments):
    """The build's manifest, now with these experiments."""
    path = Path(app.config["DATA_DIR"]) / "manifest.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "experiments": experiments}))
    return app


def shown(variant, experiment="newsletter-cta", **more):
    props = {"experiment": experiment, "variant": variant, **more}
    return {**GOOD, "name": "exposure", "props": props}


def test_an_exposure_is_stored_with_its_experiment_variant_and_reader(app):
    client = with_experiments(app, **{"newsletter-cta": CTA_TEST}).test_client()
    assert send(client, GOOD).status_code == 202
    assert send(client, shown("fixes")).status_code == 202
    pageview, exposure = events(app)
    assert exposure["type"] == "exposure"
    assert (exposure["experiment"], exposure["variant"]) == ("newsletter-cta", "fixes")
    assert exposure["visitor"] == pageview["visitor"]
    assert "name" not in exposure and "props" not in exposure
    # Not a named event: the dashboard's events panel does not count it.
    with app.app_context():
        assert get_storage().summary()["events"] == {}


@pytest.mark.parametrize(
    "body, reason",
    [
        (shown("fixes", experiment="unknown-test"), "No experiment 'unknown-test'"),
        (shown("fixes", experiment="Not A Name"), "is not a name"),
        (shown("fixes", experiment=["x"]), "short scalar values"),
        (shown("treatment"), "no such variant"),
        (shown(7), "no such variant"),
        (shown("fixes", extra="x"), "exactly an experiment and a variant"),
        ({**GOOD, "name": "exposure"}, "exactly an experiment and a variant"),
        (shown("fixes", experiment="draft-test"), "No experiment 'draft-test'"),
    ],
)
def test_a_junk_exposure_gets_a_400_with_the_reason_and_stores_nothing(
    app, body, reason
):
    draft = {**CTA_TEST, "name": "draft-test", "status": "draft"}
    with_experiments(app, **{"newsletter-cta": CTA_TEST, "draft-test": draft})
    client = app.test_client()
    before = stored(app)
    response = send(client, body)
    assert response.status_code == 400, response.json
    assert reason in response.json["error"]
    assert events(app) == [] and stored(app) == before


def test_an_exposure_on_a_site_without_experiments_is_refused(client, app):
    response = send(client, shown("fixes"))
    assert response.status_code == 400 and "No experiment" in response.json["error"]
    assert events(app) == []
