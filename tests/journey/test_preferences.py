"""A reader's own choices as pure rules: what may change, what the digest honours."""

from __future__ import annotations

from datetime import date

import pytest

from tracker.journey import preferences as prefs
from tracker.journey.people import Refused, new_contact

NOW = "2026-03-10T09:00:00+00:00"
MANIFEST = {
    "site": {"lang": "fi-FI", "timezone": "Europe/Helsinki"},
    "languages": ["en"],
    "posts": [
        {"tags": ["Speed", "seo"], "lang": "fi"},
        {"tags": ["speed", " Accessibility "], "lang": "sv"},
        {"tags": []},
    ],
    "sequences": [{"name": "welcome", "title": "Welcome to Kettu"}],
}


def reader(**fields):
    return {**new_contact("r@example.com", NOW, "c1"), **fields}


def test_the_sites_tags_once_each_in_reading_order():
    assert prefs.site_tags(MANIFEST) == ["Accessibility", "seo", "Speed"]
    assert prefs.site_tags({}) == []


def test_the_sites_languages_are_those_polku_speaks():
    assert prefs.site_languages(MANIFEST, ("en", "fi")) == ["fi", "en"]
    assert prefs.site_languages({"site": {"lang": "sv"}}, ("en", "fi")) == []


def test_interests_come_from_the_sites_tags_only():
    before = reader()
    after, record = prefs.choose_interests(
        before, ["speed", "SEO", "speed"], prefs.site_tags(MANIFEST), now=NOW
    )
    assert after["interests"] == ["seo", "Speed"] and before.get("interests") is None
    assert record == {"change": "interests", "value": ["seo", "Speed"]}
    with pytest.raises(Refused):
        prefs.choose_interests(before, ["<script>"], ["Speed"], now=NOW)
    same, nothing = prefs.choose_interests(
        after, ["Speed", "seo"], ["Speed", "seo"], now=NOW
    )
    assert same is after and nothing is None


def test_digest_frequency_and_a_pause():
    today = date(2026, 3, 10)
    monthly, record = prefs.choose_digest(reader(), "monthly", "", today=today, now=NOW)
    assert prefs.digest_choice(monthly) == {
        "frequency": "monthly",
        "paused_until": None,
    }
    assert record == {
        "change": "digest",
        "value": {"frequency": "monthly", "paused_until": None},
    }
    paused, _ = prefs.choose_digest(
        monthly, "pause", "2026-04-01", today=today, now=NOW
    )
    assert prefs.digest_choice(paused) == {
        "frequency": "monthly",  # the pause keeps the frequency for after it
        "paused_until": "2026-04-01",
    }
    every, _ = prefs.choose_digest(paused, "every", None, today=today, now=NOW)
    assert prefs.digest_choice(every) == {"frequency": "every", "paused_until": None}
    for choice, until in (
        ("pause", "2026-03-10"),  # not after today
        ("pause", "2027-06-01"),  # more than a year away
        ("pause", "1.4.2026"),
        ("pause", ""),
        ("weekly", ""),
    ):
        with pytest.raises(Refused):
            prefs.choose_digest(reader(), choice, until, today=today, now=NOW)


def test_a_new_reader_gets_every_digest():
    assert prefs.digest_choice(reader()) == {"frequency": "every", "paused_until": None}


HELSINKI = "Europe/Helsinki"


def test_monthly_readers_get_the_first_digest_of_each_local_month():
    monthly = reader(digest={"frequency": "monthly", "paused_until": None})
    # The last run started on 31 March at 23:30 in Helsinki (20:30 UTC):
    # a run at 1 April 00:30 Helsinki time is a new month there, not yet in UTC.
    previous = "2026-03-31T20:30:00+00:00"
    assert prefs.digest_wanted(
        monthly, run_at="2026-03-31T21:30:00+00:00", previous_run=previous, tz=HELSINKI
    )
    assert not prefs.digest_wanted(
        monthly, run_at="2026-03-31T21:30:00+00:00", previous_run=previous, tz="UTC"
    )
    assert not prefs.digest_wanted(
        monthly,
        run_at="2026-04-20T09:00:00+00:00",
        previous_run="2026-04-06T09:00:00+00:00",
        tz=HELSINKI,
    )
    assert prefs.digest_wanted(
        monthly, run_at="2026-04-20T09:00:00+00:00", previous_run=None, tz=HELSINKI
    )
    every = reader()
    assert prefs.digest_wanted(
        every,
        run_at="2026-04-20T09:00:00+00:00",
        previous_run="2026-04-06T09:00:00+00:00",
        tz=HELSINKI,
    )


