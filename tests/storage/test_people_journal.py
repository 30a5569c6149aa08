"""The people journal on disk, shared by the processes on one data directory.

Two storages on one directory: the decision made last wins, whatever the
clocks say. A torn tail or a failed sync is cut off, a full segment goes on in
the next, and the old per-writer layout is converted once (or read as it is,
from a read-only copy).
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from tracker import clock
from tracker.storage.tinydb_store import TinyDBStorage

from ..conftest import read_only
from .test_backends import contact

# -- the same person decided about through two processes ---------------------


def save(storage, person: dict, status: str, event_id: str) -> None:
    with storage.transaction() as people:
        people.save(
            {**person, "status": status},
            {
                "id": event_id,
                "ts": clock.now_iso(),
                "type": status,
                "contact": person["id"],
            },
        )


@pytest.mark.parametrize("first", [0, 1])
def test_the_decision_made_last_wins_whichever_process_made_it(tmp_path, first):
    servers = [TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))]
    watching = TinyDBStorage(str(tmp_path))  # a third server, already running
    watching.get_contact("")
    person = contact("reader@example.com")
    save(servers[first], person, "confirmed", "d1")
    save(servers[1 - first], person, "unsubscribed", "d2")
    later = TinyDBStorage(str(tmp_path))  # `polku contacts export`, `polku digest`
    for storage in (*servers, watching, later):
        assert storage.find_contact(person["email"])["status"] == "unsubscribed"
        assert [e["id"] for e in storage.decisions(person["id"])] == ["d1", "d2"]
        storage.close()


def test_the_decision_made_last_wins_after_the_clock_went_back(tmp_path, set_clock):
    one, two = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    person = contact("reader@example.com")
    set_clock("2026-12-01T00:00:30+00:00")
    save(one, person, "confirmed", "d1")
    set_clock("2026-11-30T23:59:40+00:00")  # the other machine's clock is behind
    save(two, person, "unsubscribed", "d2")
    later = TinyDBStorage(str(tmp_path))
    for storage in (one, two, later):
        assert storage.find_contact(person["email"])["status"] == "unsubscribed"
        assert [e["id"] for e in storage.decisions(person["id"])] == ["d1", "d2"]
        storage.close()


# -- the journal on disk ----------------------------------------------------------


def people_dir(data_dir: Path) -> Path:
    return data_dir / "journal" / "people"


def test_a_torn_tail_is_cut_before_the_next_decision(tmp_path):
    first = TinyDBStorage(str(tmp_path))
    save(first, contact("a@example.com"), "confirmed", "d1")
    [segment] = people_dir(tmp_path).glob("*.jsonl")
    with open(segment, "ab") as f:
        f.write(b'{"ts": "2026-11-20T10:00:00+00:00", "contact": {"id": "hal')
    second = TinyDBStorage(str(tmp_path))  # a server killed mid-write, restarted
    save(second, contact("b@example.com"), "confirmed", "d2")
    assert segment.read_bytes().endswith(b"\n")
    assert b'"hal' not in segment.read_bytes()
    for storage in (first, second, TinyDBStorage(str(tmp_path))):
        emails = sorted(c["email"] for c in storage.iter_contacts())
        assert emails == ["a@example.com", "b@example.com"]
        storage.close()


def test_a_decision_whose_sync_failed_is_gone_for_everyone(tmp_path, monkeypatch):
    """Its fdatasync failed: it was never acknowledged, so it is cut off again,
    though another process may have read it meanwhile."""
    writer, reader = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    kept, failed = contact("kept@example.com"), contact("failed@example.com")
    save(writer, kept, "confirmed", "d1")

    real_sync = os.fdatasync

    def failing_sync(fd):
        if fd != writer.people.journal._fd:  # another journal's flusher thread
            return real_sync(fd)
        assert reader.get_contact(failed["id"])  # read by another process
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", failing_sync)
    with pytest.raises(OSError):
        save(writer, failed, "confirmed", "d2")
    monkeypatch.undo()
    later = contact("later@example.com", first_name="Later, on a longer line")
    save(writer, later, "confirmed", "d3")
    for storage in (reader, writer, TinyDBStorage(str(tmp_path))):
        emails = sorted(c["email"] for c in storage.iter_contacts())
        assert emails == ["kept@example.com", "later@example.com"]
        storage.close()


def test_a_full_segment_continues_in_the_next(tmp_path, monkeypatch):
    from tracker.storage.people_journal import PeopleJournal

    monkeypatch.setattr(PeopleJournal, "SEGMENT_BYTES", 600)
    one, two = TinyDBStorage(str(tmp_path)), TinyDBStorage(str(tmp_path))
    person = contact("a@example.com")
    for n in range(12):
        save((one, two)[n % 3 == 0], person, f"s{n}", f"d{n}")
    assert len(list(people_dir(tmp_path).glob("*.jsonl"))) > 3
    for storage in (one, two, TinyDBStorage(str(tmp_path))):
        assert storage.get_contact(person["id"])["status"] == "s11"
        decided = [e["id"] for e in storage.decisions(person["id"])]
        assert decided == [f"d{n}" for n in range(12)]
        storage.close()


def write_legacy(data_dir: Path, files: dict[str, list[dict]]) -> None:
    """The people journal as servers before the shared journal wrote it: one
    file per writer and per month of the records' timestamps."""
    for name, records in files.items():
        path = people_dir(data_dir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in records))


