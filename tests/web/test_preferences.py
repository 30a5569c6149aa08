"""The reader's own page, as a reader meets it: linked from every email, GET shows,
POST changes one choice and records it in their consent log; asking for the link
answers alike for any address."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tracker.cli import cli
from tracker.db import get_storage

from ..conftest import (
    TEST_MANIFEST,
    Inbox,
    Reader,
    free_port,
    raw_data,
    write_manifest,
)
from .stored import contact, timeline

LATER = "2026-03-10T09:00:00+00:00"  # a Tuesday; Helsinki is UTC+2 then


def manifest_with(app, **fields) -> None:
    """Rewrite the test manifest with more: languages, tags, sequences, a zone."""
    data_dir = Path(app.config["DATA_DIR"])
    path = data_dir / "manifest.json"
    before = path.stat().st_mtime if path.exists() else 0
    write_manifest(data_dir, {**TEST_MANIFEST, **fields})
    later = max(path.stat().st_mtime, before) + 1
    os.utime(path, (later, later))  # a new mtime: a cached manifest is read again


SITE_MORE = {
    "site": {**TEST_MANIFEST["site"], "timezone": "Europe/Helsinki"},
    "posts": [
        *TEST_MANIFEST["posts"],
        {
            "kind": "article",
            "url": "posts/kaksi/",
            "title": "Kaksi",
            "date": "2026-11-02T09:00:00",
            "tags": ["seo", "Speed"],
            "lang": "fi",
        },
    ],
    "sequences": [{"name": "welcome", "title": "Welcome to Kettu"}],
}


def own_page(reader, to="reader@example.com") -> str:
    """The path of the reader's page, from the last email they got."""
    return reader.link("preferences", to=to)


def choose(reader, path, **form):
    return reader.post(path, data=form)


def stored(app, email="reader@example.com"):
    """The contact and every event of theirs, to compare before and after."""
    return contact(app, email), timeline(app, email)


