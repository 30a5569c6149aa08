"""A/B tests: what a writer defines, who sees which variant, and what came of it.

Pure: a definition's metadata (as the Markdown reader gives it) in, a checked
experiment out; exposures and goal conversions in, each variant's counts, its
always-valid interval against the control (`sequential`) and a verdict out.

A reader's variant is a hash of the experiment's name and their id, so it is
the same on every page and every process without storing anything, and
independent between experiments. A reader counts once, in the variant of
their first exposure; they convert when a goal follows that exposure.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .digest import SUBJECT_FIELDS
from .identifiers import SettingsError

KINDS = ("cta", "headline", "digest-subject", "step-subject")
GOALS = ("signup", "download", "purchase")
CLICK = "click"  # a click in the email that carried the variant: email tests only
EMAIL_KINDS = ("digest-subject", "step-subject")
STATUSES = ("running", "draft", "ended")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
EVENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _:.-]{0,63}$")  # as beacons
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STEP = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}/[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
MIN_SAMPLE, MAX_SAMPLE = 100, 10**9

KEEP_RUNNING, WINNER, NO_DIFFERENCE = "keep running", "winner", "no difference"


class ExperimentError(SettingsError):
    """A definition Polku cannot run; the message names the field."""


# -- the definition ------------------------------------------------------------------


def _text(meta: Mapping, key: str) -> str:
    value = meta.get(key)
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return " ".join(str(value or "").split())


def _variants(raw: Any) -> list[dict]:
    """One `name: text` per line, indented under `Variants:`; the control first."""
    lines = [str(v) for v in raw] if isinstance(raw, list) else [str(raw or "")]
    if len(lines) < 2:
        raise ExperimentError(
            "Variants: needs the control and at least one more, one 'name: text' "
            "per line (the lines after the first indented by four spaces)"
        )
    variants = []
    for line in lines:
        name, _, text = line.partition(":")
        name, text = name.strip().lower(), " ".join(text.split())
        if not NAME.match(name):
            raise ExperimentError(
                f"Variants: {name!r} is not a name (a-z, 0-9, -; up to 64)"
            )
        if name in (v["name"] for v in variants):
            raise ExperimentError(f"Variants: {name!r} is given twice")
        variants.append({"name": name, "text": text or None})
    for variant in variants[1:]:
        if not variant["text"]:
            raise ExperimentError(
                f"Variants: {variant['name']!r} needs its text ('name: text'); "
                "only the control, listed first, may keep the current one"
            )
    return variants


def _weights(raw: str, count: int) -> list[float]:
    if not raw:
        return [1 / count] * count
    try:
        weights = [float(w) for w in raw.replace("%", "").split(",")]
    except ValueError:
        raise ExperimentError(f"Weights: {raw!r} is not a list of numbers") from None
    if len(weights) != count:
        raise ExperimentError(f"Weights: {len(weights)} weights for {count} variants")
    if not all(0 < w < float("inf") for w in weights):
        raise ExperimentError(f"Weights: {raw!r}: every weight must be above 0")
    return [w / sum(weights) for w in weights]


def _target(kind: str, target: str) -> str | None:
    if kind == "digest-subject":
        return None
    if not target:
        raise ExperimentError(f"Target: a {kind} experiment needs one")
    if kind == "cta" and not (
        target == "newsletter"
        or (target.startswith("guide:") and NAME.match(target[6:]))
    ):
        raise ExperimentError(
            f"Target: {target!r}: a cta is 'newsletter' or 'guide:<slug>'"
        )
    if kind == "headline" and not NAME.match(target):
        raise ExperimentError(f"Target: {target!r} is not a landing page's slug")
    if kind == "step-subject" and not STEP.match(target):
        raise ExperimentError(f"Target: {target!r}: a step is '<sequence>/<step file>'")
    return target


def _goal(goal: str, kind: str) -> str:
    """A goal's kind is any case; a named event's name is as the site sends it."""
    name, colon, event = goal.partition(":")
    if not colon and name.lower() == CLICK:
        if kind not in EMAIL_KINDS:
            raise ExperimentError(
                "Goal: click counts clicks in the tested email: for "
                f"{' and '.join(EMAIL_KINDS)} only"
            )
        return CLICK
    if not colon and name.lower() in GOALS:
        return name.lower()
    if colon and name.lower() == "event" and EVENT_NAME.match(event.strip()):
        return f"event:{event.strip()}"
    raise ExperimentError(
        f"Goal: {goal!r}: expected one of {', '.join(GOALS)}, event:<name> "
        f"or, for an email, {CLICK}"
    )


def _subjects(kind: str, variants: list[dict]) -> None:
    """A digest's subject variant may use the digest subject's fields only."""
    if kind != "digest-subject":
        return
    for variant in variants:
        try:
            (variant["text"] or "").format_map(dict.fromkeys(SUBJECT_FIELDS, ""))
        except (KeyError, IndexError, ValueError, AttributeError) as e:
            raise ExperimentError(
                f"Variants: {variant['name']!r}: {variant['text']!r} cannot be "
                f"formatted ({e}); it may use "
                f"{', '.join('{' + f + '}' for f in SUBJECT_FIELDS)}"
            ) from None


def _sample(raw: str) -> int:
    try:
        sample = int(raw.replace(" ", "").replace("_", ""))
    except ValueError:
        raise ExperimentError(
            f"Sample: {raw!r}: the planned total of exposures, a whole number"
        ) from None
    if not MIN_SAMPLE <= sample <= MAX_SAMPLE:
        raise ExperimentError(f"Sample: {sample} is not from {MIN_SAMPLE} upwards")
    return sample


def define(name: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    """Check a definition (lower-case metadata keys) and return the experiment."""
    if not NAME.match(name):
        raise ExperimentError(
            f"the file name {name!r} is not an experiment name (a-z, 0-9, -)"
        )
    title = _text(meta, "title")
    if not title:
        raise ExperimentError("Title: missing")
    kind = _text(meta, "kind").lower()
    if kind not in KINDS:
        raise ExperimentError(f"Kind: {kind!r}: expected one of {', '.join(KINDS)}")
    variants = _variants(meta.get("variants"))
    _subjects(kind, variants)
    weights = _weights(_text(meta, "weights"), len(variants))
    for variant, weight in zip(variants, weights, strict=True):
        variant["weight"] = weight
    status = _text(meta, "status").lower() or "running"
    if status not in STATUSES:
        raise ExperimentError(
            f"Status: {status!r}: expected one of {', '.join(STATUSES)}"
        )
    days = {}
    for key in ("start", "end"):
        days[key] = _text(meta, key) or None
        if days[key] and not DAY.match(days[key]):
            raise ExperimentError(f"{key.title()}: {days[key]!r} is not YYYY-MM-DD")
    if days["start"] and days["end"] and days["end"] < days["start"]:
        raise ExperimentError("End: comes before Start")
    return {
        "name": name,
        "title": title,
        "kind": kind,
        "target": _target(kind, _text(meta, "target")),
        "goal": _goal(_text(meta, "goal"), kind),
        "sample": _sample(_text(meta, "sample")),
        "status": status,
        **days,
        "variants": variants,
    }


# -- who sees what -------------------------------------------------------------------


def assign(experiment: Mapping, reader: str) -> str:
    """The variant this reader sees: the same every time, split by the weights."""
    digest = hashlib.sha256(f"{experiment['name']}\0{reader}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    total = 0.0
    for variant in experiment["variants"]:
        total += variant["weight"]
        if point < total:
            return variant["name"]
    return experiment["variants"][-1]["name"]


# -- what came of it -----------------------------------------------------------------


def looks(
    experiment: Mapping,
    exposures: Iterable[Mapping],
    conversions: Iterable[tuple[str, str]],
) -> list[dict[str, Any]]:
    """Cumulative exposures and conversions per variant at the end of each day.

    exposures: stored exposure events (visitor, variant, ts); conversions:
    (visitor, ts) of the goal. Exposures outside Start..End do not count.
    """
    names = [v["name"] for v in experiment["variants"]]
    start, end = experiment.get("start"), experiment.get("end")
    first: dict[str, tuple[str, str]] = {}  # visitor -> (ts, variant)
    for event in exposures:
        ts, visitor, variant = (
            event.get("ts"),
            event.get("visitor"),
            event.get("variant"),
        )
        if not (ts and visitor and variant in names):
            continue
        if (start and ts[:10] < start) or (end and ts[:10] > end):
            continue
        if visitor not in first or ts < first[visitor][0]:
            first[visitor] = (ts, variant)
    converted: dict[str, str] = {}  # visitor -> first goal after their exposure
    for visitor, ts in conversions:
        seen = first.get(visitor)
        if (
            seen
            and ts >= seen[0]
            and (visitor not in converted or ts < converted[visitor])
        ):
            converted[visitor] = ts
    daily: dict[str, list[dict[str, int]]] = {}
    for visitor, (ts, variant) in first.items():
        exposed, _ = daily.setdefault(ts[:10], [{}, {}])
        exposed[variant] = exposed.get(variant, 0) + 1
        if visitor in converted:
            _, won = daily.setdefault(converted[visitor][:10], [{}, {}])
            won[variant] = won.get(variant, 0) + 1
    result, exposed, won = [], dict.fromkeys(names, 0), dict.fromkeys(names, 0)
    for day in sorted(daily):
        for name in names:
            exposed[name] += daily[day][0].get(name, 0)
            won[name] += daily[day][1].get(name, 0)
        result.append(
            {"day": day, "exposures": dict(exposed), "conversions": dict(won)}
        )
    return result


def _series(daily: list[dict[str, Any]], name: str) -> tuple[list[int], list[int]]:
    """A variant's cumulative conversions and exposures, day by day."""
    return (
        [d["conversions"][name] for d in daily],
        [d["exposures"][name] for d in daily],
    )


