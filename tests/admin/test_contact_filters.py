"""The contact list's stage and segment filters: chosen from the people's facts,
they list exactly those the rules put there."""

from __future__ import annotations

from datetime import timedelta

from tracker import clock
from tracker.db import get_storage


def person(storage, n: int, purchases_days_ago: list[int]) -> None:
    contact = {
        "id": f"c{n:02d}",
        "email": f"buyer{n}@example.com",
        "created": clock.now_iso(),
        "status": "confirmed",
        "lead_at": clock.now_iso(),
        "visitors": [],
    }
    with storage.transaction() as tx:
        tx.save(dict(contact))
    for k, days in enumerate(sorted(purchases_days_ago, reverse=True)):
        ts = (clock.now() - timedelta(days=days)).isoformat()
        contact["customer_at"] = contact.get("customer_at") or ts
        event = {"id": f"{n}-{k}", "type": "purchase", "contact": contact["id"]}
        event.update(ts=ts, value=50, order_id=f"o{n}-{k}")
        with storage.transaction() as tx:
            tx.save(dict(contact), event)


def listed(client, query: str) -> set[str]:
    page = client.get(f"/admin/contacts?{query}").get_data(as_text=True)
    return {f"buyer{n}" for n in range(1, 5) if f"buyer{n}@example.com" in page}


def test_stage_and_segment_filters_list_exactly_their_people(admin_app, admin):
    with admin_app.app_context():
        storage = get_storage()
        person(storage, 1, [10, 20, 30, 40])  # champions: recent and frequent
        person(storage, 2, [5])  # new: one recent order
        person(storage, 3, [300])  # hibernating: one order long ago
        person(storage, 4, [])  # a lead, no order: no segment
    assert listed(admin, "segment=champions") == {"buyer1"}
    assert listed(admin, "segment=new") == {"buyer2"}
    assert listed(admin, "segment=hibernating") == {"buyer3"}
    assert listed(admin, "stage=customer") == {"buyer1", "buyer2", "buyer3"}
    assert listed(admin, "stage=lead") == {"buyer4"}
    assert listed(admin, "stage=customer&segment=new&q=buyer2") == {"buyer2"}
    assert listed(admin, "stage=customer&q=buyer4") == set()