def export(runner, app, email="reader@example.com") -> dict:
    env = {
        "POLKU_DATA_DIR": app.config["DATA_DIR"],
        "POLKU_SECRET_KEY": "test-secret-key",
    }
    result = runner.invoke(cli, ["contacts", "export", email], env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


# -- linked from every email; GET changes nothing ------------------------------------


def test_the_confirmation_and_guide_emails_link_the_readers_page(reader):
    reader.subscribe()
    reader.download("guide@example.com")
    for message in reader.outbox():
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "/preferences/" in text, text
        assert re.search(r'href="https://kettu\.example/preferences/[^"]+"', html)
        assert reader.client.get(own_page(reader, message["To"])).status_code == 200


def test_the_page_shows_what_is_stored_and_get_changes_nothing(reader, app):
    manifest_with(app, **SITE_MORE)
    reader.subscribe(first_name="Aino")
    reader.post(reader.link("confirm"), data={"consent_ads": "yes"})
    path = own_page(reader)
    before = raw_data(app)
    page = reader.client.get(path)
    head = reader.client.head(path)
    assert page.status_code == 200 and head.status_code == 200
    assert raw_data(app) == before  # not a byte stored changed
    text = page.get_data(as_text=True)
    for shown in (
        "reader@example.com",
        "Aino",
        "subscribed",
        "Send me the letter.",  # the newsletter consent's wording
        "Ads are fine.",
        "Confirmed the newsletter",  # the consent log
        "Europe/Helsinki",
    ):
        assert shown in text, shown
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_link_keeps_working_after_the_confirmation_and_ends_with_erasure(
    reader, app
):
    reader.subscribe()
    from_the_confirmation_email = own_page(reader)
    reader.post(reader.link("confirm"))  # a new nonce on the contact
    assert reader.client.get(from_the_confirmation_email).status_code == 200
    choose(reader, from_the_confirmation_email, action="erase", confirm="yes")
    gone = reader.client.get(from_the_confirmation_email)
    assert gone.status_code == 410 and b"no longer valid" in gone.data


@pytest.mark.parametrize("method", ["get", "post"])
def test_forged_and_expired_links_get_a_readable_4xx_page(reader, app, method):
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    reader.confirm()
    before = raw_data(app)

    class Old(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 401 * 86400  # older than any link lives

    secret = app.config["SECRET_KEY"]
    old = URLSafeTimedSerializer(secret, salt="polku-preferences", signer=Old)
    expired = old.dumps({"c": contact(app)["id"]})
    other = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="polku-unsubscribe")
    wrong_purpose = other.dumps({"c": contact(app)["id"]})
    for token, words in (
        ("forged.token.value", b"not valid"),
        (expired, b"expired"),
        (wrong_purpose, b"not valid"),
    ):
        answer = getattr(reader.client, method)(
            f"/preferences/{token}", data={"action": "erase", "confirm": "yes"}
        )
        assert 400 <= answer.status_code < 500, token
        assert "Location" not in answer.headers and words in answer.data
        assert b"Kettu Studio" in answer.data  # the site's page, not a bare error
    assert raw_data(app) == before


# -- the choices, each recorded with its wording ----------------------------------


def enrol(app, name="welcome"):
    """Put the reader in a sequence as the scheduler would."""
    with app.app_context():
        with get_storage().transaction() as tx:
            c = tx.get(contact(app)["id"])
            c["sequences"] = {name: {"state": "active", "entered": LATER, "n": 1}}
            tx.save(c)


def test_every_choice_is_recorded_with_its_wording_and_in_the_export(
    reader, app, runner, set_clock
):
    set_clock(LATER)
    manifest_with(app, **SITE_MORE)
    reader.confirm()
    enrol(app)
    path = own_page(reader)
    changes = [
        {"action": "interests", "interests": ["speed", "seo"]},
        {"action": "digest", "frequency": "pause", "paused_until": "2026-04-01"},
        {"action": "lang", "lang": "fi"},
        {"action": "ads", "choice": "grant", "consent_ads": "yes"},
        {"action": "leave", "sequence": "welcome"},
    ]
    for form in changes:
        answer = choose(reader, path, **form)
        assert answer.status_code == 303, (form, answer.data)
        assert answer.headers["Location"].startswith(path)
    c = contact(app)
    assert c["interests"] == ["seo", "speed"]  # as the site first spells them
    assert c["digest"] == {"frequency": "every", "paused_until": "2026-04-01"}
    assert c["lang"] == "fi"
    assert c["consent"]["ads"]["wording"] == "Ads are fine."
    assert c["consent"]["ads"]["form"] == "preferences-page"
    assert path not in json.dumps(c)  # the page's key is not kept as proof
    assert c["sequences"]["welcome"]["state"] == "left"
    assert c["sequences"]["welcome"]["left_at"].startswith("2026-03-10")

    log = [e for e in timeline(app) if e["type"] in ("preference", "sequence_left")]
    assert [e.get("change") or e["type"] for e in log] == [
        "interests",
        "digest",
        "lang",
        "ads",
        "sequence_left",
    ]
    assert all(e["ts"].startswith("2026-03-10") and e["wording"] for e in log)
    wordings = [e["wording"] for e in log]
    assert wordings[0] == "Topics you want to hear about"
    assert wordings[1] == "A pause: no digest before the day below 2026-04-01"
    assert wordings[3] == "Ads are fine."  # what the box said
    assert log[4]["sequence"] == "welcome"
    assert "Welcome to Kettu" in wordings[4]

    exported = export(runner, app)
    assert exported["contact"] == c
    assert [e for e in exported["timeline"] if e in log] == log

    # The page speaks the reader's language now, and shows the log.
    page = reader.client.get(path).get_data(as_text=True)
    assert '<html lang="fi">' in page and "Tietosi ja valintasi" in page
    assert "Ads are fine." in page and "Welcome to Kettu" in page


def test_the_download_is_the_same_as_the_export(reader, app, runner):
    reader.confirm()
    answer = choose(reader, own_page(reader), action="download")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].startswith("attachment")
    assert answer.mimetype == "application/json"
    assert json.loads(answer.data) == export(runner, app)


