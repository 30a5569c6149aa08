"""Access, erasure and retention: what a person gets of their data, what
leaves the data directory, and when."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import timedelta

from . import clock, datadir
from .journey import people
from .storage import Storage
from .storage.files import atomic_write


def export(storage: Storage, contact: dict) -> dict:
    """Everything stored about one person: the contact (consent proof, choices,
    sequences) and their timeline, stitched visits included. `polku contacts
    export` prints it; the reader downloads it from their own page."""
    return {"contact": contact, "timeline": storage.timeline(contact["id"])}


def traces(contact: dict) -> list[bytes]:
    """The strings that identify a person in a file: their email and its hashes."""
    from .journey.identifiers import identifier_hashes

    email = contact["email"]
    hashes = {hashlib.sha256(email.encode()).hexdigest(), *identifier_hashes(contact)}
    return [email.encode(), *(h.encode() for h in sorted(hashes))]


def scrub_files(data_dir: str, contact: dict) -> int:
    """Remove the person from emails waiting in the outbox and from audience files.

    An email may hold the address in another form than the stored one (the
    domain in IDNA form, an RFC 2047 encoded word, raw UTF-8, a base64 body):
    mail.names() looks for every form.
    """
    from . import mail

    needles = traces(contact)
    changed = 0
    for folder in datadir.PERSONAL:
        for root, _, names in os.walk(os.path.join(data_dir, folder)):
            for name in names:
                path = os.path.join(root, name)
                with open(path, "rb") as f:
                    data = f.read()
                email = name.endswith(".eml")
                if not any(n in data for n in needles) and not (
                    email and mail.names(data, contact["email"])
                ):
                    continue
                changed += 1
                if email:
                    os.unlink(path)
                else:
                    kept = [
                        line
                        for line in data.splitlines(keepends=True)
                        if not any(n in line for n in needles)
                    ]
                    atomic_write(path, b"".join(kept))
    return changed


SUPPRESSED = "suppressed-addresses"  # keyed hashes of erased, suppressed addresses


def address_key(secret: str, email: str) -> str:
    """A keyed hash of an address: it finds the address again, and nothing else
    (unlike a plain SHA-256, no list of addresses turns it back into one)."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()[:32]


def still_suppressed(storage: Storage, secret: str, email: str) -> bool:
    """True for the address of someone erased while suppressed (bounced, complained)."""
    return address_key(secret, email) in (storage.get_meta(SUPPRESSED) or [])


def erase_everywhere(
    storage: Storage, data_dir: str, contact: dict, secret: str
) -> int:
    """Erase the contact from storage and scrub their files; return files touched.

    A suppressed address stays suppressed as a keyed hash (with the app's
    secret): erasing a bounced or complaining address must not let a form post
    send it mail again.
    """
    if contact.get("suppressed"):
        key = address_key(secret, contact["email"])
        storage.update_meta(SUPPRESSED, lambda old: sorted({*(old or []), key}))
    storage.erase_contact(contact["id"])
    return scrub_files(data_dir, contact)


def prune_pending(storage: Storage, data_dir: str, days: int, secret: str) -> int:
    """Erase signups that were never confirmed within `days` (a suppressed
    address among them stays suppressed, as a keyed hash)."""
    cutoff = (clock.now() - timedelta(days=days)).isoformat()
    stale = [c for c in storage.iter_contacts() if people.is_stale_pending(c, cutoff)]
    for contact in stale:
        erase_everywhere(storage, data_dir, contact, secret)
    return len(stale)


def prune_daily(storage: Storage, data_dir: str, days: int, secret: str) -> None:
    """Prune once a day, from whichever process gets there first."""
    today = clock.now().date().isoformat()
    if storage.get_meta("pruned_on") == today:
        return
    if storage.update_meta("pruned_on", lambda _: today) == today:
        prune_pending(storage, data_dir, days, secret)
