"""The decisions an export brings, with literal inputs: what is imported, what
goes into the suppression record, and which decision made in Polku stays."""

from __future__ import annotations

from tracker.journey import imported as im
from tracker.journey import people

NOW = "2026-03-01T12:00:00+00:00"
EXPORT = im.Export("Mailchimp", "2026-02-27T00:00:00+00:00")
SUBSCRIBED = im.Entry(
    email="aino@example.com",
    status="subscribed",
    name="Aino",
    consented_at="2024-05-02T08:14:09+00:00",
    confirmed_at="2024-05-02T08:15:40+00:00",
)


def decide(contact, entry, **kw):
    return im.decide(contact, entry, EXPORT, now=NOW, contact_id="c1", **kw)


def confirmed_here(at: str) -> dict:
    """A subscriber who confirmed on Polku's own form at `at`."""
    contact = people.new_contact("aino@example.com", at, "c0")
    ask = people.new_request(
        newsletter=True,
        ads=False,
        first_name="Aino",
        proof={"ts": at, "wording": {"newsletter": "Send me the letter."}},
        now=at,
    )
    contact = people.add_request(contact, ask, now=at)
    return people.confirm(contact, ask["id"], now=at, ip_hash="h", ads=None)


def test_a_subscriber_is_imported_with_the_exports_proof():
    d = decide(None, SUBSCRIBED)
    assert d.outcome == im.IMPORTED
    c = d.contact
    assert c["status"] == "confirmed" and c["first_name"] == "Aino"
    proof = c["consent"]["newsletter"]
    assert proof["ts"] == "2024-05-02T08:14:09+00:00"
    assert proof["confirmed_at"] == "2024-05-02T08:15:40+00:00"
    assert proof["source"] == "imported from Mailchimp export of 2026-02-27"
    assert proof["imported"] is True and proof["imported_at"] == NOW
    assert c["lead_at"] == "2024-05-02T08:14:09+00:00"  # their history, not today
    assert d.event["type"] == "import" and d.event["source"] == proof["source"]


def test_a_subscriber_without_a_time_of_consent_is_skipped():
    entry = im.Entry(email="a@example.com", status="subscribed")
    d = decide(None, entry)
    assert (d.outcome, d.contact, d.reason) == (im.SKIPPED, None, im.NO_CONSENT_TIME)


def test_a_subscriber_confirmed_in_polku_keeps_their_own_proof():
    here = confirmed_here("2025-01-01T00:00:00+00:00")
    assert decide(here, SUBSCRIBED).outcome == im.ALREADY


def test_an_unsubscribe_in_polku_stays():
    gone = people.unsubscribe(confirmed_here("2023-01-01T00:00:00+00:00"), now=NOW)
    d = decide(gone, SUBSCRIBED)
    assert (d.outcome, d.contact, d.reason) == (im.SKIPPED, None, im.UNSUBSCRIBED_HERE)


def test_a_suppressed_address_is_not_subscribed():
    bounced = people.new_contact("aino@example.com", NOW, "c0")
    bounced["suppressed"] = {"reason": "hard_bounce", "at": NOW, "evidence": []}
    assert decide(bounced, SUBSCRIBED).reason == im.SUPPRESSED_HERE
    assert decide(None, SUBSCRIBED, suppressed=True).reason == im.SUPPRESSED_HERE


def test_an_unsubscribed_row_keeps_its_time():
    entry = im.Entry(
        email="l@example.com",
        status="unsubscribed",
        consented_at="2022-03-01T07:00:00+00:00",
        changed_at="2025-09-14T07:30:00+00:00",
    )
    d = decide(None, entry)
    assert d.outcome == im.UNSUBSCRIBED and d.contact["status"] == "unsubscribed"
    consent = d.contact["consent"]["newsletter"]
    assert consent["withdrawn_at"] == "2025-09-14T07:30:00+00:00"
    assert d.event["type"] == "unsubscribe" and d.event["via"] == "import"
    without_proof = decide(None, entry, proven=False).contact
    assert without_proof["consent"]["newsletter"] is None
    assert without_proof["lead_at"] is None


