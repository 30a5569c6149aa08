"""`polku bounces fetch`: the bounce mailbox read over IMAP and applied."""

from __future__ import annotations

import click

from ..db import get_storage
from ..mail import bounce_mailbox
from .common import _, n_, open_storage_app


@click.group()
def bounces() -> None:
    """Bounces and spam complaints that come back by mail."""


@bounces.command("fetch")
def fetch() -> None:
    """Read the bounce mailbox (POLKU_BOUNCE_IMAP_*) and apply what it reports.

    Delivery failures (DSN and mail servers' own bounces) and spam complaints
    (ARF) suppress the address as the rules say; each is applied once, and its
    message is then marked read. Automatic replies and other mail stay unread.
    Run it from cron, e.g. every 15 minutes.
    """
    app = open_storage_app()
    try:
        account = bounce_mailbox.Account.from_config(app.config)
        with app.app_context():
            done = bounce_mailbox.fetch(
                account, get_storage(), app.config["SECRET_KEY"]
            )
    except bounce_mailbox.MailboxError as e:
        raise click.ClickException(
            _("Could not read the bounce mailbox: %(reason)s.", reason=e)
        ) from e
    click.echo(
        n_(
            "%(count)d message read. Reports applied: %(applied)d, already "
            "applied before: %(replayed)d, about no one Polku knows: %(unknown)d. "
            "Left alone (not a bounce or a complaint): %(left)d.",
            "%(count)d messages read. Reports applied: %(applied)d, already "
            "applied before: %(replayed)d, about no one Polku knows: %(unknown)d. "
            "Left alone (not a bounce or a complaint): %(left)d.",
            done.read,
            applied=done.applied,
            replayed=done.replayed,
            unknown=done.unknown,
            left=done.left,
        )
    )
    for block in done.blocked:
        click.echo(
            _(
                "Alert: the mail server blocked the sender by policy (no address "
                "was suppressed; check SPF, DKIM, DMARC and the sender's "
                "reputation): %(reason)s",
                reason=block,
            ),
            err=True,
        )


COMMANDS = [bounces]
