"""What personalisation adds: the personal arm against the holdout, per goal.

The holdout is an A/B test whose control keeps the default block: the
exposures are the `personalisation` events the script sends when the block
is seen, each reader in the arm the journey core assigns to their visitor id
(whatever the event claims); the goals are a click on the block
(`personalisation-click`), a signup and a download after the first exposure.
Counting, the always-valid interval and the verdict are the A/B tests'
(`journey/experiments.py`, `journey/sequential.py`); the sentence is
`tracker.experiments`'. The events and decisions read are kept between
calls (`tracker.kept`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from . import clock
from . import experiments as reports
from .journey import experiments as core
from .journey import personalise
from .kept import Decisions, Observations

GOALS = ("click", "signup", "download")
# The decisions that reach each goal: the A/B tests' own, for the goals here.
DECISIONS = {goal: reports.DECISIONS[goal] for goal in ("signup", "download")}
KINDS = tuple(sorted({kind for kinds in DECISIONS.values() for kind in kinds}))
SEEN, CLICKED = "personalisation", "personalisation-click"
PLANNED = 10_000  # the intervals' tuning: tightest near this many exposures
DAYS = 90  # the period the dashboard shows
OBSERVED, DECIDED = Observations(), Decisions()  # per process: see tracker.kept


def test_of(share: float, goal: str) -> dict[str, Any]:
    return {
        **personalise.holdout_test(share),
        "goal": goal,
        "sample": PLANNED,
        "start": None,
        "end": None,
    }


def report(storage, manifest: dict, lang: str | None) -> dict[str, Any]:
    """Per goal: each arm's exposures, conversions, rate, the personal arm's
    difference from the holdout, the verdict and its reason."""
    share = float((manifest.get("journey") or {}).get("holdout", 0.1) or 0)
    if not 0 < share < 1:  # no holdout (or no one personalised): nothing to compare
        return {"share": share, "days": DAYS, "goals": [], "exposed": 0}
    since = (clock.now() - timedelta(days=DAYS)).isoformat()
    exposures, reached = [], defaultdict(list)
    for event in OBSERVED.read(storage, since, (), (SEEN, CLICKED)):
        visitor = event.get("visitor")
        if event.get("type") != "event" or not visitor:
            continue
        if event.get("name") == SEEN:
            arm = personalise.arm(visitor, share)
            exposures.append({"ts": event["ts"], "visitor": visitor, "variant": arm})
        elif event.get("name") == CLICKED:
            reached["click"].append((visitor, event["ts"]))
    if exposures:  # a goal counts for a visitor exposed, only
        readers = {e["visitor"] for e in exposures}
        for _, visitors, decision in DECIDED.read(storage, KINDS, since):
            ts = decision["ts"]
            for goal, kinds in DECISIONS.items():
                if decision.get("type") in kinds:
                    reached[goal] += [(v, ts) for v in visitors if v in readers]
    goals = []
    for goal in GOALS:
        test = test_of(share, goal)
        result = core.analyse(test, core.looks(test, exposures, reached[goal]))
        result["reason"] = reports.explain(result, lang)
        goals.append(result)
    return {"share": share, "days": DAYS, "goals": goals, "exposed": len(exposures)}
