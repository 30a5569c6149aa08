"""A process that makes a person's decisions on the storage, one step at a time.

tests/storage/test_decision_order.py starts several of these (`python -m
tests.storage.decision_worker`) on one data directory, and one PostgreSQL schema, and
hands each step to one of them, waiting for its answer before the next: the
interleaving of processes is exactly the one the test chose.

Protocol: one JSON object per line on stdin, one answer per line on stdout.
- {"op": "open", "dir": ..., "pg": url or null, "role": "server" | "cli"}:
  a server keeps its storages open between steps; a cli opens a fresh TinyDB
  storage for each step, as a `polku contacts import` run would.
- {"op": "step", "step": {...}}: `apply_step` on every backend.
- {"op": "state", "emails": [...], "orders": [...], "fresh": bool}: what
  `state` answers, per backend (fresh: from a TinyDB storage opened for it;
  with "no_snapshot", the TinyDB one folds the journal without `people.json`).
- {"op": "burst", "email": ..., "count": n, "tag": ...}: n transactions, as
  fast as they go, each adding one to the contact's counter (`count_up`).
- {"op": "close"}: closes the TinyDB storage (the PostgreSQL pool stays, for
  the next "open" on the same database; it closes when stdin does).

The steps mimic the decision functions of tracker/journey/people.py on plain contact
dicts (signup, confirm, unsubscribe, ads consent, conversion, an import of
old orders, erase) and the embedded journal's compaction, with ids derived
from the step number so that every backend, and the in-process model, makes
the same records.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys
import traceback
from typing import Any

from tracker import clock
from tracker.storage.base import People, Storage

Step = dict[str, Any]


def hex_id(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:32]


def new_contact(email: str, at: str, n: int) -> dict:
    return {
        "id": hex_id("contact", n, email),
        "email": email,
        "created": at,
        "updated": at,
        "status": "none",
        "consent": {"newsletter": None, "ads": None},
        "visitors": [],
        "ref_code": None,
        "lead_at": None,
        "customer_at": None,
        "orders": [],
        "pending": None,
    }


def decision(kind: str, contact: dict, n: object, at: str, **fields: Any) -> dict:
    return {
        "id": hex_id("event", n, kind, contact["id"]),
        "ts": at,
        "type": kind,
        "contact": contact["id"],
        **fields,
    }


def signup(tx: People, step: Step) -> None:
    at, n = step["at"], step["n"]
    c = copy.deepcopy(tx.find(step["email"])) or new_contact(step["email"], at, n)
    if c["status"] == "confirmed" and (not step["ads"] or c["consent"]["ads"]):
        return  # nothing new asked: no change
    if c["status"] == "none" and not c["lead_at"]:
        c["status"] = "pending"
    c["pending"] = {"ts": at, "ads": step["ads"]}
    if step["visitor"] not in c["visitors"]:
        c["visitors"] = [*c["visitors"], step["visitor"]]
    c["updated"] = at
    tx.save(c, decision("signup", c, n, at))


def confirm(tx: People, step: Step) -> None:
    at, c = step["at"], copy.deepcopy(tx.find(step["email"]))
    if c is None or not c["pending"]:
        return  # the link is used up
    c["consent"]["newsletter"] = {"at": at}
    if c["pending"]["ads"]:
        c["consent"]["ads"] = {"at": at}
    c["status"] = "confirmed"
    c["lead_at"] = c["lead_at"] or at
    c["ref_code"] = c["ref_code"] or "r" + hex_id("ref", step["n"])[:10]
    c["pending"], c["updated"] = None, at
    tx.save(c, decision("confirm", c, step["n"], at))


def unsubscribe(tx: People, step: Step) -> None:
    at, c = step["at"], copy.deepcopy(tx.find(step["email"]))
    if c is None or c["status"] == "unsubscribed":
        return
    for kind in ("newsletter", "ads"):
        if c["consent"][kind]:
            c["consent"][kind] = {**c["consent"][kind], "withdrawn_at": at}
    c["status"], c["pending"], c["updated"] = "unsubscribed", None, at
    tx.save(c, decision("unsubscribe", c, step["n"], at))


def consent(tx: People, step: Step) -> None:
    at, c = step["at"], copy.deepcopy(tx.find(step["email"]))
    if c is None:
        return
    c["consent"]["ads"] = {"at": at} if step["ads"] else None
    c["updated"] = at
    tx.save(c, decision("consent", c, step["n"], at, ads=step["ads"]))


def order(tx: People, n: int, email: str, order_id: str, at: str, via: str) -> None:
    if tx.find_by("order", order_id):
        return  # recorded once
    c = copy.deepcopy(tx.find(email)) or new_contact(email, at, n)
    c["customer_at"] = min(t for t in (c["customer_at"], at) if t)
    c["lead_at"] = min(t for t in (c["lead_at"], at) if t)
    c["orders"] = [*c["orders"], order_id]
    c["updated"] = at
    event = decision("purchase", c, f"{n}-{order_id}", at, order_id=order_id, via=via)
    tx.save(c, event)


def conversion(tx: People, step: Step) -> None:
    order(tx, step["n"], step["email"], step["order"], step["at"], "api")


def import_orders(tx: People, step: Step) -> None:
    """Old orders from a shop's CSV, several in one transaction, dated then."""
    for row in step["rows"]:
        order(tx, step["n"], row["email"], row["order"], row["ts"], "import")