def test_withdrawing_the_ad_consent_keeps_its_proof(reader, app):
    reader.subscribe()
    reader.post(reader.link("confirm"), data={"consent_ads": "yes"})
    path = own_page(reader)
    assert choose(reader, path, action="ads", choice="withdraw").status_code == 303
    ads = contact(app)["consent"]["ads"]
    assert ads["withdrawn_at"] and ads["wording"] == "Ads are fine."
    event = timeline(app)[-1]
    assert (event["change"], event["value"]) == ("ads", "withdrawn")
    assert event["wording"] == "Take me out of the ad audiences"


def test_a_choice_that_changes_nothing_records_nothing(reader, app):
    reader.confirm()
    path = own_page(reader)
    choose(reader, path, action="digest", frequency="monthly")
    before = stored(app)
    assert choose(reader, path, action="digest", frequency="monthly").status_code == 303
    assert stored(app) == before


@pytest.mark.parametrize(
    "form",
    [
        {"action": "interests", "interests": ["<script>"]},
        {"action": "digest", "frequency": "pause", "paused_until": "2020-01-01"},
        {"action": "digest", "frequency": "pause", "paused_until": "soon"},
        {"action": "digest", "frequency": "weekly"},
        {"action": "lang", "lang": "sv"},
        {"action": "ads", "choice": "grant"},  # the box not ticked
        {"action": "leave", "sequence": "welcome"},  # not in it
        {"action": "format-disk"},
        {},
    ],
)
def test_bad_choices_are_refused_with_a_reason_and_change_nothing(reader, app, form):
    reader.confirm()
    path = own_page(reader)
    before = raw_data(app)
    answer = choose(reader, path, **form)
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert b'class="form-error"' in answer.data or b"Choose" in answer.data
    assert raw_data(app) == before


