"""Quote and booking requests: kept apart, believed by no one, open until answered."""

from __future__ import annotations

import pytest

from tracker.journey import people, quotes, stages

NOW = "2026-11-03T09:00:00+00:00"
LATER = "2026-11-04T09:00:00+00:00"
PROOF = {"ts": NOW, "form": "quote", "page": "/quote/", "wording": {}}


def contact():
    return people.new_contact("aino@example.com", NOW, "c1")


def quote(message="A new website, please.", ts=NOW):
    return quotes.new_quote(
        name="Aino Virtanen",
        phone="+358401234567",
        message=message,
        proof=PROOF,
        now=ts,
    )


def test_a_request_is_kept_apart_and_makes_no_one_a_lead():
    asked = quotes.add_quote(contact(), quote(), now=NOW)
    (kept,) = asked["quotes"].values()
    assert (
        kept["message"] == "A new website, please." and kept["name"] == "Aino Virtanen"
    )
    assert kept["first_name"] == "Aino" and kept["answered_at"] is None
    assert asked["requests"] == {} and asked["lead_at"] is None
    assert asked["status"] == "none"
    assert stages.contact_stage(asked, [{"type": "quote_request"}]) == "engaged"
    # a signup, a confirmation or an unsubscribe never drops it
    assert people.unsubscribe(asked, now=LATER)["quotes"] == asked["quotes"]
    for _ in range(people.MAX_REQUESTS + 1):
        ask = people.new_request(
            newsletter=True, ads=False, first_name=None, proof=PROOF, now=LATER
        )
        asked = people.add_request(asked, ask, now=LATER)
    assert quotes.has_open(asked)


def test_open_until_answered_and_kept_from_pruning_until_then():
    asked = quotes.add_quote(contact(), quote(), now=NOW)
    (request,) = asked["quotes"]
    cutoff = "2026-12-31T00:00:00+00:00"
    assert not people.is_stale_pending(asked, cutoff)
    assert [r["contact"] for r in quotes.open_requests([asked])] == ["c1"]
    done = quotes.answer(asked, request, now=LATER)
    assert done["quotes"][request]["answered_at"] == LATER
    assert quotes.open_requests([done]) == [] and not quotes.has_open(done)
    assert people.is_stale_pending(done, cutoff)  # an unproven address, answered
    assert quotes.answer(done, request, now=cutoff) == done  # once
    with pytest.raises(people.Refused):
        quotes.answer(done, "nope", now=LATER)


def test_every_open_request_is_kept_and_the_newest_answered():
    asked = contact()
    for day in range(1, 16):
        ts = f"2026-11-{day:02d}T09:00:00+00:00"
        asked = quotes.add_quote(asked, quote(ts=ts), now=ts)
        if day <= 12:
            asked = quotes.answer(asked, list(asked["quotes"])[-1], now=ts)
    kept = list(asked["quotes"].values())
    assert len([q for q in kept if not q["answered_at"]]) == 3
    assert len([q for q in kept if q["answered_at"]]) == quotes.KEEP_ANSWERED


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("040 123 4567", "FI", "+358401234567"),
        ("+358 40 123 4567", None, "+358401234567"),
        ("+1 650-253-0000", "FI", "+16502530000"),
        ("", "FI", None),
        (None, "FI", None),
    ],
)
def test_phone_numbers_are_stored_in_international_form(raw, region, expected):
    assert quotes.clean_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["040 123 4567", "abc", "12", "1" * 50, 358401234567])
def test_a_phone_number_that_cannot_be_read_is_refused(raw):
    region = None if raw == "040 123 4567" else "FI"  # no country: needs its code
    with pytest.raises(people.Refused):
        quotes.clean_phone(raw, region)


def test_the_message_is_plain_text_within_bounds():
    assert quotes.clean_message("  Hi\r\n\r\n\r\n\r\nthere\x07  ") == "Hi\n\nthere"
    for bad in ("", "   \n ", None, 42, "x" * (quotes.MESSAGE_MAX + 1)):
        with pytest.raises(people.Refused):
            quotes.clean_message(bad)
