"""`polku experiments report`: what each A/B test shows, from what readers did."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker.cli import cli
from tracker.db import get_storage
from tracker.journey import experiments as core
from tracker.journey import sequential

from ..conftest import BROWSER_UA, SITE, Reader

CTA = {
    "name": "newsletter-cta",
    "title": "Newsletter call to action",
    "kind": "cta",
    "target": "newsletter",
    "goal": "signup",
    "sample": 4000,
    "status": "running",
    "start": "2026-12-01",
    "end": None,
    "variants": [
        {"name": "control", "text": None, "weight": 0.5},
        {"name": "fixes", "text": "One fix a fortnight", "weight": 0.5},
    ],
}
OFFER = {
    **CTA,
    "name": "offer-headline",
    "kind": "headline",
    "target": "offer",
    "goal": "event:Booked a call",
    "sample": 600,
    "variants": [
        {"name": "control", "text": None, "weight": 0.5},
        {"name": "plain", "text": "A website you can run", "weight": 0.5},
    ],
}


def with_experiments(app, *experiments, lang="en"):
    path = Path(app.config["DATA_DIR"]) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["site"]["lang"] = lang
    manifest["experiments"] = {t["name"]: t for t in experiments}
    path.write_text(json.dumps(manifest))
    return app


def manifest_of(app) -> dict:
    return json.loads((Path(app.config["DATA_DIR"]) / "manifest.json").read_text())


def polku(runner, app, *args):
    env = {"POLKU_DATA_DIR": app.config["DATA_DIR"], "POLKU_SECRET_KEY": "x" * 40}
    return runner.invoke(cli, ["experiments", "report", *args], env=env)


def report(runner, app) -> dict:
    result = polku(runner, app, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def browsers_in(app, *variants):
    """A reader (browser) in each of these variants, as the tracker assigns them."""
    from tracker.web.requests import visitor_for

    found, n = [], 0
    for variant in variants:
        while True:
            n += 1
            ua = BROWSER_UA.replace("126.0", f"126.{n}")
            with app.test_request_context(
                headers={"User-Agent": ua}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
            ):
                visitor = visitor_for(SITE, None)
            if core.assign(CTA, visitor) == variant:
                reader = Reader(app.test_client(), app)
                reader.headers["User-Agent"] = ua
                found.append(reader)
                break
    return found


def expose(reader, variant, experiment="newsletter-cta"):
    body = {
        "name": "exposure",
        "url": SITE + "/posts/one/",
        "props": {"experiment": experiment, "variant": variant},
    }
    sent = reader.post(
        "/api/event", data=json.dumps(body), **{"Content-Type": "text/plain"}
    )
    assert sent.status_code == 202, sent.json


def test_exposures_and_confirmed_signups_make_the_report(runner, app, set_clock):
    set_clock("2026-12-02T10:00:00+00:00")
    with_experiments(app, CTA)
    variants = ["control", "control", "fixes", "fixes"]
    readers = browsers_in(app, *variants)
    for reader, variant in zip(readers, variants, strict=True):
        expose(reader, variant)
    # Later that day (in cookieless mode a browser is known for one day only).
    set_clock("2026-12-02T18:00:00+00:00")
    readers[0].confirm("first@example.com")  # proves their browser: a conversion
    readers[2].subscribe("third@example.com")  # never confirmed: nothing known
    data = report(runner, app)
    (test,) = data["experiments"]
    assert set(test) >= {"name", "goal", "verdict", "srm_p", "variants"}
    assert (test["name"], test["goal"]) == ("newsletter-cta", "signup")
    control, fixes = test["variants"]
    assert set(control) == {"name", "exposures", "conversions", "rate", "interval"}
    assert control == {
        "name": "control",
        "exposures": 2,
        "conversions": 1,
        "rate": 0.5,
        "interval": [0, 0],
    }
    assert (fixes["exposures"], fixes["conversions"], fixes["rate"]) == (2, 0, 0)
    assert test["verdict"] == "keep running"
    assert test["srm_p"] == pytest.approx(1.0)
    assert "Too few exposures" in test["reason"]


def test_an_exposure_claiming_another_variant_than_the_readers_is_not_counted(
    runner, app, set_clock
):
    set_clock("2026-12-02T10:00:00+00:00")
    with_experiments(app, CTA)
    honest, forger = browsers_in(app, "control", "control")
    expose(honest, "control")
    expose(forger, "fixes")  # stored (a running test's variant), never believed
    control, fixes = report(runner, app)["experiments"][0]["variants"]
    assert (control["exposures"], fixes["exposures"]) == (1, 0)


def seed(app, experiment, counts):
    """Store exposures and named-event goals of many readers, as the beacon does."""
    with app.app_context():
        storage = get_storage()
        test = manifest_of(app)["experiments"][experiment]
        for variant, (exposed, converted) in counts.items():
            readers = (
                r for r in map(str, range(10**6)) if core.assign(test, r) == variant
            )
            for i in range(exposed):
                visitor = next(readers)
                at = f"2026-12-0{1 + i % 3}T09:{i % 60:02d}:00+00:00"
                storage.append_event(
                    {
                        "id": f"x-{visitor}",
                        "ts": at,
                        "type": "exposure",
                        "experiment": experiment,
                        "variant": variant,
                        "visitor": visitor,
                        "path": "/offer/",
                        "host": "kettu.example",
                    }
                )
                if i < converted:
                    storage.append_event(
                        {
                            "id": f"g-{visitor}",
                            "ts": at.replace("T09", "T10"),
                            "type": "event",
                            "name": "Booked a call",
                            "visitor": visitor,
                            "path": "/offer/",
                            "host": "kettu.example",
                        }
                    )


def test_a_named_event_goal_finds_the_winner(runner, app, set_clock):
    set_clock("2026-12-04T10:00:00+00:00")
    with_experiments(app, OFFER)
    seed(app, "offer-headline", {"control": (300, 15), "plain": (300, 60)})
    (test,) = report(runner, app)["experiments"]
    assert test["verdict"] == "winner" and test["winner"] == "plain"
    control, plain = test["variants"]
    assert (plain["exposures"], plain["conversions"]) == (300, 60)
    # The interval is the intersection over the three days' looks, and above 0.
    assert plain["interval"][0] > 0
    final = sequential.difference(15, 300, 60, 300, planned=600)
    assert final[0] <= plain["interval"][0] and plain["interval"][1] <= final[1]
    text = polku(runner, app)
    assert text.exit_code == 0, text.output
    assert "Verdict: A winner." in text.output
    assert "plain converts better than control" in text.output
    assert "sample ratio mismatch" not in text.output


def test_a_lopsided_split_is_a_warning_in_finnish_too(runner, app, set_clock):
    set_clock("2026-12-04T10:00:00+00:00")
    with_experiments(app, OFFER, lang="fi")
    seed(app, "offer-headline", {"control": (300, 15), "plain": (400, 20)})
    (test,) = report(runner, app)["experiments"]
    assert test["srm_p"] < 0.001 and test["verdict"] == "keep running"
    text = polku(runner, app).output
    assert "Varoitus: otoksen jakauma poikkeaa suunnitellusta" in text
    assert "Jatka testiä" in text


def test_no_experiments_says_where_they_go(runner, app):
    result = polku(runner, app)
    assert result.exit_code == 0
    assert "content/experiments/" in result.output
    assert report(runner, app) == {"experiments": []}