def test_a_post_from_another_site_is_refused(reader, app):
    reader.confirm()
    path = own_page(reader)
    before = raw_data(app)
    answer = reader.client.post(
        path,
        data={"action": "erase", "confirm": "yes"},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status_code == 403
    assert raw_data(app) == before


def test_the_page_posts_from_the_trackers_own_origin(reader, app):
    """Where the tracker has an origin of its own, its page's forms post from it."""
    reader.confirm()
    answer = reader.client.post(
        own_page(reader),
        data={"action": "digest", "frequency": "monthly"},
        headers={"Origin": "http://localhost"},  # the test client's host
    )
    assert answer.status_code == 303


# -- deleting oneself ------------------------------------------------------------------


def test_deletion_asks_first_then_erases_as_the_command_does(reader, app, runner):
    reader.confirm()
    reader.download()  # an email waiting in the outbox names the reader
    path = own_page(reader)
    step = choose(reader, path, action="erase")
    assert step.status_code == 200 and b'name="confirm" value="yes"' in step.data
    assert contact(app) is not None  # nothing deleted yet
    done = choose(reader, path, action="erase", confirm="yes")
    assert done.status_code == 200 and b"deleted" in done.data
    assert contact(app) is None
    assert reader.outbox() == []  # its emails are gone too
    assert b"reader@example.com" not in raw_data(app)
    env = {"POLKU_DATA_DIR": app.config["DATA_DIR"], "POLKU_SECRET_KEY": "x"}
    assert (
        runner.invoke(
            cli, ["contacts", "export", "reader@example.com"], env=env
        ).exit_code
        == 1
    )


# -- asking for the link ---------------------------------------------------------------


def ask(reader, email, **headers):
    """Ask for the link as a plain form does; the answer is closed, as a server
    closes it (the email goes out then)."""
    answer = reader.client.post(
        "/preferences",
        data={"email": email},
        headers={**reader.headers, **headers},
        buffered=True,
    )
    return answer


def test_asking_for_the_link_answers_alike_for_known_and_unknown(reader, app):
    reader.confirm()
    sent_before = len(reader.outbox())
    known = ask(reader, "reader@example.com")
    unknown = ask(reader, "stranger@example.com")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    assert known.data == unknown.data
    shown = reader.client.get(known.headers["Location"]).get_data(as_text=True)
    assert "If we store anything about that address" in shown
    mails = reader.outbox()[sent_before:]
    assert [m["To"] for m in mails] == ["reader@example.com"]
    assert "/preferences/" in mails[0].get_body(("plain",)).get_content()
    assert contact(app, "stranger@example.com") is None  # nothing kept of them
    as_json = ask(reader, "stranger@example.com", Accept="application/json")
    assert as_json.status_code == 200 and as_json.json["ok"] is True


def test_the_link_email_is_limited_per_address(reader, app):
    reader.confirm()
    sent_before = len(reader.outbox())
    answers = [ask(reader, "reader@example.com") for _ in range(3)]
    assert len({(a.status_code, a.headers["Location"]) for a in answers}) == 1
    assert len(reader.outbox()) == sent_before + 1  # 1 per 10 minutes by default


def test_asking_from_many_ip_addresses_mails_the_address_no_more(reader, app):
    """A stranger asks for someone's link from many source addresses: the
    limit is the address's, whoever asks."""
    reader.confirm()
    sent_before = len(reader.outbox())
    for n in range(6):
        reader.client.environ_base["REMOTE_ADDR"] = f"127.0.0.{n + 2}"
        ask(reader, "reader@example.com")
    assert len(reader.outbox()) == sent_before + 1


def test_a_suppressed_address_that_asks_gets_its_link(reader, app):
    """A link the person asks for (as the guide): a bounce or a complaint long ago
    must not keep them from their own data."""
    reader.confirm()
    with app.app_context():
        with get_storage().transaction() as tx:
            c = tx.get(contact(app)["id"])
            c["suppressed"] = {"reason": "hard_bounce", "at": LATER, "evidence": []}
            tx.save(c)
    sent_before = len(reader.outbox())
    ask(reader, "reader@example.com")
    assert len(reader.outbox()) == sent_before + 1


def test_asking_shares_the_forms_budget_per_ip_but_the_page_is_never_limited(
    app_factory,
):
    """A stranger cannot ask for links without end from one address; the page's
    own link, a signed token, is never limited (as the other emailed links)."""
    app = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_FORMS="1000/minute")
    reader = Reader(app.test_client(), app)
    reader.confirm()
    path = own_page(reader)
    app.config["RATELIMIT_FORMS"] = "2/minute"
    answers = [ask(reader, f"r{n}@example.com").status_code for n in range(3)]
    assert answers == [303, 303, 429]
    for _ in range(3):
        assert (
            choose(reader, path, action="digest", frequency="monthly").status_code
            == 303
        )
        assert reader.client.get(path).status_code == 200


def test_a_bad_address_is_refused_with_the_form_again(reader):
    answer = ask(reader, "not an address")
    assert answer.status_code == 400
    assert b'aria-invalid="true"' in answer.data and b"not an address" in answer.data


def test_asking_from_another_site_is_refused(reader):
    answer = ask(reader, "reader@example.com", Origin="https://evil.example")
    assert answer.status_code == 403


# -- the digest honours the choices ------------------------------------------------