def analyse(experiment: Mapping, daily: list[dict[str, Any]]) -> dict[str, Any]:
    """Each variant's counts and interval against the control, and the verdict.

    The control is the first variant. With several variants, each comparison
    takes alpha / (variants - 1), so the chance of any false winner stays at
    alpha (Bonferroni).
    """
    # Imported here: numpy costs every tracker worker 15 MB and 60 ms at
    # start-up, and only the experiments' report needs it.
    from . import sequential

    names = [v["name"] for v in experiment["variants"]]
    control, others = names[0], names[1:]
    alpha = sequential.ALPHA / len(others)
    last = daily[-1] if daily else {"exposures": {}, "conversions": {}}
    counts = [last["exposures"].get(n, 0) for n in names]
    weights = [v["weight"] for v in experiment["variants"]]
    variants = []
    for name, exposed in zip(names, counts, strict=True):
        won = last["conversions"].get(name, 0)
        row = {"name": name, "exposures": exposed, "conversions": won}
        row["rate"] = won / exposed if exposed else None
        row["interval"] = [0.0, 0.0] if name == control else None
        if name != control and daily:
            low, high = sequential.difference(
                *_series(daily, control),
                *_series(daily, name),
                planned=experiment["sample"],
                alpha=alpha,
            )
            found = sequential.running_intersection(low, high)
            row["interval"] = list(found) if found else None
        variants.append(row)
    result = {
        "name": experiment["name"],
        "goal": experiment["goal"],
        "srm_p": sequential.sample_ratio_p(counts, weights),
        "srm": sequential.ratio_mismatch(counts, weights),
        "variants": variants,
    }
    return {**result, **verdict(experiment, result)}


