"""`polku experiments report`: every A/B test, its variants and the verdict."""

from __future__ import annotations

import json

import click

from .. import i18n
from .common import CONTEXT_SETTINGS, _, open_storage_app, site_lang


@click.group(context_settings=CONTEXT_SETTINGS)
def experiments() -> None:
    """The A/B tests defined in content/experiments/."""


@experiments.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def report(as_json: bool) -> None:
    """Show each experiment's exposures, conversions, rates and intervals,
    the verdict and what it rests on, and any sample-ratio warning.

    The intervals stay valid however often you look.

    \b
    Example:
        polku experiments report
        polku experiments report --json
    """
    from .. import experiments as service
    from ..db import get_storage
    from ..web.site import manifest

    app = open_storage_app()
    with app.test_request_context():
        data = service.report(get_storage(), manifest(), site_lang())
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(render(data))


def row(name: str, exposures: str, conversions: str, rate: str) -> str:
    return f"  {name[:16]:<16} {exposures:>10} {conversions:>11} {rate:>8}"


def render(data: dict) -> str:
    """Lay the experiments out for a terminal, in the site's language."""
    from ..experiments import VERDICTS, points

    lang = site_lang()
    if not data["experiments"]:
        return _("No experiments: add one to content/experiments/ and build the site.")
    lines = []
    for test in data["experiments"]:
        goal = test["goal"]
        lines.append(_("%(name)s (goal: %(goal)s)", name=test["name"], goal=goal))
        if test.get("title"):
            lines.append(f"  {test['title']}")
        lines.append(row(_("variant"), _("exposures"), _("conversions"), _("rate")))
        for variant in test["variants"]:
            rate = "–"
            if variant["rate"] is not None:
                rate = i18n.format_percent(variant["rate"], lang, 1)
            exposed = i18n.format_number(variant["exposures"], lang)
            won = i18n.format_number(variant["conversions"], lang)
            line = row(variant["name"], exposed, won, rate)
            if variant is not test["variants"][0] and variant["interval"]:
                low, high = (points(x, lang) for x in variant["interval"])
                line += "  " + _("%(low)s to %(high)s points", low=low, high=high)
            lines.append(line)
        verdict = _(VERDICTS[test["verdict"]])
        lines.append("  " + _("Verdict: %(verdict)s.", verdict=verdict))
        lines.append("  " + test["reason"])
        if test["srm"]:
            p = f"{test['srm_p']:.2g}"
            lines.append("  " + _("Warning: sample ratio mismatch (p = %(p)s).", p=p))
        lines.append("")
    return "\n".join(lines).rstrip()


COMMANDS = [experiments]
