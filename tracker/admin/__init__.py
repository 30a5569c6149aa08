"""The owner's dashboard: the journey at a glance, contacts, and one person's timeline.

`auth` (login, session, CSRF, origin check), `views` (the pages), `exports`
(CSV and JSON downloads), `experiments` (the A/B tests), `sequences` (what
each automated series did), `deliverability`
(bounce and complaint rates per send), `journey_map` (first source, first
page, stage reached; time to convert), `quotes` (the quote requests open
until answered) register on one blueprint; `data`
reads what the pages show from the storage; `charts` and `sankey` draw SVG;
`formats` and `templating` speak the site's language.
"""

from __future__ import annotations

from . import (
    auth,
    deliverability,
    experiments,
    exports,
    journey_map,
    quotes,
    sequences,
    templating,
    views,
)
from .blueprint import bp

__all__ = ["bp", "init_app"]
# Imported for the routes they register on bp.
ROUTES = (
    auth,
    views,
    exports,
    experiments,
    sequences,
    deliverability,
    journey_map,
    quotes,
)


def init_app(app) -> None:
    """Wire the dashboard's session and templates into the app."""
    auth.init_app(app)
    templating.init_app(app)
