"""Permission that cannot be forged, lost or refused.

A stranger can post any form with anyone's address, from many addresses, with
any headers. Nothing such a post says about a person is believed until that
person uses the signed link we email them, in their own browser. Each test
plays the stranger; the form-level ones run on both backends (the `reader`
and `app` fixtures), the ones about several source addresses against the real
tracker under gunicorn with two workers.
"""

from __future__ import annotations

import http.client
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tracker import privacy
from tracker.db import get_storage
from tracker.web import tokens

from ..conftest import SITE, Reader, write_manifest
from ..reliability.harness import Server
from ..web.test_collect import GOOD, send

VICTIM = "victim@example.com"


def contact(app, email: str = VICTIM) -> dict | None:
    with app.app_context():
        return get_storage().find_contact(email)


def timeline(app, email: str = VICTIM) -> list[dict]:
    with app.app_context():
        return get_storage().timeline(contact(app, email)["id"])


def browser(app, ip: str, **headers: str) -> Reader:
    """A reader's browser at its own address (its own cookieless visitor id)."""
    reader = Reader(app.test_client(), app)
    reader.client.environ_base["REMOTE_ADDR"] = ip
    reader.headers.update(headers)
    return reader


def pageview(reader: Reader, path: str) -> None:
    body = {**GOOD, "url": SITE + path}
    assert send(reader.client, body, **reader.headers).status_code == 202


def paths_seen(app, email: str = VICTIM) -> set[str]:
    return {e["path"] for e in timeline(app, email) if e["type"] == "pageview"}


# -- consent is bound to the request that asked for it ---------------------------


def test_a_later_post_never_changes_what_an_earlier_link_confirms(app, set_clock):
    set_clock("2026-03-02T10:00:00Z")
    victim = browser(app, "198.51.100.20")
    victim.subscribe(VICTIM, first_name="Aino")
    first_link = victim.link("confirm", to=VICTIM)
    set_clock("2026-03-02T10:30:00Z")
    stranger = browser(app, "198.51.100.7")
    stranger.subscribe(
        VICTIM, first_name="Mallory", consent_ads="yes", form="evil", source="/x/"
    )
    strangers_link = stranger.link("confirm", to=VICTIM)
    assert strangers_link != first_link

    assert victim.post(first_link).status_code == 303
    c = contact(app)
    assert c["status"] == "confirmed" and c["first_name"] == "Aino"
    assert c["consent"]["ads"] is None
    assert c["consent"]["newsletter"]["form"] == "article-signup"
    assert c["consent"]["newsletter"]["page"] == "/posts/one/"


def test_the_confirm_page_says_what_is_agreed_to_and_asks_for_ads_apart(reader, app):
    reader.subscribe(VICTIM, first_name="Aino", consent_ads="yes")
    page = reader.client.get(reader.link("confirm", to=VICTIM)).get_data(as_text=True)
    assert VICTIM in page and "Aino" in page
    assert "Send me the letter." in page  # the newsletter wording, as proof has it
    assert '<input type="checkbox" id="consent_ads" name="consent_ads"' in page
    assert "checked" not in page
    assert "Ads are fine." in page
    email = reader.outbox()[-1].get_body(("plain",)).get_content()
    assert "Send me the letter." in email and "ad audiences" in email


def test_ad_consent_comes_only_from_the_confirm_page(reader, app):
    reader.subscribe(VICTIM, consent_ads="yes")
    assert reader.post(reader.link("confirm", to=VICTIM)).status_code == 303
    assert contact(app)["consent"]["ads"] is None  # asked on the form: not enough


def test_a_confirmed_address_posted_again_changes_nothing(app, set_clock):
    set_clock("2026-03-02T10:00:00Z")
    victim = browser(app, "198.51.100.20")
    victim.confirm(VICTIM)
    before = contact(app)
    set_clock("2026-03-03T10:00:00Z")
    stranger = browser(app, "198.51.100.7")
    stranger.subscribe(VICTIM, first_name="Mallory")
    assert len(stranger.outbox()) == 1  # nothing new asked: nothing sent
    stranger.subscribe(VICTIM, first_name="Mallory", consent_ads="yes")
    assert len(stranger.outbox()) == 2  # a new choice: its own link
    after = contact(app)
    assert after["first_name"] == before["first_name"] is None
    assert after["consent"] == before["consent"]
    page = stranger.client.get(stranger.link("confirm", to=VICTIM))
    assert b"Mallory" in page.data  # the link names exactly what it would apply


