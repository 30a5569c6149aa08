"""A subscriber list from another mail tool, stored as imported decisions.

Each row is decided by `journey.imported` against what Polku holds and saved
in batches of BATCH rows per `storage.transaction()`, so that a list of ten
thousand takes seconds. Subscribed people become confirmed subscribers with
imported proof (or, with --reconfirm, are asked by email: reconfirm.py);
unsubscribed, cleaned and complaining addresses go into the suppression
record. A row that changes nothing saves nothing: importing the same file
again stores no new event.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import clock, privacy
from ..journey import imported
from ..journey.imported import Entry, Export
from ..storage import Storage
from ..web.requests import new_id

BATCH = 500
_DATE = re.compile(r"(\d{4}-\d\d-\d\d)")


@dataclass
class Summary:
    """What an import did (or would do), per outcome; the reasons rows were skipped."""

    tool: str
    rows: int = 0
    counts: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    ask: list[Entry] = field(default_factory=list)  # --reconfirm: whom to ask

    def count(self, outcome: str, reason: str | None = None) -> None:
        self.counts[outcome] += 1
        if reason:
            self.reasons[reason] += 1


def export_of(tool: str, path: str) -> Export:
    """The export, as of the date in its file name (Ghost's members.2026-03-01.csv),
    else as of the import."""
    found = _DATE.search(os.path.basename(path))
    now = clock.now()
    try:
        named = clock.parse(found.group(1)) if found else now
    except ValueError:  # digits that are no date
        named = now
    return Export(tool, min(named, now).isoformat())


def import_entries(
    storage: Storage,
    export: Export,
    rows: list[tuple[int, Entry | str]],
    *,
    secret: str,
    proven: bool = True,
    dry_run: bool = False,
    progress: Callable[[int], None] = lambda n: None,
) -> Summary:
    """Decide and store every row; return the summary (and, when not proven,
    whom to ask for a confirmation)."""
    summary = Summary(export.tool, rows=len(rows))
    known_keys = set(storage.get_meta(privacy.SUPPRESSED) or [])
    new_keys: set[str] = set()
    decided: dict[str, dict] = {}  # this run's contacts, for a dry run's repeats
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        with storage.transaction() as tx:
            for _, entry in batch:
                if isinstance(entry, str):
                    summary.count(imported.SKIPPED, entry)
                    continue
                contact = decided.get(entry.email) or tx.find(entry.email)
                key = privacy.address_key(secret, entry.email)
                decision = imported.decide(
                    contact,
                    entry,
                    export,
                    now=clock.now_iso(),
                    contact_id=new_id(),
                    proven=proven,
                    suppressed=contact is None and key in known_keys | new_keys,
                )
                if decision.outcome == imported.ASK:  # counted once asked
                    summary.ask.append(entry)
                    continue
                summary.count(decision.outcome, decision.reason)
                if decision.contact is not None:
                    decided[entry.email] = decision.contact
                    if not dry_run:
                        tx.save(decision.contact, event_of(decision))
                elif decision.outcome == imported.SUPPRESSED:
                    new_keys.add(key)
        progress(len(batch))
    if new_keys and not dry_run:
        storage.update_meta(
            privacy.SUPPRESSED, lambda old: sorted({*(old or []), *new_keys})
        )
    return summary


def event_of(decision: imported.Decision) -> dict:
    contact = decision.contact or {}
    event = {"id": new_id(), "ts": clock.now_iso(), "contact": contact["id"]}
    return {**event, **(decision.event or {})}