def test_no_digest_before_the_pause_ends_in_the_sites_timezone():
    paused = reader(digest={"frequency": "every", "paused_until": "2026-04-01"})
    before = "2026-03-31T20:59:00+00:00"  # 23:59 on 31 March in Helsinki
    after = "2026-03-31T21:00:00+00:00"  # 00:00 on 1 April in Helsinki
    assert not prefs.digest_wanted(
        paused, run_at=before, previous_run=None, tz=HELSINKI
    )
    assert prefs.digest_wanted(paused, run_at=after, previous_run=None, tz=HELSINKI)


def test_an_unknown_timezone_is_utc():
    assert prefs.local_day("2026-03-31T21:30:00+00:00", "Mars/Olympus") == date(
        2026, 3, 31
    )
    assert prefs.local_day("2026-03-31T21:30:00+00:00", "../../etc/passwd") == date(
        2026, 3, 31
    )


def test_language_from_the_offered_ones():
    after, record = prefs.choose_lang(reader(), "fi", ["fi", "en"], now=NOW)
    assert after["lang"] == "fi" and record == {"change": "lang", "value": "fi"}
    with pytest.raises(Refused):
        prefs.choose_lang(reader(), "sv", ["fi", "en"], now=NOW)


def test_ad_audience_consent_granted_with_its_proof_and_withdrawn():
    proof = {"ts": NOW, "form": "preferences-page", "wording": "Ads are fine."}
    granted, record = prefs.grant_ads(reader(), proof, now=NOW)
    assert granted["consent"]["ads"] == {**proof, "confirmed_at": NOW}
    assert record == {"change": "ads", "value": "granted"}
    again, nothing = prefs.grant_ads(granted, proof, now=NOW)
    assert again is granted and nothing is None
    later = "2026-03-11T09:00:00+00:00"
    withdrawn, record = prefs.withdraw_ads(granted, now=later)
    assert withdrawn["consent"]["ads"]["withdrawn_at"] == later
    assert withdrawn["consent"]["ads"]["wording"] == "Ads are fine."  # the proof stays
    assert record == {"change": "ads", "value": "withdrawn"}
    same, nothing = prefs.withdraw_ads(withdrawn, now=later)
    assert same is withdrawn and nothing is None
    regranted, _ = prefs.grant_ads(withdrawn, proof, now=later)
    assert "withdrawn_at" not in regranted["consent"]["ads"]


def test_leaving_an_active_sequence():
    entered = {"state": "active", "entered": NOW, "step": 1}
    before = reader(sequences={"welcome": entered, "old": {"state": "finished"}})
    after, record = prefs.leave_sequence(before, "welcome", now=NOW)
    assert after["sequences"]["welcome"] == {
        **entered,
        "state": "left",
        "left_at": NOW,
        "ended": NOW,  # as the scheduler ends an enrolment
        "reason": "preferences",
    }
    assert before["sequences"]["welcome"]["state"] == "active"
    assert record == {"type": "sequence_left", "sequence": "welcome"}
    for name in ("old", "nowhere"):
        with pytest.raises(Refused):
            prefs.leave_sequence(before, name, now=NOW)


def test_sequences_shown_with_their_titles():
    c = reader(sequences={"welcome": {"state": "active", "entered": NOW}, "gone": {}})
    shown = prefs.sequences_of(c, MANIFEST)
    assert [(s["name"], s["title"], s["state"]) for s in shown] == [
        ("gone", "gone", "active"),
        ("welcome", "Welcome to Kettu", "active"),
    ]
    assert prefs.sequence_title(MANIFEST, "welcome") == "Welcome to Kettu"
    assert prefs.sequence_title({"sequences": "broken"}, "welcome") == "welcome"
