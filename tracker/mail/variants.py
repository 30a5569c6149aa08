"""A/B tests of subject lines: the subject a contact's email carries, and the
exposure recorded once the mail server accepted it.

The contact id is the reader (`journey.variants.for_contact`), so a contact
gets the same variant in every digest or step while the test runs. The
exposure is an observation with the contact id and the send it came in (the
digest run, or `seq:<sequence>:<step>`): the report counts the contact once,
in the variant of their first exposure, and a click in that email as theirs.
Like a click it is on the person's timeline, in their export and gone with
their erasure. A preview or dry run shows the variant and records nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from typing import Any

from .. import clock
from ..journey import variants
from ..storage import Storage
from ..storage.base import StorageError
from ..web import site as sitemeta

log = logging.getLogger(__name__)

DIGEST, STEP = "digest-subject", "step-subject"


def chosen(kind: str, target: str | None, contact_id: str) -> dict[str, Any] | None:
    """The running test of this subject and the contact's variant, or None."""
    tests = (sitemeta.manifest().get("experiments") or {}).values()
    today = clock.now().date().isoformat()
    return variants.for_contact(tests, kind, target, contact_id, today)


def digest_settings(settings, contact_id: str):
    """The digest's settings with the subject of the contact's variant (its
    fields, `{site_name}`, `{date}`, `{count}`, filled as the site's subject)."""
    shown = chosen(DIGEST, None, contact_id)
    if not shown or not shown["text"]:
        return settings
    return dataclasses.replace(settings, subject=shown["text"])


def step_subject(sequence: str, step: dict, contact_id: str) -> str:
    """The step's subject template for this contact: their variant's, or the step's."""
    shown = chosen(STEP, f"{sequence}/{step['id']}", contact_id)
    return shown["text"] if shown and shown["text"] else step["subject"]


def record(
    storage: Storage, kind: str, target: str | None, contact_id: str, send: str
) -> None:
    """Record that the contact's email of this send carried their variant.

    Called once the mail server accepted it. A storage failure here loses the
    exposure, never the send's own records (logged).
    """
    shown = chosen(kind, target, contact_id)
    if shown is None:
        return
    try:
        storage.append_event(
            {
                "id": secrets.token_hex(12),
                "ts": clock.now().isoformat(),
                "type": "exposure",
                "experiment": shown["experiment"],
                "variant": shown["variant"],
                "contact": contact_id,
                "send": send,
            }
        )
    except StorageError as e:
        log.warning("the exposure of %s to %s was not stored: %s", send, contact_id, e)
