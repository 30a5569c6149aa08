"""What `polku experiments report` and the dashboard share: every A/B test's result.

The experiments come from the build's manifest; the exposures, named-event
goals and clicks in our emails from the stored observations since the
earliest Start, the signups, downloads and purchases from the people's
decisions (only those, kept between calls: `tracker.kept`). A site test's
reader is a visitor id (a decision joins by the ids the person's browsers
proved); an email test's is the contact, and its `click` goal a click in an
email that carried the test. The numbers and the verdict are the journey
core's; the sentence saying what the verdict rests on is made here, in the
site's language.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import i18n
from .i18n import N_
from .journey import experiments as core
from .journey import variants
from .kept import Decisions, Observations

# A goal -> the decisions on a person's timeline that reach it.
DECISIONS = {
    "signup": ("signup",),
    "download": ("download",),
    "purchase": ("purchase", "booking"),
}
OBSERVED, DECIDED = Observations(), Decisions()  # per process: see tracker.kept

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


@dataclass
class Reached:
    """What the stored record holds for the report, read in one pass each."""

    exposures: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    by_visitor: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    by_contact: dict[str, list] = field(default_factory=lambda: defaultdict(list))
    clicks: list[tuple[str, str, str]] = field(default_factory=list)
    contact_of: dict[str, str] = field(default_factory=dict)  # visitor -> contact

    def of(self, test: Mapping) -> tuple[list, list]:
        """The test's believed exposures and (reader, ts) of its goal: readers
        are visitors on the site and contacts in email."""
        exposed = variants.believed(test, self.exposures[test["name"]])
        goal = test["goal"]
        if test["kind"] not in variants.EMAIL:
            return exposed, self.by_visitor[goal]
        if goal == core.CLICK:
            return exposed, variants.clicks(exposed, self.clicks)
        if goal in DECISIONS:
            return exposed, self.by_contact[goal]
        known = self.contact_of
        return exposed, [
            (known[v], ts) for v, ts in self.by_visitor[goal] if v in known
        ]


def conversions(
    experiments: Iterable[Mapping],
    events: Iterable[Mapping],
    decided: Iterable[tuple[str, list[str], Mapping]],
    contacts: Iterable[Mapping] = (),
) -> Reached:
    """Exposures per experiment and the goals they may lead to: named events
    by visitor; clicks in our emails; signups, downloads and purchases (decided:
    (contact id, visitor ids its browsers proved, decision)) by those visitor
    ids that were exposed and by contact; contacts map visitor ids to theirs
    (needed for an email test's named-event goal only)."""
    tests = {t["name"]: t for t in experiments}
    named = {t["goal"][6:] for t in tests.values() if t["goal"].startswith("event:")}
    clicked = any(t["goal"] == core.CLICK for t in tests.values())
    found = Reached()
    readers = set()
    for event in events:
        kind = event.get("type")
        if kind == "exposure" and event.get("experiment") in tests:
            found.exposures[event["experiment"]].append(event)
            readers.add(event.get("visitor"))
        elif kind == "event" and event.get("name") in named and event.get("visitor"):
            found.by_visitor["event:" + event["name"]].append(
                (event["visitor"], event["ts"])
            )
        elif kind == "click" and clicked and event.get("contact"):
            send = str((event.get("props") or {}).get("email") or "")
            found.clicks.append((event["contact"], send, event["ts"]))
    goals = {t["goal"] for t in tests.values() if t["goal"] in DECISIONS}
    for contact_id, visitors, decision in decided:
        for goal in goals:
            if decision.get("type") in DECISIONS[goal] and decision.get("ts"):
                ts = decision["ts"]
                found.by_visitor[goal] += [(v, ts) for v in visitors if v in readers]
                found.by_contact[goal].append((contact_id, ts))
    for contact in contacts:
        visitors = contact.get("visitors") or ()
        found.contact_of.update(dict.fromkeys(visitors, contact["id"]))
    return found


def inputs(tests: list[Mapping]) -> tuple[tuple[str, ...], set[str], tuple]:
    """The observation types, event names and decision types the tests read."""
    goals = {t["goal"] for t in tests}
    types = ("exposure", "click") if core.CLICK in goals else ("exposure",)
    names = {g[6:] for g in goals if g.startswith("event:")}
    decisions = tuple(
        sorted({k for g in goals if g in DECISIONS for k in DECISIONS[g]})
    )
    return types, names, decisions


def report(storage, manifest: Mapping, lang: str | None) -> dict[str, Any]:
    """Every experiment of the build (drafts aside): counts, intervals, verdict.

    The observations and decisions are kept between calls (`tracker.kept`):
    a call reads only what may be new.
    """
    tests = [
        t
        for t in (manifest.get("experiments") or {}).values()
        if isinstance(t, dict) and t.get("status") != "draft"
    ]
    if not tests:
        return {"experiments": []}
    starts = [t.get("start") for t in tests]
    since = None if None in starts else min(starts)
    types, names, kinds = inputs(tests)
    events = OBSERVED.read(storage, since, types, names)
    decided = DECIDED.read(storage, kinds, since) if kinds else ()
    emailed = any(t["kind"] in variants.EMAIL for t in tests)
    contacts = storage.iter_contacts() if names and emailed else ()
    reached = conversions(tests, events, decided, contacts)
    results = []
    for test in tests:
        daily = core.looks(test, *reached.of(test))
        result = core.analyse(test, daily)
        result["title"] = test.get("title")
        result["reason"] = explain(result, lang)
        results.append(result)
    return {"experiments": results}
