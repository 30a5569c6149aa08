"""The dashboard's sequences: what each one did for the people who entered it.

The numbers are `tracker.journey.sequence_report`'s over the stored contacts
and the email clicks since the first person entered.
"""

from __future__ import annotations

from flask import render_template

from .. import clock
from ..db import get_storage
from ..journey import sequence_report
from ..journey.sequences import describe_rule
from ..web.site import manifest
from .blueprint import bp


@bp.get("/sequences")
def sequences():
    storage = get_storage()
    defined = manifest().get("sequences") or []
    contacts = list(storage.people_facts(having="sequences"))  # outlines, in facts
    entered = [
        record.get("entered")
        for c in contacts
        for record in c["sequences"].values()
        if record.get("entered")
    ]
    clicks = (
        sequence_report.clicks_by_sequence(storage.iter_events(since=min(entered)))
        if entered
        else {}
    )
    rows = sequence_report.report(defined, contacts, clicks, clock.now())
    for row in rows:
        row["trigger"] = describe_rule(row["trigger"])
    return render_template(
        "admin/sequences.html", rows=rows, days=sequence_report.WINDOW.days
    )
