"""What a sequence is: the writer's Markdown metadata, read and checked.

A sequence is `content/sequences/<name>/`: `index.md` (Title, Trigger, Exit,
Lang, Reentry, Since) and one file per email, sent in file-name order
(Subject, Delay, Only-if). The build reads the files and calls `definition`,
which either returns the plain record the manifest carries to the tracker or
raises SequenceError naming the file and the problem: a malformed sequence
fails the build, as a bad setting does, instead of failing at 3 a.m. in cron.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from .identifiers import SettingsError
from .sendtime import DelayError, parse_delay
from .stages import STAGES

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
TRIGGERS = ("signup", "download", "stage", "tag")
EXITS = ("stage", "conversion")
CONDITIONS = ("interest", "stage")
YES = {"yes", "true", "on", "1", "kyllä"}
NO = {"no", "false", "off", "0", "ei", ""}


class SequenceError(SettingsError):
    """A sequence file Polku cannot use; the message names the file."""


@dataclass(frozen=True)
class StepSource:
    """One email's file as the build read it."""

    filename: str
    meta: Mapping[str, object]
    html: str
    text: str


def _rule(value: object, kinds: Iterable[str], what: str, where: str) -> dict:
    """Read `kind` or `kind:value` (stage:customer, download:guide-slug)."""
    raw = " ".join(str(value or "").split())
    kind, _, arg = raw.partition(":")
    kind, arg = kind.strip().casefold(), arg.strip()
    kinds = tuple(kinds)
    if kind not in kinds:
        raise SequenceError(
            f"{where}: unknown {what} {raw!r}; use one of "
            + ", ".join(f"`{k}`" for k in kinds)
        )
    if kind == "stage" and arg not in STAGES:
        raise SequenceError(
            f"{where}: unknown stage {arg!r} in {what} {raw!r}; stages are "
            + ", ".join(STAGES)
        )
    if kind in ("tag", "interest") and not arg:
        raise SequenceError(f"{where}: {what} {raw!r} needs a tag: `{kind}:<tag>`")
    if kind in ("signup", "conversion") and arg:
        raise SequenceError(f"{where}: {what} {raw!r} takes no value after `:`")
    return {"kind": kind, "value": arg.casefold() if kind != "download" else arg}


def _flag(value: object, where: str) -> bool:
    raw = str(value if value is not None else "").strip().casefold()
    if raw in YES | NO:
        return raw in YES
    raise SequenceError(f"{where}: Reentry must be `yes` or `no`, not {value!r}")


def _since(value: object, where: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise SequenceError(
            f"{where}: Since must be a date (YYYY-MM-DD), not {value!r}"
        ) from None


def _step(name: str, source: StepSource, guides: set[str] | None) -> dict:
    where = f"sequences/{name}/{source.filename}"
    subject = " ".join(str(source.meta.get("subject") or "").split())
    if not subject:
        raise SequenceError(f"{where}: missing Subject (the email's subject line)")
    if "delay" not in source.meta:
        raise SequenceError(f"{where}: missing Delay (`0`, `2 hours`, `3 days`...)")
    try:
        delay = parse_delay(source.meta.get("delay"))
    except DelayError as e:
        raise SequenceError(f"{where}: {e}") from None
    only_if = source.meta.get("only-if") or source.meta.get("only_if")
    step_id = source.filename.rsplit(".", 1)[0]
    if not NAME.match(step_id):
        raise SequenceError(
            f"{where}: name the file with lowercase letters, digits and hyphens, "
            "such as `01-welcome.md`"
        )
    if not source.html.strip():
        raise SequenceError(f"{where}: the email has no text")
    return {
        "id": step_id,
        "subject": subject,
        "delay": delay.as_dict(),
        "only_if": _rule(only_if, CONDITIONS, "Only-if", where) if only_if else None,
        "html": source.html,
        "text": source.text,
    }


def definition(
    name: str,
    meta: Mapping[str, object],
    steps: list[StepSource],
    guides: set[str] | None = None,
    langs: set[str] | None = None,
) -> dict:
    """Return the sequence as the manifest carries it, or raise SequenceError.

    guides: the site's guide slugs (a `download:<slug>` trigger must name one);
    langs: the languages the site has catalogues for (Lang must be one).
    """
    where = f"sequences/{name}/index.md"
    if not NAME.match(name):
        raise SequenceError(
            f"sequences/{name}: name the folder with lowercase letters, digits "
            "and hyphens"
        )
    if "trigger" not in meta:
        raise SequenceError(
            f"{where}: missing Trigger (signup, download, download:<guide>, "
            "stage:<stage> or tag:<tag>)"
        )
    trigger = _rule(meta.get("trigger"), TRIGGERS, "Trigger", where)
    if trigger["kind"] == "download" and trigger["value"] and guides is not None:
        if trigger["value"] not in guides:
            raise SequenceError(
                f"{where}: Trigger names the guide {trigger['value']!r}, which the "
                "site does not have; guides: " + (", ".join(sorted(guides)) or "none")
            )
    exit_ = meta.get("exit")
    lang = str(meta.get("lang") or "").strip() or None
    if lang and langs is not None and lang not in langs:
        raise SequenceError(
            f"{where}: Lang {lang!r} is not a language Polku writes mail in "
            f"({', '.join(sorted(langs))})"
        )
    if not steps:
        raise SequenceError(f"sequences/{name}: no emails (add `01-first.md`)")
    ordered = sorted(steps, key=lambda s: s.filename)
    return {
        "name": name,
        "title": " ".join(str(meta.get("title") or name).split()),
        "trigger": trigger,
        "exit": _rule(exit_, EXITS, "Exit", where) if exit_ else None,
        "lang": lang,
        "reentry": _flag(meta.get("reentry", "no"), where),
        "since": _since(meta.get("since"), where),
        "steps": [_step(name, s, guides) for s in ordered],
    }


def describe_rule(rule: Mapping | None) -> str:
    """`kind:value` again, for lists and the dashboard."""
    if not rule:
        return "—"
    return rule["kind"] + (f":{rule['value']}" if rule.get("value") else "")
