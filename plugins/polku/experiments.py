"""A/B tests the writers define in `content/experiments/<name>.md`.

The folder is kept out of the site's pages (Pelican would publish any
Markdown in its content paths); each file's metadata is checked by the journey
core's rules, its target against what the build has (landing pages, guides,
sequence steps), and the experiments go into the manifest for the tracker. A
malformed one fails the build with the file's name and the problem, as a bad
setting does; so do two running tests of one text at the same time.
"""

from __future__ import annotations

import logging
import os

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from pelican.readers import MarkdownReader

from tracker.journey import experiments as core

from . import settings as journey_settings
from .context import landing_pages

log = logging.getLogger(__name__)
_sandbox = SandboxedEnvironment(autoescape=False)

FOLDER = "experiments"
EXCLUDES = ("ARTICLE_EXCLUDES", "PAGE_EXCLUDES", "STATIC_EXCLUDES")


def keep_out_of_pages(pelican) -> None:
    """Exclude the experiments folder from articles, pages and static files."""
    for key in EXCLUDES:
        kept = list(pelican.settings.get(key) or [])
        if FOLDER not in kept:
            pelican.settings[key] = [*kept, FOLDER]


def read_folder(settings: dict) -> dict[str, dict]:
    """Every experiment in the content folder's experiments/, checked alone."""
    folder = os.path.join(settings["PATH"], FOLDER)
    if not os.path.isdir(folder):
        return {}
    reader = MarkdownReader(settings)
    found = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".md"):
            continue
        path = os.path.join(folder, name)
        _, meta = reader.read(path)
        try:
            found[name[:-3]] = core.define(name[:-3], meta)
        except core.ExperimentError as e:
            raise journey_settings.JourneySettingsError(
                f"{os.path.relpath(path, settings['PATH'])}: {e}"
            ) from None
    return found


def target_problem(experiment: dict, context: dict) -> str | None:
    """What the build lacks for the experiment's target, or None. A headline
    test learns its page's URL (`page`): the tracker answers it on that page."""
    kind, target = experiment["kind"], experiment["target"]
    if kind == "headline":
        landing = {p.slug: p.url for p in landing_pages(context, {})}
        if target not in landing:
            return f"Target: no landing page has the slug {target!r}"
        experiment["page"] = landing[target]
    if kind == "cta" and target.startswith("guide:"):
        if target[6:] not in context.get("journey_guides", {}):
            return f"Target: no download page offers the guide {target[6:]!r}"
    if kind == "step-subject":
        sequence, step = target.split("/")
        path = os.path.join(context["PATH"], "sequences", sequence, step + ".md")
        if not os.path.isfile(path):
            return f"Target: no step {step}.md in sequences/{sequence}/"
        for variant in experiment["variants"]:
            try:  # filled per reader at send time, as the step's own subject
                _sandbox.parse(variant["text"] or "")
            except TemplateSyntaxError as e:
                return (
                    f"Variants: {variant['name']!r}: the subject's template does "
                    f"not parse: {e.message} (write `{{{{ name }}}}`)"
                )
    return None


def _days(experiment: dict) -> tuple[str, str]:
    return experiment.get("start") or "", experiment.get("end") or "9999-12-31"


def overlap_problem(experiment: dict, earlier: dict[str, dict]) -> str | None:
    """A text or subject is tested by one running test at a time: a reader
    can be shown one variant of it, not one of each test's."""
    if experiment["status"] != "running":
        return None
    start, end = _days(experiment)
    for name, other in earlier.items():
        if (
            other["status"] == "running"
            and (other["kind"], other["target"])
            == (experiment["kind"], experiment["target"])
            and start <= _days(other)[1]
            and _days(other)[0] <= end
        ):
            what = " ".join(filter(None, (experiment["kind"], experiment["target"])))
            return (
                f"{name} also tests {what} at the same time: end one "
                "(Status: ended) or give them Start and End days that do not overlap"
            )
    return None


def publish_experiments(generators) -> None:
    """Check every experiment against the build and keep them for the manifest."""
    context = generators[0].context
    found = read_folder(generators[0].settings)
    checked: dict[str, dict] = {}
    for name, experiment in found.items():
        problem = target_problem(experiment, context) or overlap_problem(
            experiment, checked
        )
        checked[name] = experiment
        if problem:
            raise journey_settings.JourneySettingsError(
                f"{FOLDER}/{name}.md: {problem}"
            )
    context["journey_experiments"] = found
    if found:
        log.info("journey: %d experiments: %s", len(found), ", ".join(found))
