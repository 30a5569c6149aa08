"""The dashboard's A/B tests: every experiment's variants, intervals and verdict.

The numbers are `tracker.experiments.report`'s, the same as
`polku experiments report`; this page only lays them out.
"""

from __future__ import annotations

from flask import render_template

from .. import experiments as service
from .. import personalisation
from ..db import get_storage
from ..web.site import manifest, site_lang
from .blueprint import bp


@bp.get("/experiments")
def experiments():
    lang = site_lang()
    data = service.report(get_storage(), manifest(), lang)
    for test in data["experiments"]:
        for variant in test["variants"][1:]:
            found = variant["interval"]
            variant["points"] = found and [service.points(x, lang) for x in found]
    lift = personalisation.report(get_storage(), manifest(), lang)
    for goal in lift["goals"]:
        found = goal["variants"][1]["interval"]
        goal["points"] = found and [service.points(x, lang) for x in found]
    return render_template(
        "admin/experiments.html",
        experiments=data["experiments"],
        verdicts=service.VERDICTS,
        lift=lift,
    )
