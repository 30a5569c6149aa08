"""`polku spend`: ad spend from the platforms' CSV exports, joined to the campaigns."""

from __future__ import annotations

import os

import click

from .common import _, n_, open_storage_app, site_lang

PLATFORMS = {"meta": "Meta Ads", "google": "Google Ads"}


@click.group()
def spend() -> None:
    """Ad spend from Meta Ads Manager and Google Ads, for cost per lead and ROAS."""


def amounts(sums: dict) -> str:
    return ", ".join(f"{value} {currency}" for currency, value in sorted(sums.items()))


@spend.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def spend_import(file: str) -> None:
    """Import ad spend from a Meta Ads Manager or Google Ads CSV export.

    Meta: Ads Manager, Campaigns, Breakdown by Day, with the Campaign ID
    column, exported as CSV. Google Ads: a campaign report with the Day and
    Campaign ID columns, downloaded as CSV. The file is recognised by its
    columns (English, Finnish or Swedish). Importing replaces what the
    platform spent on the days the file covers, so a period imported again
    counts once. A file that cannot be read imports nothing.

    \b
    Example:
        polku spend import meta-november.csv
    """
    from ..db import get_storage
    from ..imports.spend import SpendError, read_export, save
    from ..journey import money

    app = open_storage_app()
    currency = app.config["CURRENCY"]
    try:
        export = read_export(file, site_lang(), currency)
    except SpendError as e:
        raise click.ClickException(str(e)) from e
    with app.app_context():
        save(get_storage(), export, os.path.basename(file))
    click.echo(
        n_(
            "Imported %(count)d row of %(platform)s spend from %(first)s to "
            "%(last)s: %(amounts)s; what was stored for those days was replaced.",
            "Imported %(count)d rows of %(platform)s spend from %(first)s to "
            "%(last)s: %(amounts)s; what was stored for those days was replaced.",
            len(export.rows),
            platform=PLATFORMS[export.platform],
            first=export.first,
            last=export.last,
            amounts=amounts(money.totals(export.rows)),
        )
    )
    if not export.currency_named:
        click.echo(
            _(
                "The file names no currency: its amounts were taken as "
                "%(currency)s (POLKU_CURRENCY).",
                currency=currency,
            )
        )


@spend.command("map")
@click.argument("utm_campaign")
@click.argument("campaign_id")
def spend_map(utm_campaign: str, campaign_id: str) -> None:
    """Credit a platform campaign's spend to a UTM campaign.

    For ads tagged before their links carried the campaign's id: the spend
    of CAMPAIGN_ID (or of the platform campaign with that name) goes to the
    visits that arrive with utm_campaign=UTM_CAMPAIGN.

    \b
    Example:
        polku spend map autumn-offer 120210000000000001
    """
    from ..db import get_storage
    from ..imports.spend import set_mapping

    with open_storage_app().app_context():
        set_mapping(get_storage(), utm_campaign.strip(), campaign_id.strip())
    click.echo(
        _(
            "Spend of %(campaign_id)s now counts for the campaign %(utm)s.",
            campaign_id=campaign_id.strip(),
            utm=utm_campaign.strip(),
        )
    )


@spend.command("unmap")
@click.argument("utm_campaign")
def spend_unmap(utm_campaign: str) -> None:
    """Remove the mapping of a UTM campaign (see `polku spend map`).

    \b
    Example:
        polku spend unmap autumn-offer
    """
    from ..db import get_storage
    from ..imports.spend import set_mapping

    with open_storage_app().app_context():
        set_mapping(get_storage(), utm_campaign.strip(), None)
    click.echo(_("No mapping for %(utm)s now.", utm=utm_campaign.strip()))


@spend.command("list")
def spend_list() -> None:
    """Show the imported spend per platform and campaign, and the mappings.

    \b
    Example:
        polku spend list
    """
    from ..db import get_storage
    from ..imports.spend import load
    from ..journey import money

    with open_storage_app().app_context():
        doc = load(get_storage())
    rows = money.spend_rows(doc, None, None)
    if not rows:
        click.echo(_("No ad spend imported yet."))
    campaigns: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["platform"], row["campaign_id"], row["campaign"])
        campaigns.setdefault(key, []).append(row)
    for (platform, campaign_id, name), found in sorted(campaigns.items()):
        days = sorted(r["day"] for r in found)
        click.echo(
            f"{PLATFORMS.get(platform, platform):<11} {campaign_id or '-':<20} "
            f"{name[:32]:<32} {days[0]}..{days[-1]}  {amounts(money.totals(found))}"
        )
    for utm, campaign_id in doc.get("map", {}).items():
        click.echo(
            _("Mapped: %(utm)s <- %(campaign_id)s", utm=utm, campaign_id=campaign_id)
        )


COMMANDS = [spend]
