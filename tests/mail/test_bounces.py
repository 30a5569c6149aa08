"""Outside reports (DSN, ARF, webhooks) applied to a person: found by the signed
X-Polku-Ref even when the address is redacted, and applied once however often
they are replayed."""

from __future__ import annotations

from tracker.journey import people
from tracker.mail import bounces
from tracker.mail.message import read_reference, reference

SECRET = "s" * 32


def someone(storage, email="reader@example.com"):
    with storage.transaction() as tx:
        contact = people.new_contact(email, "2026-01-01T00:00:00+00:00", "c1")
        tx.save(contact)
    return contact


def test_a_reference_names_the_person_and_send_and_cannot_be_forged():
    ref = reference(SECRET, "c1", "digest-2026-01-05-abc")
    assert "@" not in ref
    assert read_reference(SECRET, ref) == ("c1", "digest-2026-01-05-abc")
    assert read_reference(SECRET, ref.replace("c1", "c2")) is None
    assert read_reference("t" * 32, ref) is None
    assert read_reference(SECRET, "") is None
    assert read_reference(SECRET, None) is None


def test_a_complaint_with_the_address_redacted_suppresses_through_the_reference(
    storage,
):
    someone(storage)
    report = bounces.Report(
        kind="complaint",
        id="arf-1",
        source="imap",
        ref=reference(SECRET, "c1", "digest-x"),
    )
    assert bounces.apply(storage, SECRET, report) == bounces.APPLIED
    contact = storage.get_contact("c1")
    assert contact["suppressed"]["reason"] == "complaint"
    assert contact["suppressed"]["evidence"][0]["send"] == "digest-x"
    assert bounces.apply(storage, SECRET, report) == bounces.REPLAYED
    types = [e["type"] for e in storage.decisions("c1")]
    assert types.count("complaint") == 1


def test_a_forged_reference_falls_back_to_the_address_or_to_no_one(storage):
    someone(storage)
    forged = reference("t" * 32, "c1", "digest-x")
    nobody = bounces.Report(kind="hard", id="r1", source="ses", ref=forged)
    assert bounces.apply(storage, SECRET, nobody) == bounces.UNKNOWN
    assert "suppressed" not in storage.get_contact("c1")
    named = bounces.Report(
        kind="hard", id="r2", source="ses", email="Reader@Example.com", status="5.1.1"
    )
    assert bounces.apply(storage, SECRET, named) == bounces.APPLIED
    assert storage.get_contact("c1")["suppressed"]["reason"] == "hard_bounce"


def test_soft_reports_suppress_on_the_third_distinct_send(storage):
    someone(storage)
    for n, send in enumerate(["d1", "d2", "d2", "d3"]):
        ref = reference(SECRET, "c1", send)
        report = bounces.Report(kind="soft", id=f"r{n}", source="imap", ref=ref)
        assert bounces.apply(storage, SECRET, report) == bounces.APPLIED
        suppressed = storage.get_contact("c1").get("suppressed")
        assert bool(suppressed) == (send == "d3"), send
