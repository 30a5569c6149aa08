"""A contact's timeline: their decisions and the observations linked to them.

Every backend links observations the same way; each supplies its own scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .base import Record

Scan = Callable[[tuple[bytes, ...], set[str] | None], Iterator[Record]]


def linked_events(decisions: list[Record], contact: Record, scan: Scan) -> list[Record]:
    """Return the contact's decisions plus every observation linked to them, by time.

    Linked: made by one of their visitor ids, however long before the signup,
    or carrying their contact id (a click from our email). A click also links
    the rest of that browser's visit that day, which is how a cookieless
    reader's later pages join the journey. scan(needles, months) yields the
    observations that may hold a needle, in those months (None: all of them).
    """
    visitors = set(contact.get("visitors", []))
    seen = {e["id"] for e in decisions}
    found = list(decisions)
    needles = tuple(v.encode() for v in visitors) + (contact["id"].encode(),)
    clicked: set[tuple[str, str]] = set()
    for event in scan(needles, None):
        if event.get("contact") == contact["id"] and event.get("visitor"):
            clicked.add((event["visitor"], event["ts"][:10]))
        if (
            event.get("visitor") in visitors or event.get("contact") == contact["id"]
        ) and (event["id"] not in seen):
            seen.add(event["id"])
            found.append(event)
    if clicked:
        needles = tuple({v.encode() for v, _ in clicked})
        for event in scan(needles, {day[:7] for _, day in clicked}):
            if (event.get("visitor"), event["ts"][:10]) in clicked and event[
                "id"
            ] not in seen:
                seen.add(event["id"])
                found.append(event)
    return sorted(found, key=lambda e: e["ts"])