# -- nothing about a person is believed until the address is proven -------------


def test_an_unproven_post_believes_nothing(app, set_clock):
    set_clock("2026-03-02T10:00:00Z")
    stranger = browser(app, "198.51.100.7")
    stranger.confirm("stranger@example.com")
    code = contact(app, "stranger@example.com")["ref_code"]
    pageview(stranger, "/posts/stranger/")
    set_clock("2026-03-02T11:00:00Z")
    stranger.subscribe(VICTIM, first_name="Mallory", ref=code)
    stranger.download(VICTIM, first_name="Mallory", ref=code)
    c = contact(app)
    assert c["lead_at"] is None and c["first_name"] is None
    assert c["referred_by"] is None and c["visitors"] == []
    assert contact(app, "stranger@example.com")["advocate_at"] is None
    assert paths_seen(app) == set()

    victim = browser(app, "198.51.100.20", **{"User-Agent": "Victim's browser/1.0"})
    pageview(victim, "/posts/victim/")
    download = victim.link("download", to=VICTIM)
    victim.client.get(download, headers=victim.headers).close()
    c = contact(app)
    assert c["lead_at"] and c["first_name"] == "Mallory"  # what they confirmed
    assert paths_seen(app) == {"/posts/victim/"}  # only the browser that proved it


def test_a_download_is_a_lead_only_once_its_link_is_used(reader, app):
    reader.download(VICTIM)
    assert contact(app)["lead_at"] is None
    assert not [e for e in timeline(app) if e["type"] == "download"]
    reader.client.get(reader.link("download", to=VICTIM)).close()
    reader.client.get(reader.link("download", to=VICTIM)).close()
    assert contact(app)["lead_at"]
    downloads = [e for e in timeline(app) if e["type"] == "download"]
    assert len(downloads) == 1  # a second fetch is not a second download


@pytest.mark.parametrize(
    "given, greeted",
    [
        ("Aino", "Aino"),
        ("Anne-Marie O'Neil", "Anne-Marie O'Neil"),
        ("J. Virtanen", "J. Virtanen"),
        ("Visit https://evil.example", None),
        ("evil.example", None),
        ("Call +358 40 123 4567", None),
        ("<b>Aino</b>", None),
        ("Your account is locked, reply now", None),
        ("A" * 41, None),
    ],
)
def test_one_filter_for_names_in_every_email(reader, app, given, greeted):
    reader.subscribe(VICTIM, first_name=given)
    text = reader.outbox()[-1].get_body(("plain",)).get_content()
    first_line = text.splitlines()[0]
    assert first_line == (f"Hello {greeted}," if greeted else "Hello,")
    reader.post(reader.link("confirm", to=VICTIM))
    assert contact(app)["first_name"] == greeted


def test_unproven_requests_are_pruned(reader, app, set_clock):
    set_clock("2026-03-02T10:00:00Z")
    reader.download(VICTIM)
    reader.download("proven@example.com")
    reader.client.get(reader.link("download", to="proven@example.com")).close()
    set_clock("2026-03-20T10:00:00Z")
    with app.app_context():
        assert (
            privacy.prune_pending(
                get_storage(), app.config["DATA_DIR"], 14, app.config["SECRET_KEY"]
            )
            == 1
        )
    assert contact(app) is None and contact(app, "proven@example.com")


# -- Do Not Track and Global Privacy Control: never a link to a person ------------


@pytest.mark.parametrize("header", ["DNT", "Sec-GPC"])
def test_a_browser_that_asks_not_to_be_tracked_is_never_joined(app, header):
    reader = browser(app, "198.51.100.30", **{header: "1"})
    pageview(reader, "/posts/private/")
    reader.confirm(VICTIM)
    c = contact(app)
    assert c["status"] == "confirmed" and c["visitors"] == []
    with app.test_request_context():
        click = tokens.make("click", {"c": c["id"], "u": SITE + "/posts/one/"})
    assert reader.client.get(f"/click/{click}", headers=reader.headers).status_code
    # The same address and browser without the header is another visitor.
    same = browser(app, "198.51.100.30")
    pageview(same, "/posts/open/")
    assert paths_seen(app) == set()
    clicks = [e for e in timeline(app) if e["type"] == "click"]
    assert clicks and all("visitor" not in e for e in clicks)


# -- Origin: null ------------------------------------------------------------


