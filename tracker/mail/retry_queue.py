"""The retry queue: messages a mail server put off (a 4xx), kept until tried again.

A queued message (its bytes, compressed, and its envelope) waits on its
person's contact (`outgoing`), so erasing the person erases it, and the
transaction that queues it is the one that tells a rerun of the digest it is
taken care of; a message to no contact (the owner's report) waits in a meta
document of its own. A ledger per month lists what was queued and what is
finished, so a pass (mail.retry.flush) reads no one else.
"""

from __future__ import annotations

import base64
import email
import secrets
import zlib
from datetime import datetime, timedelta
from email.message import Message

from .. import clock
from ..storage import Storage
from .message import Envelope, as_bytes

BACKOFF = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))
GIVE_UP = timedelta(days=3)  # a message still waiting then (no pass ran) is dropped
INDEX = "mail-retry"
PER_CONTACT = 20  # messages one person may have waiting


def month_of(ts: str) -> str:
    return ts[:7]


def index(month: str) -> str:
    return f"{INDEX}:{month}"


def done(month: str) -> str:
    return f"{INDEX}:{month}:done"


def doc(entry_id: str) -> str:
    return f"{INDEX}:{entry_id}"


def _pack(msg: Message) -> dict:
    envelope = getattr(msg, "envelope", None)
    packed = {"msg": base64.b64encode(zlib.compress(as_bytes(msg, "\r\n"))).decode()}
    if isinstance(envelope, Envelope):
        packed["envelope"] = {
            "sender": envelope.sender,
            "recipients": list(envelope.recipients),
            "shown": envelope.shown,
            "international": envelope.international,
            "sender_international": envelope.sender_international,
        }
    return packed


def unpack(entry: dict) -> Message:
    """The queued message, as it was first sent (its Message-ID and Date too)."""
    data = zlib.decompress(base64.b64decode(entry["msg"]))
    msg = email.message_from_bytes(data)
    if entry.get("envelope"):
        kept = entry["envelope"]
        msg.envelope = Envelope(  # type: ignore[attr-defined]
            kept["sender"],
            tuple(kept["recipients"]),
            kept["shown"],
            kept["international"],
            kept["sender_international"],
        )
    return msg


def _fresh(outgoing: dict | None, now: datetime) -> dict:
    """The messages still worth a try (a pass that never ran leaves old ones)."""
    oldest = (now - GIVE_UP).isoformat()
    return {k: v for k, v in (outgoing or {}).items() if v["queued"] >= oldest}


def enqueue(
    storage: Storage,
    msg: Message,
    *,
    send: str,
    contact: dict | None,
    needs: str,
    ledger: str | None = None,
    status: str = "",
) -> bool:
    """Queue msg for its first retry; False when it cannot wait (the person is
    gone, or has too many messages waiting)."""
    now = clock.now()
    entry = {
        "id": secrets.token_hex(8),
        "send": send,
        "needs": needs,
        "ledger": ledger,
        "tries": 1,
        "queued": now.isoformat(),
        "due": (now + BACKOFF[0]).isoformat(),
        "status": status[:300],
        **_pack(msg),
    }
    contact_id = contact["id"] if contact else ""
    # Listed first: a listed message that never got queued is dropped by a pass;
    # a queued one never listed would wait for ever.
    storage.ledger_add(index(month_of(entry["queued"])), f"{entry['id']}|{contact_id}")
    if not contact:
        storage.update_meta(doc(entry["id"]), lambda _: entry)
        return True
    with storage.transaction() as tx:
        current = tx.get(contact_id)
        if current is None or current.get("erased"):
            return False
        waiting = _fresh(current.get("outgoing"), now)
        if len(waiting) >= PER_CONTACT:
            return False
        entry["suppressed_at"] = (current.get("suppressed") or {}).get("at")
        tx.save({**current, "outgoing": {**waiting, entry["id"]: entry}})
    return True


def waiting(contact: dict, send: str) -> bool:
    """True when a message of this send waits in the queue for the contact."""
    return any(e.get("send") == send for e in (contact.get("outgoing") or {}).values())


def months() -> list[str]:
    now = clock.now()
    first = now.replace(day=1)
    before = first - timedelta(days=1)
    return [month_of(before.isoformat()), month_of(now.isoformat())]


def load(storage: Storage, entry_id: str, contact_id: str):
    if not contact_id:
        return None, storage.get_meta(doc(entry_id))
    contact = storage.get_contact(contact_id)
    return contact, ((contact or {}).get("outgoing") or {}).get(entry_id)


def again(storage: Storage, entry: dict, contact_id: str, status: str) -> None:
    """Count the try and set the next one after the backoff."""
    tries = entry["tries"] + 1
    due = (clock.now() + BACKOFF[tries - 1]).isoformat()
    changed = {**entry, "tries": tries, "due": due, "status": status[:300]}
    if not contact_id:
        storage.update_meta(doc(entry["id"]), lambda _: changed)
        return
    with storage.transaction() as tx:
        current = tx.get(contact_id)
        outgoing = (current or {}).get("outgoing") or {}
        if entry["id"] in outgoing:
            tx.save({**current, "outgoing": {**outgoing, entry["id"]: changed}})


def finish(storage: Storage, month: str, entry_id: str, contact_id: str) -> None:
    """The message leaves the queue (sent, bounced or dropped)."""
    if not contact_id:
        storage.update_meta(doc(entry_id), lambda _: None)
    else:
        with storage.transaction() as tx:
            current = tx.get(contact_id)
            outgoing = dict((current or {}).get("outgoing") or {})
            if outgoing.pop(entry_id, None) is not None:
                tx.save({**current, "outgoing": outgoing})
    storage.ledger_add(done(month), entry_id)
