"""What `polku experiments report` and the dashboard share: every A/B test's result.

The experiments come from the build's manifest; the exposures and named-event
goals from the stored observations (one pass, from the earliest Start), the
signups, downloads and purchases from the people's decisions, joined to the
exposures by the visitor ids their browsers proved. The numbers and the
verdict are the journey core's; the sentence saying what the verdict rests
on is made here, in the site's language.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from . import i18n
from .i18n import N_
from .journey import experiments as core

# A goal -> the decisions on a person's timeline that reach it.
DECISIONS = {
    "signup": ("signup",),
    "download": ("download",),
    "purchase": ("purchase", "booking"),
}

VERDICTS = {
    core.KEEP_RUNNING: N_("Keep running"),
    core.WINNER: N_("A winner"),
    core.NO_DIFFERENCE: N_("No difference"),
}

REASONS = {
    "too few": N_(
        "Too few exposures or conversions to compare yet: %(seen)s of the planned "
        "%(planned)s exposures."
    ),
    "mismatch": N_(
        "The exposures are off the planned split (chi-square p = %(p)s): the "
        "assignment or the recording is at fault, so no result can be trusted "
        "until that is fixed."
    ),
    "better": N_(
        "%(winner)s converts better than %(control)s, by %(low)s to %(high)s "
        "percentage points; the interval holds however often the results are "
        "looked at."
    ),
    "control better": N_(
        "%(control)s converts better than every other variant: they differ from it "
        "by %(low)s to %(high)s percentage points."
    ),
    "no difference": N_(
        "The planned %(planned)s exposures are in, and every variant is within "
        "%(low)s to %(high)s percentage points of %(control)s."
    ),
    "not yet": N_(
        "%(seen)s of the planned %(planned)s exposures; every variant is still "
        "within %(low)s to %(high)s percentage points of %(control)s."
    ),
}


def points(value: float, lang: str | None) -> str:
    """A difference of rates in percentage points, signed: +3.43, −0.23."""
    text = i18n.format_number(value * 100, lang, 2)
    return "+" + text if value > 0 else text


def explain(result: Mapping, lang: str | None) -> str:
    """The sentence that says what the verdict rests on."""
    reason = dict(result["reason"])
    key = reason.pop("key")
    values = {k: v for k, v in reason.items() if v is not None}
    for name in ("seen", "planned"):
        values[name] = i18n.format_number(values[name], lang)
    for name in ("low", "high"):
        if name in values:
            values[name] = points(values[name], lang)
    if "p" in values:
        values["p"] = f"{values['p']:.2g}"
    if result.get("winner"):
        values["winner"] = result["winner"]
    return i18n.gettext(lang, REASONS[key], **values)


def conversions(
    experiments: Iterable[Mapping],
    events: Iterable[Mapping],
    people: Iterable[tuple[Mapping, list[Mapping]]],
) -> tuple[dict[str, list], dict[str, list]]:
    """Exposures per experiment and (visitor, ts) conversions per goal."""
    tests = {t["name"]: t for t in experiments}
    named = {t["goal"][6:] for t in tests.values() if t["goal"].startswith("event:")}
    exposures: dict[str, list] = defaultdict(list)
    reached: dict[str, list] = defaultdict(list)
    for event in events:
        kind = event.get("type")
        if kind == "exposure" and event.get("experiment") in tests:
            exposures[event["experiment"]].append(event)
        elif kind == "event" and event.get("name") in named and event.get("visitor"):
            reached["event:" + event["name"]].append((event["visitor"], event["ts"]))
    goals = {t["goal"] for t in tests.values() if t["goal"] in DECISIONS}
    if goals:
        for contact, decisions in people:
            visitors = contact.get("visitors") or ()
            for decision in decisions:
                for goal in goals:
                    if decision.get("type") in DECISIONS[goal] and decision.get("ts"):
                        reached[goal] += [(v, decision["ts"]) for v in visitors]
    return exposures, reached


def report(storage, manifest: Mapping, lang: str | None) -> dict[str, Any]:
    """Every experiment of the build (drafts aside): counts, intervals, verdict."""
    tests = [
        t
        for t in (manifest.get("experiments") or {}).values()
        if isinstance(t, dict) and t.get("status") != "draft"
    ]
    if not tests:
        return {"experiments": []}
    starts = [t.get("start") for t in tests]
    since = None if None in starts else min(starts)
    exposures, reached = conversions(
        tests, storage.iter_events(since), storage.iter_people()
    )
    results = []
    for test in tests:
        daily = core.looks(test, exposures[test["name"]], reached[test["goal"]])
        result = core.analyse(test, daily)
        result["title"] = test.get("title")
        result["reason"] = explain(result, lang)
        results.append(result)
    return {"experiments": results}
