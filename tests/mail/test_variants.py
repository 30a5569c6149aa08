"""A/B tests of subject lines against a real SMTP server (aiosmtpd): each
subscriber gets the subject of their variant, an exposure is recorded per
contact when the email is sent, and `polku experiments report` counts the
contacts and what they did after it (a click in that email, a purchase)."""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

from tracker.cli import cli
from tracker.db import get_storage
from tracker.journey import experiments as core

from ..conftest import Reader
from ..mailserver import mail_server
from .digest_site import polku, site_on
from .sequence_site import Site
from .test_sequences import one_step

DIGEST_TEST = core.define(
    "digest-subject",
    {
        "title": "The digest's subject: the site or the promise",
        "kind": "digest-subject",
        "variants": ["control", "fixes: One fix for your website, from {site_name}"],
        "goal": "click",
        "sample": "1000",
    },
)
STEP_TEST = core.define(
    "welcome-subject",
    {
        "title": "The welcome's subject: plain or by name",
        "kind": "step-subject",
        "target": "welcome/01-only",
        "variants": ["control", "named: {{ name }}, here is what you signed up for"],
        "goal": "purchase",
        "sample": "1000",
    },
)


def with_test(data: Path, test: dict) -> None:
    path = data / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["experiments"] = {test["name"]: test}
    path.write_text(json.dumps(manifest))


def both_variants(app, test, subscribe) -> dict[str, str]:
    """Subscribe readers until each variant has one: {address: variant}."""
    found: dict[str, str] = {}
    for n in range(40):
        address = f"reader{n}@example.com"
        subscribe(address)
        with app.app_context():
            contact = get_storage().find_contact(address)
        found[address] = core.assign(test, contact["id"])
        if n >= 3 and len(set(found.values())) == len(test["variants"]):
            return found
    raise AssertionError(f"one variant only among 40 subscribers: {found}")


def report(runner, env: dict) -> dict:
    env = {k: v for k, v in env.items() if k.startswith("POLKU_")}
    result = runner.invoke(cli, ["experiments", "report", "--json"], env=env)
    assert result.exit_code == 0, result.output
    (test,) = json.loads(result.output)["experiments"]
    return {v["name"]: (v["exposures"], v["conversions"]) for v in test["variants"]}


def test_digest_subscribers_get_their_variants_subject_and_the_report_counts_them(
    runner, tmp_path, app_factory, monkeypatch
):
    with mail_server(smtputf8=True) as (server, port):
        site = site_on(tmp_path, port)
        data = Path(site[1]["POLKU_DATA_DIR"])
        app = app_factory(DATA_DIR=str(data))
        (data / "manifest.json").write_text(site[1]["manifest"])
        with_test(data, DIGEST_TEST)
        reader = Reader(app.test_client(), app)
        readers = both_variants(app, DIGEST_TEST, reader.confirm)
        assert report(runner, site[1]) == {"control": (0, 0), "fixes": (0, 0)}
        sent = polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert sent.exit_code == 0, sent.output
        for address, variant in readers.items():
            (delivery,) = server.to(address)
            subject = delivery.message["Subject"]
            if variant == "fixes":
                assert subject == "One fix for your website, from Kettu Studio"
            else:
                assert subject == "New from Kettu Studio"
        split = {v: list(readers.values()).count(v) for v in ("control", "fixes")}
        assert report(runner, site[1]) == {
            "control": (split["control"], 0),
            "fixes": (split["fixes"], 0),
        }
        # A click in one fixes reader's digest converts them; a click on a
        # link of another email (a sequence's) would not.
        clicker = next(a for a, v in readers.items() if v == "fixes")
        text = server.to(clicker)[0].message.get_body(("plain",)).get_content()
        click = next(w for w in text.split() if "/click/" in w)
        assert reader.client.get(urlsplit(click).path).status_code == 302
        assert report(runner, site[1]) == {
            "control": (split["control"], 0),
            "fixes": (split["fixes"], 1),
        }
        # Nothing new: no digest, no second exposure.
        polku(runner, site, "--send", monkeypatch=monkeypatch)
        assert report(runner, site[1])["fixes"] == (split["fixes"], 1)


def test_a_preview_shows_the_variant_and_records_no_exposure(
    runner, tmp_path, app_factory, monkeypatch
):
    with mail_server(smtputf8=True) as (server, port):
        site = site_on(tmp_path, port)
        data = Path(site[1]["POLKU_DATA_DIR"])
        app = app_factory(DATA_DIR=str(data))
        (data / "manifest.json").write_text(site[1]["manifest"])
        with_test(data, DIGEST_TEST)
        readers = both_variants(
            app, DIGEST_TEST, Reader(app.test_client(), app).confirm
        )
        out = tmp_path / "dry"
        dry = polku(runner, site, "--dry-run", str(out), monkeypatch=monkeypatch)
        assert dry.exit_code == 0, dry.output
        subjects = {
            message_from_bytes(path.read_bytes(), policy=policy.default)["Subject"]
            for path in out.glob("*.eml")
        }
        assert subjects == {
            "New from Kettu Studio",
            "One fix for your website, from Kettu Studio",
        }
        assert report(runner, site[1]) == {"control": (0, 0), "fixes": (0, 0)}
        assert server.deliveries == [] and readers


def test_sequence_step_subscribers_get_their_variants_subject_and_a_purchase_counts(
    runner, tmp_path, app_factory, set_clock
):
    set_clock("2026-06-01T07:00:00+00:00")  # 10:00 in Helsinki
    with mail_server(smtputf8=True) as (server, port):
        site = Site(tmp_path, app_factory, port, sequences=[one_step("welcome", "0")])
        with_test(site.data, STEP_TEST)
        site.polku(runner, "run", "--send")  # the sequence begins
        readers = both_variants(site.app, STEP_TEST, site.subscriber)
        sent = site.polku(runner, "run", "--send", "--now", "2026-06-01T07:05:00Z")
        assert sent.exit_code == 0, sent.output
        for address, variant in readers.items():
            (delivery,) = server.to(address)
            subject = delivery.message["Subject"]
            if variant == "named":
                assert subject == "Aino, here is what you signed up for"
            else:
                assert subject == "welcome step"
        split = {v: list(readers.values()).count(v) for v in ("control", "named")}
        assert report(runner, site.env) == {
            "control": (split["control"], 0),
            "named": (split["named"], 0),
        }
        # A purchase after the email converts its contact; the step is not
        # sent again, nor is its exposure recorded again.
        set_clock("2026-06-01T09:00:00+00:00")  # that morning
        buyer = next(a for a, v in readers.items() if v == "control")
        bought = site.reader.client.post(
            "/api/conversion",
            json={"email": buyer, "value": 120, "order_id": "K-1"},
            headers={"Authorization": "Bearer test-api-key"},
        )
        assert bought.status_code == 201, bought.json
        site.polku(runner, "run", "--send", "--now", "2026-06-02T07:05:00Z")
        assert all(len(server.to(a)) == 1 for a in readers)
        assert report(runner, site.env) == {
            "control": (split["control"], 1),
            "named": (split["named"], 0),
        }
        # The exposure is on the person's record: in their export, as a click is.
        timeline = site.export(runner, buyer)["timeline"]
        (shown,) = [e for e in timeline if e["type"] == "exposure"]
        assert (shown["experiment"], shown["variant"]) == ("welcome-subject", "control")