@pytest.mark.parametrize(
    "path, data",
    [
        ("/subscribe", {"email": VICTIM, "consent_newsletter": "yes"}),
        ("/download", {"email": VICTIM, "guide": "website-checklist"}),
    ],
)
def test_origin_null_is_refused_on_forms(reader, app, path, data):
    answer = reader.post(path, data=data, Origin="null", Accept="application/json")
    assert answer.status_code == 403 and contact(app) is None
    assert reader.outbox() == []


def test_origin_null_is_refused_on_beacons(client, app):
    assert send(client, GOOD, Origin="null").status_code == 403
    with app.app_context():
        assert list(get_storage().iter_events()) == []


# -- a valid emailed link is never refused for someone else's traffic -------------


def seed_subscribers(app, count: int) -> list[str]:
    """Confirmed subscribers straight into storage; return their unsubscribe paths."""
    from tracker.journey import people

    paths = []
    with app.app_context(), get_storage().transaction() as tx:
        for n in range(count):
            c = people.new_contact(
                f"s{n}@example.com", "2026-01-01T00:00:00+00:00", f"c{n:04d}aa"
            )
            tx.save({**c, "status": "confirmed"})
    with app.test_request_context():
        for n in range(count):
            paths.append(
                "/unsubscribe/" + tokens.make("unsubscribe", {"c": f"c{n:04d}aa"})
            )
    return paths


def test_sixty_one_click_unsubscribes_from_one_address_are_all_honoured(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True)  # the default limits
    paths = seed_subscribers(app, 60)
    provider = app.test_client()
    provider.environ_base["REMOTE_ADDR"] = "192.0.2.25"  # a mail provider's server
    for n in range(200):  # and a flood of forged tokens from the same place
        forged = provider.post(f"/unsubscribe/forged.{n}", data={})
        assert forged.status_code == 400
    answers = [
        provider.post(p, data={"List-Unsubscribe": "One-Click"}).status_code
        for p in paths
    ]
    assert answers == [200] * 60
    with app.app_context():
        statuses = {c["status"] for c in get_storage().iter_contacts()}
    assert statuses == {"unsubscribed"}


# -- several source addresses against the real tracker ---------------------------


def post_from(
    port: int, source: str, path: str, fields: dict
) -> http.client.HTTPResponse:
    """POST a form from a given loopback address, on a connection of its own."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=10, source_address=(source, 0)
    )
    try:
        conn.request(
            "POST",
            path,
            body=urlencode(fields),
            headers={
                "Origin": SITE,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


@pytest.fixture
def tracker_server(tmp_path):
    """The tracker under gunicorn with two workers, its form limits on."""
    data = tmp_path / "var"
    write_manifest(data)

    def start(**env: str) -> Server:
        server = Server(data, tmp_path / "gunicorn.log", workers=2)
        server.env.update(POLKU_RATELIMIT_ENABLED="true", **env)
        server.start()
        return server

    started: list[Server] = []
    yield lambda **env: started.append(start(**env)) or started[-1]
    for server in started:
        server.stop()


def outbox(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "outbox").glob("*.eml"))


def test_one_inbox_gets_one_confirmation_whatever_the_sources(tracker_server):
    server = tracker_server(POLKU_RATELIMIT_FORMS="100/minute")
    form = {"email": VICTIM, "consent_newsletter": "yes"}
    guide = {"email": VICTIM, "guide": "website-checklist"}
    answers = []
    for n in range(2, 10):  # eight strangers' addresses, two posts each
        for _ in range(2):
            answers.append(post_from(server.port, f"127.0.0.{n}", "/subscribe", form))
            answers.append(post_from(server.port, f"127.0.0.{n}", "/download", guide))
    assert {r.status for r in answers} == {200}  # the same answer every time
    assert len(outbox(server.data_dir)) == 2  # one confirmation, one guide


def test_the_form_limit_is_one_count_across_workers(tracker_server):
    server = tracker_server(POLKU_RATELIMIT_FORMS="4/minute")

    def burst(source: str) -> list[int]:
        """Ten posts at once, so that both workers take some."""
        posts = [
            (
                "/subscribe",
                {"email": f"r{n}.{source}@example.com", "consent_newsletter": "yes"},
            )
            for n in range(10)
        ]
        with ThreadPoolExecutor(10) as pool:
            answers = pool.map(lambda p: post_from(server.port, source, *p), posts)
            return [a.status for a in answers]

    first = burst("127.0.0.2")
    assert first.count(200) == 4 and first.count(429) == 6
    assert burst("127.0.0.3").count(200) == 4  # another address, its own budget
    assert len(outbox(server.data_dir)) == 8
