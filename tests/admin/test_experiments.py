"""The dashboard's A/B tests page: what each test shows, in the site's language."""

from __future__ import annotations

import re

from tracker import clock, kept
from tracker import experiments as service
from tracker.db import get_storage
from tracker.journey import experiments as core

from ..cli.test_experiments import CTA, OFFER, seed, with_experiments
from .conftest import PASSWORD


def text_of(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_the_page_shows_each_variant_the_verdict_and_a_mismatch(
    admin, admin_app, set_clock
):
    set_clock("2026-12-04T10:00:00+00:00")
    with_experiments(admin_app, OFFER, {**CTA, "name": "digest-subject"})
    seed(admin_app, "offer-headline", {"control": (300, 15), "plain": (400, 80)})
    response = admin.get("/admin/experiments")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'aria-current="page">Experiments</a>' in page
    words = text_of(page)
    assert "control 300 15 5.0% the control" in words
    assert re.search(r"plain 400 80 20\.0% \+[\d.]+ to \+[\d.]+ points", words)
    assert "Sample ratio mismatch" in words
    assert "Keep running." in words and "off the planned split" in words
    # The other experiment has no exposures yet: nothing to compare.
    assert "Too few exposures or conversions to compare yet" in words


def test_without_experiments_the_page_says_where_they_come_from(admin):
    page = admin.get("/admin/experiments").get_data(as_text=True)
    assert "write one in content/experiments/" in page


def test_the_page_is_for_the_owner_only(admin_app):
    response = admin_app.test_client().get("/admin/experiments")
    assert response.status_code in (302, 303)
    assert "/admin/login" in response.headers["Location"]


def test_the_page_speaks_finnish(admin_app, set_clock):
    set_clock("2026-12-04T10:00:00+00:00")
    with_experiments(admin_app, OFFER, lang="fi")
    seed(admin_app, "offer-headline", {"control": (300, 15), "plain": (300, 60)})
    client = admin_app.test_client()
    client.post("/admin/login", data={"password": PASSWORD})
    words = text_of(client.get("/admin/experiments").get_data(as_text=True))
    assert "A/B-testit" in words and "Voittaja löytyi." in words
    assert "plain konvertoi paremmin kuin control" in words
    assert "prosenttiyksikköä" in words


def test_the_page_shows_the_lift_of_personalisation_over_the_holdout(
    admin, admin_app, set_clock
):
    from ..test_personalisation import store, visitors

    set_clock("2026-12-04T10:00:00+00:00")
    held, own = visitors("holdout", 10), visitors("personal", 30)
    for visitor in held + own:
        store(admin_app, visitor, "personalisation")
    for visitor in own[:15] + held[:1]:
        store(admin_app, visitor, "personalisation-click", minute=10)
    words = text_of(admin.get("/admin/experiments").get_data(as_text=True))
    assert "Personalisation against the holdout" in words
    assert "10.0% of readers keep the default" in words and "40 readers" in words
    assert "Clicks on the block 10.0% (1/10) 50.0% (15/30)" in words
    assert re.search(r"Clicks on the block .*? [+-][\d.]+ to \+[\d.]+ points", words)
    assert "Signups 0.0% (0/10) 0.0% (0/30)" in words


def test_what_comes_after_the_page_was_shown_counts_next_time(
    admin, admin_app, set_clock, monkeypatch
):
    set_clock("2026-12-04T10:00:00+00:00")
    with_experiments(admin_app, OFFER)
    seed(admin_app, "offer-headline", {"control": (300, 15), "plain": (400, 80)})
    assert "control 300 15 5.0%" in text_of(admin.get("/admin/experiments").text)
    late = (r for r in (f"late-{n}" for n in range(10**4)))
    readers = [r for r in late if core.assign(OFFER, r) == "control"][:10]
    with admin_app.app_context():
        storage = get_storage()
        for i, reader in enumerate(readers):
            ts = clock.now_iso()
            for kind, name in (("exposure", None), ("event", "Booked a call")):
                if name and i % 2:
                    continue
                storage.append_event(
                    {
                        "id": f"{kind}-{reader}",
                        "ts": ts,
                        "type": kind,
                        "name": name,
                        "experiment": "offer-headline",
                        "variant": "control",
                        "visitor": reader,
                    }
                )
    words = text_of(admin.get("/admin/experiments").text)
    assert "control 310 20 6.5% the control" in words
    monkeypatch.setattr(service, "OBSERVED", kept.Observations())
    monkeypatch.setattr(service, "DECIDED", kept.Decisions())
    assert text_of(admin.get("/admin/experiments").text) == words