def record(person: dict, ts: str, status: str, event_id: str) -> dict:
    event = {"id": event_id, "ts": ts, "type": status, "contact": person["id"]}
    return {"ts": ts, "contact": {**person, "status": status}, "event": event}


def test_the_old_per_writer_journal_is_converted_once_in_time_order(tmp_path):
    ann, ben = contact("ann@example.com"), contact("ben@example.com")
    write_legacy(
        tmp_path,
        {
            "2026-11/host-1-aaaaaa.jsonl": [
                record(ann, "2026-11-02T10:00:00+00:00", "pending", "a1"),
                record(ann, "2026-11-29T10:00:00+00:00", "unsubscribed", "a3"),
            ],
            "2026-11/host-2-bbbbbb.jsonl": [
                record(ann, "2026-11-03T10:00:00+00:00", "confirmed", "a2"),
                record(ben, "2026-11-04T10:00:00+00:00", "pending", "b1"),
            ],
            "2026-12/host-1-aaaaaa.jsonl": [
                record(ben, "2026-12-01T09:00:00+00:00", "confirmed", "b2"),
            ],
        },
    )
    with (people_dir(tmp_path) / "2026-12" / "host-1-aaaaaa.jsonl").open("ab") as f:
        f.write(b'{"ts": "2026-12-02", "torn')  # never acknowledged: not converted
    (tmp_path / "people.json").write_bytes(b'{"generation": 0, "offsets": {}}')
    storage = TinyDBStorage(str(tmp_path))
    assert storage.get_contact(ann["id"])["status"] == "unsubscribed"
    assert [e["id"] for e in storage.decisions(ann["id"])] == ["a1", "a2", "a3"]
    assert storage.get_contact(ben["id"])["status"] == "confirmed"
    assert storage.people.generation() == 1  # every process folds the new layout
    assert storage.erasures() == 0
    assert not (tmp_path / "people.json").exists()
    names = sorted(p.name for p in people_dir(tmp_path).iterdir())
    assert names == ["000001.jsonl"]
    assert sorted(p.name for p in (tmp_path / "journal").iterdir()) == [
        "people",
        "people.erased",
        "people.generation",
    ]
    again = TinyDBStorage(str(tmp_path))  # already converted: nothing to do
    assert again.get_contact(ann["id"])["status"] == "unsubscribed"
    assert again.people.generation() == 1
    save(again, ann, "confirmed", "a4")
    assert storage.get_contact(ann["id"])["status"] == "confirmed"
    storage.close(), again.close()


def test_a_read_only_copy_of_the_old_layout_is_read_in_time_order(tmp_path):
    ann = contact("ann@example.com")
    write_legacy(
        tmp_path,
        {
            "2026-11/host-1-aaaaaa.jsonl": [
                record(ann, "2026-11-02T10:00:00+00:00", "pending", "a1"),
                record(ann, "2026-11-02T10:00:09+00:00", "unsubscribed", "a3"),
            ],
            "2026-11/host-2-bbbbbb.jsonl": [
                record(ann, "2026-11-02T10:00:03+00:00", "confirmed", "a2"),
            ],
        },
    )
    with read_only(tmp_path):  # a backup, mounted read-only
        storage = TinyDBStorage(str(tmp_path))
        assert storage.get_contact(ann["id"])["status"] == "unsubscribed"
        assert [e["id"] for e in storage.decisions(ann["id"])] == ["a1", "a2", "a3"]
        assert [c["email"] for c in storage.iter_contacts()] == [ann["email"]]
        storage.close()
    assert [p.name for p in people_dir(tmp_path).iterdir()] == ["2026-11"]


@pytest.mark.parametrize("left", ["new half built", "between the renames", "old kept"])
def test_a_conversion_cut_short_is_finished_by_the_next_process(tmp_path, left):
    ann = contact("ann@example.com")
    legacy = {"2026-11/w.jsonl": [record(ann, "2026-11-02T10:00:00", "pending", "a")]}
    write_legacy(tmp_path, legacy)
    journal = tmp_path / "journal"
    if left == "new half built":  # the old journal untouched: converted again
        (journal / "people.new").mkdir()
        (journal / "people.new" / "000001.jsonl").write_bytes(b'{"half')
    else:
        converted = tmp_path / "converted"
        write_legacy(converted, legacy)
        done = TinyDBStorage(str(converted))
        done.get_contact("")  # converts
        done.close()
        (journal / "people").rename(journal / "people.old")
        (converted / "journal" / "people").rename(journal / "people.new")
        if left == "old kept":
            (journal / "people.new").rename(journal / "people")
    storage = TinyDBStorage(str(tmp_path))
    assert storage.get_contact(ann["id"])["status"] == "pending"
    assert sorted(p.name for p in journal.iterdir()) == [
        "people",
        "people.erased",
        "people.generation",
    ]
    assert [p.name for p in people_dir(tmp_path).iterdir()] == ["000001.jsonl"]
    save(storage, ann, "confirmed", "b")
    assert TinyDBStorage(str(tmp_path)).get_contact(ann["id"])["status"] == (
        "confirmed"
    )
    storage.close()
