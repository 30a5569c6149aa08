"""tracker.contacts: what forms, the emailed links, the API and mail share."""

from __future__ import annotations

from tracker import contacts
from tracker.db import get_storage
from tracker.journey import people

NOW = "2026-11-20T12:00:00+00:00"


def test_credit_reads_the_persons_browsers_and_keeps_the_touch(app):
    with app.test_request_context():
        storage = get_storage()
        for visitor, source, ts in (
            ("mine", "facebook", "2026-11-10T09:00:00+00:00"),
            ("theirs", "google", "2026-11-11T09:00:00+00:00"),
            ("mine", "facebook", "2026-09-01T09:00:00+00:00"),  # before the lookback
        ):
            storage.append_event(
                {
                    "id": f"{visitor}-{ts}",
                    "type": "pageview",
                    "ts": ts,
                    "visitor": visitor,
                    "path": "/a/",
                    "utm": {"source": source},
                }
            )
        contact = people.new_contact("a@example.com", NOW, "c1")
        contact["visitors"] = ["mine"]
        touch = contacts.credit(contact, NOW)
    assert touch["first"]["source"] == touch["last"]["source"] == "facebook"
    assert touch["first"]["ts"] == "2026-11-10T09:00:00+00:00"
    assert contact["first_touch"] == touch["first"]


def test_attribution_fields_are_cut_to_size():
    data = {"form": "x" * 100, "source": "/p/", "utm_source": "s" * 300}
    fields = contacts.attribution_fields(data)
    assert len(fields["form"]) == 64 and fields["source"] == "/p/"
    assert fields["utm"] == {"source": "s" * 200}
    empty = contacts.attribution_fields({})
    assert empty == {"form": None, "source": None, "utm": None}


def test_a_fetched_guide_keeps_a_request_that_still_waits_for_its_confirmation():
    contact = people.new_contact("a@example.com", NOW, "c1")
    proof = {"wording": {"newsletter": None, "ads": None}}
    asks = [
        people.new_request(
            newsletter=news, ads=False, first_name=None, proof=proof, now=NOW
        )
        for news in (True, False)
    ]
    for ask in asks:
        contact = people.add_request(contact, ask, now=NOW)
    waiting, done = asks
    after = people.fetched(contact, waiting, now="later")
    assert after["requests"][waiting["id"]]["fetched"] == "later"
    after = people.fetched(contact, done, now="later")
    assert done["id"] not in after["requests"] and "fetched" not in str(contact)
