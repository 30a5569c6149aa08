"""A/B tests reaching readers: who is shown which variant, where, and which
exposures the report believes.

On the site (`cta`, `headline`) the reader is their visitor id, as the
tracker works it out for beacons: the page's block asks `GET /api/next`,
whose answer names the running tests that apply to the page and this
reader's variant, and the script swaps the marked texts (`data-polku-x`).
In email (`digest-subject`, `step-subject`) the reader is the contact id: the
subject of their variant, and an exposure recorded with the send. Either way
the assignment is the tracker's (`experiments.assign`), so the report counts
an exposure only in the variant the tracker gives its reader: a beacon that
claims another (forged, or sent across the midnight a cookieless id changes
at) is left out rather than counted where the reader was not. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .experiments import assign
from .recommend import path_key

SITE = ("cta", "headline")
EMAIL = ("digest-subject", "step-subject")


def running(experiment: Mapping, day: str) -> bool:
    """Shown on day (YYYY-MM-DD, UTC, as exposures are counted): running, and
    within Start..End."""
    start, end = experiment.get("start"), experiment.get("end")
    return (
        experiment.get("status") == "running"
        and not (start and day < start)
        and not (end and day > end)
    )


def _text(experiment: Mapping, variant: str) -> str | None:
    """The variant's text; None for a control that keeps the current one."""
    for found in experiment["variants"]:
        if found["name"] == variant:
            return found.get("text")
    return None


def _live(experiments: Iterable[Any], kinds: tuple, day: str) -> list[Mapping]:
    found = [
        t
        for t in experiments
        if isinstance(t, Mapping) and t.get("kind") in kinds and running(t, day)
    ]
    return sorted(found, key=lambda t: t["name"])


def mark(experiment: Mapping) -> str:
    """What the page marks the tested text with (`data-polku-x`): the call to
    action (`newsletter`, `guide:<slug>`) or `headline:<slug>`."""
    if experiment["kind"] == "headline":
        return "headline:" + experiment["target"]
    return experiment["target"]


def on_site(
    experiments: Iterable[Any], page: str, reader: str, day: str
) -> list[dict[str, Any]]:
    """The running site tests for this page (its path key) and this reader.

    A call to action may be on any page; a headline only on its landing page
    (`page`, the build's URL of it). Each: `mark`, `text` (None: the page's
    own) and `exposure`, the props the script sends once a marked text is seen.
    """
    shown = []
    for test in _live(experiments, SITE, day):
        where = test.get("page")
        if test["kind"] == "headline" and where and path_key(where) != page:
            continue
        variant = assign(test, reader)
        shown.append(
            {
                "mark": mark(test),
                "text": _text(test, variant),
                "exposure": {"experiment": test["name"], "variant": variant},
            }
        )
    return shown


def for_contact(
    experiments: Iterable[Any], kind: str, target: str | None, contact: str, day: str
) -> dict[str, Any] | None:
    """The email test running on this subject and the contact's variant:
    `experiment`, `variant`, `text` (None: the control keeps the subject).
    The build lets one test at a time run on a subject; the first by name wins."""
    for test in _live(experiments, EMAIL, day):
        if test["kind"] == kind and test.get("target") == target:
            variant = assign(test, contact)
            return {
                "experiment": test["name"],
                "variant": variant,
                "text": _text(test, variant),
            }
    return None


def believed(experiment: Mapping, exposures: Iterable[Mapping]) -> list[dict]:
    """The exposures the report counts, keyed by their reader (`visitor`: the
    visitor id on the site, the contact id in email), each only in the variant
    the tracker assigns that reader; an email's keeps its `send`."""
    email = experiment["kind"] in EMAIL
    key = "contact" if email else "visitor"
    other = "visitor" if email else "contact"
    assigned: dict[str, str] = {}
    found = []
    for event in exposures:
        reader, variant, ts = event.get(key), event.get("variant"), event.get("ts")
        if not (reader and ts and variant) or event.get(other):
            continue
        if reader not in assigned:
            assigned[reader] = assign(experiment, reader)
        if variant != assigned[reader]:
            continue
        row = {"ts": ts, "visitor": reader, "variant": variant}
        if email and event.get("send"):
            row["send"] = event["send"]
        found.append(row)
    return found


def clicks(
    exposures: Iterable[Mapping], clicked: Iterable[tuple[str, str, str]]
) -> list[tuple[str, str]]:
    """(contact, ts) of the clicks in an email that carried the test: clicked
    holds (contact, the email's send, ts); exposures are `believed`'s."""
    carried = {(e["visitor"], e["send"]) for e in exposures if e.get("send")}
    return [(c, ts) for c, send, ts in clicked if (c, send) in carried]