def test_the_digest_honours_monthly_and_a_pause(
    runner, tmp_path, smtp, app_factory, monkeypatch, set_clock
):
    """Three readers, three runs: every digest, the first of each month in
    Helsinki, and none before the pause's day."""
    from ..mail.digest_site import polku, site_on

    inbox, port = smtp
    set_clock("2026-03-10T09:00:00+00:00")
    site = site_on(tmp_path, port)
    data_dir = Path(site[1]["POLKU_DATA_DIR"])
    app = app_factory(DATA_DIR=str(data_dir))

    def publish(day: str) -> None:
        """A new post on day; the site's clock zone is Helsinki."""
        posts = json.loads((data_dir / "manifest.json").read_text())["posts"]
        posts.append({**TEST_MANIFEST["posts"][0], "url": f"p/{day}/", "date": day})
        manifest_with(app, site=SITE_MORE["site"], posts=posts)

    publish("2026-03-09T09:00:00")
    reader = Reader(app.test_client(), app)
    for who in ("every", "monthly", "paused"):
        reader.confirm(f"{who}@example.com")
    choose(
        reader,
        own_page(reader, "monthly@example.com"),
        action="digest",
        frequency="monthly",
    )
    choose(
        reader,
        own_page(reader, "paused@example.com"),
        action="digest",
        frequency="pause",
        paused_until="2026-04-01",
    )
    for moment, post in (
        ("2026-03-10T10:00:00+00:00", None),  # the first digest of March
        ("2026-03-20T10:00:00+00:00", "2026-03-19T09:00:00"),  # March again
        ("2026-03-31T22:00:00+00:00", "2026-03-31T08:00:00"),  # 1 April in Helsinki
    ):
        set_clock(moment)
        if post:
            publish(post)
        result = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert result.exit_code == 0, result.output

    def digests(who: str) -> int:
        return sum(
            "/click/" in m.get_body(("plain",)).get_content()
            for m in inbox.to(f"{who}@example.com")
        )

    assert (digests("every"), digests("monthly"), digests("paused")) == (3, 2, 1)
    digest = next(
        m
        for m in inbox.to("every@example.com")
        if "/click/" in m.get_body(("plain",)).get_content()
    )
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    page = next(w for w in text.split() if "/preferences/" in w)
    assert f'href="{page}"' in html
    assert reader.client.get(urlsplit(page).path).status_code == 200


# -- a real server: the answer does not wait for the mail ----------------------------


