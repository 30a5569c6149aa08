"""The people view: small, loaded only where a request needs a person.

A process keeps per contact what look-ups need (address, indexed fields, the
browsers it proved its own) and where its records are; the records are read
from the journal when asked for.
"""

from __future__ import annotations

import gc
import tracemalloc
import uuid

import orjson
import pytest

from tracker import clock
from tracker.storage import view_json
from tracker.storage.tinydb_store import TinyDBStorage

from ..conftest import SITE
from ..web.test_collect import GOOD, send

pytestmark = pytest.mark.tinydb_only


def person(n: int, visitors: list[str]) -> dict:
    return {
        "id": uuid.uuid4().hex,
        "email": f"reader{n}@example.com",
        "created": clock.now_iso(),
        "status": "confirmed",
        "ref_code": f"r{n:06d}",
        "visitors": visitors,
        "consent": {"newsletter": {"ts": clock.now_iso(), "wording": "Send me" * 20}},
    }


def test_a_browser_belongs_to_whoever_last_proved_it_theirs(tmp_path):
    storage = TinyDBStorage(str(tmp_path))
    people = [person(n, [f"v{n}", f"w{n}"]) for n in range(6)]
    with storage.transaction() as tx:
        for p in people:
            tx.save(
                p,
                {
                    "id": uuid.uuid4().hex,
                    "ts": clock.now_iso(),
                    "type": "signup",
                    "contact": p["id"],
                },
            )
    with storage.transaction() as tx:  # a browser forgotten, one shared
        tx.save({**people[0], "visitors": ["w0", "v1"]})
        tx.save({**people[2], "visitors": ["v2", "w2", "new"]})
    storage.erase_contact(people[3]["id"])
    ids = [p["id"] for p in people]
    expected = {"w0": ids[0], "v1": ids[0], "w1": ids[1], "new": ids[2]}
    expected |= {f"{x}{n}": ids[n] for x in "vw" for n in (2, 4, 5)}
    storage.get_contact("")
    storage.people.save_snapshot()
    for check in (storage, TinyDBStorage(str(tmp_path))):
        for visitor in [*expected, "v0", "v3", "nobody"]:
            assert check.visitor_owner(visitor) == expected.get(visitor), visitor
    storage.compact_people()
    again = TinyDBStorage(str(tmp_path))
    assert {v: again.visitor_owner(v) for v in expected} == expected
    storage.close(), again.close()


def test_a_contact_costs_the_view_about_a_kilobyte(tmp_path):
    """The view keeps where records are, not the records (each here 1.3 KB of
    JSON, and some 15 KB as Python objects); the dashboard's facts are not in it."""
    count = 3000
    writer = TinyDBStorage(str(tmp_path))
    with writer.transaction() as tx:
        for n in range(count):
            p = person(n, [uuid.uuid4().hex, uuid.uuid4().hex])
            tx.save(
                p,
                {
                    "id": uuid.uuid4().hex,
                    "ts": clock.now_iso(),
                    "type": "signup",
                    "contact": p["id"],
                    "form": "article",
                },
            )
    writer.close()
    reader = TinyDBStorage(str(tmp_path))
    gc.collect()
    tracemalloc.start()
    try:
        view = reader._refresh()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(view) == count
    assert held / count < 1024, f"{held / count:.0f} B per contact"
    assert reader.find_contact("reader7@example.com")["ref_code"] == "r000007"
    reader.close()


def test_beacons_and_pixels_never_load_the_people_view(app, client, reader):
    reader.confirm()  # someone to know about
    app.extensions.pop("polku.storage").close()  # a worker that starts afresh
    for _ in range(3):
        assert send(client, GOOD).status_code == 202
    pixel = client.get("/api/pixel.gif?u=/posts/one/", headers={"Origin": SITE})
    assert pixel.status_code == 200
    storage = app.extensions["polku.storage"]
    assert storage.people.view is None
    assert storage.find_contact("reader@example.com")["status"] == "confirmed"
    assert storage.people.view is not None


def test_a_view_snapshot_that_also_held_facts_is_read_without_them(tmp_path):
    """people.json as written before the facts had a view of their own."""
    storage = TinyDBStorage(str(tmp_path))
    with storage.transaction() as tx:
        tx.save(person(1, ["v1"]))
    view = storage._refresh()
    doc = orjson.loads(view_json.to_json(view))
    doc.update(seen=["2026-12-01"], facts=['{"stage":"lead"}'], spans="AAAAAAAAAAA=")
    older = view_json.from_json(orjson.dumps(doc), view.lines)
    assert older.find("reader1@example.com")["ref_code"] == "r000001"
    assert (
        older.visitor_owner("v1") == storage.find_contact("reader1@example.com")["id"]
    )
    storage.close()