DECISIONS = {
    "signup": signup,
    "confirm": confirm,
    "unsubscribe": unsubscribe,
    "consent": consent,
    "conversion": conversion,
    "import": import_orders,
}


def apply_step(storage: Storage, step: Step) -> None:
    """Carry out one step on a storage, with the clock set to its moment."""
    clock.set_now(step["at"])
    action = step["action"]
    if action in DECISIONS:
        with storage.transaction() as tx:
            DECISIONS[action](tx, step)
    elif action == "erase":
        found = storage.find_contact(step["email"])
        if found:
            storage.erase_contact(found["id"])
    elif action == "look":  # a read: the process folds what the others wrote
        list(storage.iter_contacts())
    elif action == "compact":  # the embedded backend's `polku db compact`
        compact = getattr(storage, "compact_people", None)
        if compact is not None:
            compact()
    elif action == "snapshot":
        people = getattr(storage, "people", None)  # the embedded backend's
        if people is not None:
            storage.get_contact("")  # brought up to date first
            people.save_snapshot()
    else:
        raise ValueError(f"unknown action {action!r}")


def state(storage: Storage, emails: list[str], orders: list[str]) -> dict:
    """Everything a backend answers about people, in a comparable form."""
    people = {}
    for contact, decided in storage.iter_people():
        own = [e["id"] for e in storage.decisions(contact["id"])]
        people[contact["id"]] = {
            "contact": contact,
            "decisions": [e["id"] for e in decided],
            "own": own,
        }
    with storage.transaction() as tx:
        by_order = {o: (tx.find_by("order", o) or {}).get("id") for o in orders}
    return {
        "people": people,
        "facts": sorted(storage.people_facts(), key=lambda f: f["id"]),
        "emails": {e: (storage.find_contact(e) or {}).get("id") for e in emails},
        "orders": by_order,
    }


def count_up(storage: Storage, email: str, tag: str) -> None:
    """Add one to a contact's counter, and a decision that carries the new value."""
    with storage.transaction() as tx:
        c = copy.deepcopy(tx.find(email)) or {
            **new_contact(email, clock.now_iso(), 0),
            "count": 0,
        }
        c["count"] += 1
        tx.save(c, {**decision("count", c, tag, clock.now_iso()), "count": c["count"]})


def open_tinydb(data_dir: str, snapshot: bool = True) -> Storage:
    from tracker.storage import facts_view
    from tracker.storage.snapshots import PeopleSnapshot
    from tracker.storage.tinydb_store import TinyDBStorage

    storage = TinyDBStorage(data_dir)
    if not snapshot:
        people = storage.people
        people.held.snapshot = PeopleSnapshot(data_dir + "/none.json")
        none = PeopleSnapshot(data_dir + "/none-facts.json", facts_view)
        people.held_facts.snapshot = none
    return storage


class Worker:
    """One process's storages: TinyDB on the directory, PostgreSQL when given.

    A one-shot command's TinyDB storage is opened for each step and closed
    after it: it starts, like a new process, from the files alone. Its
    PostgreSQL storage stays open (a pool is all a process keeps there).
    """

    def __init__(self) -> None:
        self.tinydb: Storage | None = None
        self.pg: Storage | None = None
        self.data_dir = ""
        self.role = "server"

    def close(self, pg: bool = True) -> None:
        if self.tinydb is not None:
            self.tinydb.close()
            self.tinydb = None
        if pg and self.pg is not None:
            self.pg.close()
            self.pg = None

    def storages(self, fresh: bool, snapshot: bool = True) -> dict[str, Storage]:
        tinydb = open_tinydb(self.data_dir, snapshot) if fresh else self.tinydb
        found = {"tinydb": tinydb}
        if self.pg is not None:
            found["postgres"] = self.pg
        return found

    def handle(self, message: dict) -> Any:
        op = message["op"]
        if op == "open":
            from tracker.storage.postgres import PostgresStorage

            same = self.pg is not None and self.pg.db.url == message["pg"]
            self.close(pg=not same)
            self.data_dir, self.role = message["dir"], message["role"]
            if self.role == "server":
                self.tinydb = open_tinydb(self.data_dir)
            if message["pg"] and not same:
                self.pg = PostgresStorage(message["pg"])
            return None
        if op == "step":
            fresh = self.role == "cli"
            storages = self.storages(fresh)
            try:
                for storage in storages.values():
                    apply_step(storage, message["step"])
            finally:
                if fresh:
                    storages["tinydb"].close()
            return None
        if op == "state":
            fresh = message.get("fresh", False)
            storages = self.storages(fresh, not message.get("no_snapshot", False))
            try:
                return {
                    name: state(s, message["emails"], message["orders"])
                    for name, s in storages.items()
                }
            finally:
                if fresh:
                    storages["tinydb"].close()
        if op == "burst":
            for n in range(message["count"]):
                count_up(self.tinydb, message["email"], f"{message['tag']}-{n}")
            return None
        if op == "close":  # the pool stays open for the next example's schema
            self.close(pg=False)
            return None
        raise ValueError(f"unknown op {op!r}")


def main() -> None:
    worker = Worker()
    for line in sys.stdin:
        try:
            answer = {"ok": worker.handle(json.loads(line))}
        except Exception:
            answer = {"error": traceback.format_exc()}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    worker.close()


if __name__ == "__main__":
    main()