def verdict(experiment: Mapping, result: Mapping) -> dict[str, Any]:
    """keep running / a winner / no difference, and what it rests on.

    Returns the verdict, the winner (or None), and the reason: a key and the
    figures a sentence about it needs (the words are the caller's to translate).
    """
    from . import sequential  # see analyse()

    control, *others = result["variants"]
    seen = sum(v["exposures"] for v in result["variants"])
    planned = experiment["sample"]
    figures = {"seen": seen, "planned": planned, "control": control["name"]}

    def say(kind: str, reason: str, winner: str | None = None, **more: Any) -> dict:
        return {
            "verdict": kind,
            "winner": winner,
            "reason": {"key": reason, **figures, **more},
        }

    if result["srm"]:
        return say(KEEP_RUNNING, "mismatch", p=result["srm_p"])
    intervals = [v["interval"] for v in others]
    if min(v["exposures"] for v in result["variants"]) < sequential.SRM_MIN or (
        None in intervals
    ):
        return say(KEEP_RUNNING, "too few")
    better = [v for v in others if v["interval"][0] > 0]
    if better:
        best = max(better, key=lambda v: v["rate"])
        low, high = best["interval"]
        return say(WINNER, "better", best["name"], low=low, high=high)
    low = min(low for low, _ in intervals)
    high = max(high for _, high in intervals)
    if high < 0:
        return say(WINNER, "control better", control["name"], low=low, high=high)
    if seen >= planned:
        return say(NO_DIFFERENCE, "no difference", low=low, high=high)
    return say(KEEP_RUNNING, "not yet", low=low, high=high)