def test_a_newer_unsubscribe_ends_a_polku_subscription_an_older_one_does_not():
    here = confirmed_here("2025-06-01T00:00:00+00:00")
    older = im.Entry(
        email="aino@example.com",
        status="unsubscribed",
        changed_at="2025-05-31T00:00:00+00:00",
    )
    assert decide(here, older).outcome == im.ALREADY
    newer = im.Entry(
        email="aino@example.com",
        status="unsubscribed",
        changed_at="2025-06-02T00:00:00+00:00",
    )
    d = decide(here, newer)
    assert d.outcome == im.UNSUBSCRIBED
    consent = d.contact["consent"]["newsletter"]
    assert consent["withdrawn_at"] == "2025-06-02T00:00:00+00:00"
    assert consent["wording"] == "Send me the letter."  # their own proof, withdrawn


def test_an_export_that_gives_no_time_cannot_undo_a_decision_made_in_polku():
    here = confirmed_here("2025-06-01T00:00:00+00:00")
    for status in ("unsubscribed", "cleaned"):
        entry = im.Entry(email="aino@example.com", status=status)
        assert decide(here, entry).outcome == im.ALREADY
    # Nobody here: the unsubscribe is kept as of the export.
    gone = decide(None, im.Entry(email="v@example.com", status="unsubscribed"))
    assert gone.event["unsubscribed_at"] == EXPORT.at


def test_an_older_unsubscribe_leaves_a_signup_waiting_in_polku():
    waiting = people.add_request(
        people.new_contact("aino@example.com", NOW, "c0"),
        people.new_request(
            newsletter=True, ads=False, first_name=None, proof={}, now=NOW
        ),
        now=NOW,
    )
    entry = im.Entry(
        email="aino@example.com", status="unsubscribed", changed_at="2025-01-01"
    )
    assert decide(waiting, entry).outcome == im.ALREADY


def test_a_cleaned_address_is_suppressed_with_the_import_as_evidence():
    entry = im.Entry(
        email="o@example.com",
        status="cleaned",
        consented_at="2021-10-10T10:10:10+00:00",
        changed_at="2025-12-01T03:00:00+00:00",
    )
    d = decide(None, entry)
    assert d.outcome == im.SUPPRESSED
    record = d.contact["suppressed"]
    assert record["reason"] == "hard_bounce"
    assert record["at"] == "2025-12-01T03:00:00+00:00"
    (evidence,) = record["evidence"]
    assert evidence["type"] == "imported" and evidence["status"] == "cleaned"
    assert d.contact["status"] == "none"  # not on the list
    assert d.event == {
        "type": "bounce",
        "kind": "hard",
        "via": "import",
        "status": "cleaned",
        "source": "imported from Mailchimp export of 2026-02-27",
    }
    # With no consent to keep a person for: the address alone is suppressed.
    alone = decide(None, entry, proven=False)
    assert (alone.outcome, alone.contact) == (im.SUPPRESSED, None)


def test_a_complaint_is_suppressed_as_one():
    entry = im.Entry(email="e@example.com", status="complained", consented_at=NOW)
    assert decide(None, entry).contact["suppressed"]["reason"] == "complaint"


def test_a_confirmation_in_polku_after_the_bounce_shows_the_address_works():
    here = confirmed_here("2025-12-02T00:00:00+00:00")
    entry = im.Entry(
        email="aino@example.com",
        status="cleaned",
        changed_at="2025-12-01T03:00:00+00:00",
    )
    assert decide(here, entry).outcome == im.ALREADY
    earlier = confirmed_here("2025-11-30T00:00:00+00:00")
    d = decide(earlier, entry)
    assert d.outcome == im.SUPPRESSED and d.contact["status"] == "confirmed"


def test_an_address_suppressed_already_is_already_there():
    entry = im.Entry(email="o@example.com", status="cleaned", consented_at=NOW)
    assert decide(None, entry, suppressed=True).outcome == im.ALREADY


def test_without_proof_a_subscriber_is_asked_to_confirm():
    assert decide(None, SUBSCRIBED, proven=False).outcome == im.ASK
    gone = people.unsubscribe(confirmed_here("2023-01-01T00:00:00+00:00"), now=NOW)
    assert decide(gone, SUBSCRIBED, proven=False).reason == im.UNSUBSCRIBED_HERE
    here = confirmed_here("2025-01-01T00:00:00+00:00")
    assert decide(here, SUBSCRIBED, proven=False).outcome == im.ALREADY


def test_the_reconfirmation_asks_for_the_sites_own_wording():
    consent = {"newsletter": "Send me the letter.", "version": "v1"}
    proof = im.reconfirm_proof(EXPORT, consent, now=NOW)
    assert proof["form"] == im.RECONFIRM and proof["version"] == "v1"
    assert proof["wording"] == {"newsletter": "Send me the letter.", "ads": None}