@contextlib.contextmanager
def live(app, port: int):
    """The app on a real HTTP server at 127.0.0.1:port, stopped after."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class SlowInbox(Inbox):
    """A mail server that takes DELAY seconds to accept each message."""

    DELAY = 1.5

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        await asyncio.sleep(self.DELAY)
        return await super().handle_DATA(server, session, envelope)


def post_form(base: str, path: str, fields: dict) -> tuple[float, int, str, bytes]:
    """One form post over HTTP: (seconds, status, Location, body)."""
    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=30)
    body = urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": base}
    started = time.perf_counter()
    connection.request("POST", path, body=body, headers=headers)
    answer = connection.getresponse()
    data = answer.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, answer.status, answer.getheader("Location") or "", data


def test_the_answer_comes_before_the_mail_server_has_taken_the_email(app_factory):
    from aiosmtpd.controller import Controller

    inbox = SlowInbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = app_factory(
        SITE_URL=base, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_STARTTLS=False
    )
    try:
        known_reader = Reader(app.test_client(), app)
        known_reader.headers["Origin"] = base  # the site is where the tracker is
        assert known_reader.subscribe("known@example.com").status_code == 303
        (confirmation,) = inbox.to("known@example.com")
        text = confirmation.get_body(("plain",)).get_content()
        confirm = next(w for w in text.split() if "/confirm/" in w)
        assert known_reader.post(urlsplit(confirm).path).status_code == 303
        before = len(inbox.to("known@example.com"))
        with live(app, port):
            known = post_form(base, "/preferences", {"email": "known@example.com"})
            unknown = post_form(base, "/preferences", {"email": "nobody@example.com"})
            assert known[1:] == unknown[1:]  # status, Location, body: the same
            assert known[0] < SlowInbox.DELAY and unknown[0] < SlowInbox.DELAY
            deadline = time.monotonic() + 20
            while len(inbox.to("known@example.com")) == before:
                assert time.monotonic() < deadline, "the link never arrived"
                time.sleep(0.1)
        assert inbox.to("nobody@example.com") == []
        (link_email,) = inbox.to("known@example.com")[before:]
        assert "/preferences/" in link_email.get_body(("plain",)).get_content()
    finally:
        smtp.stop()


# -- in a real browser, JavaScript off ----------------------------------------------


@pytest.mark.browser
def test_a_reader_without_javascript_changes_choices_and_downloads_the_data(
    app_factory, browser, artifacts, runner, set_clock
):
    set_clock(LATER)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = app_factory(SITE_URL=base)
    manifest_with(app, **SITE_MORE)
    reader = Reader(app.test_client(), app)
    reader.headers["Origin"] = base
    reader.confirm()
    link = base + own_page(reader)
    with live(app, port):
        context = browser.new_context(
            java_script_enabled=False,
            accept_downloads=True,
            viewport={"width": 390, "height": 844},
        )
        page = context.new_page()
        try:
            page.goto(link)
            page.check("input[name=interests][value=seo]")
            page.click("text=Save my interests")
            page.wait_for_url("**saved=interests**")
            assert page.is_checked("input[name=interests][value=seo]")
            page.check("#frequency-pause")
            page.fill("#paused_until", "2026-04-15")
            page.click("text=Save the digest choice")
            page.wait_for_url("**saved=digest**")
            page.screenshot(path=artifacts / "preferences-phone.png", full_page=True)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth + 1"
            )
            assert not overflow, "the page scrolls sideways on a phone"
            with page.expect_download() as waiting:
                page.click("text=Download my data")
            downloaded = json.loads(Path(waiting.value.path()).read_text())
        finally:
            context.close()
    c = contact(app)
    assert c["interests"] == ["seo"]
    assert c["digest"] == {"frequency": "every", "paused_until": "2026-04-15"}
    assert downloaded == export(runner, app)
    log = [e for e in downloaded["timeline"] if e["type"] == "preference"]
    assert [e["change"] for e in log] == ["interests", "digest"]


# -- in the reader's language ------------------------------------------------------


def test_the_link_email_and_the_page_come_in_the_readers_language(reader, app):
    manifest_with(app, **SITE_MORE)
    reader.confirm()
    choose(reader, own_page(reader), action="lang", lang="fi")
    before = len(reader.outbox())
    ask(reader, "reader@example.com")
    (message,) = reader.outbox()[before:]
    assert message["Subject"] == "Tietosi ja valintasi sivustolla Kettu Studio"
    text = " ".join(message.get_body(("plain",)).get_content().split())
    assert text.startswith("Hei, Tässä on linkki omalle sivullesi")
    page = reader.client.get(own_page(reader)).get_data(as_text=True)
    assert "<h1>Tietosi ja valintasi</h1>" in page and "suomi" in page
    # The site itself still speaks English to everyone else.
    assert "If we store anything" in reader.client.get("/preferences?sent=1").text


def test_every_word_of_the_page_and_its_email_is_in_the_finnish_catalogue():
    import ast

    from babel.messages.extract import extract_from_file

    from tracker import i18n

    from .test_reader_i18n import finnish_catalogue

    known = {m.id if isinstance(m.id, str) else m.id[0] for m in finnish_catalogue()}
    tracker = Path(i18n.FOLDER).parent.parent
    asked = set()
    for path in sorted((tracker / "templates" / "email").glob("preferences.*")):
        for _, message, _, _ in extract_from_file(
            "jinja2", str(path), options={"extensions": "jinja2.ext.i18n"}
        ):
            asked.add(message if isinstance(message, str) else message[0])
    rules = tracker / "journey" / "preferences.py"
    for node in ast.walk(ast.parse(rules.read_text())):  # its refusals, shown
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Refused":
            asked.add(node.args[0].value)
    assert len(asked) > 10 and not sorted(asked - known)
