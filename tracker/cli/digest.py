"""`polku digest`: the command's three modes over newsletter.send_digest."""

from __future__ import annotations

import os
import sys

import click
from pelican.plugins.polku import digest as content

from .. import clock, mail
from ..audiences import interests_by_contact
from ..db import get_storage
from ..mail import digest as newsletter
from ..mail import lease, retry
from ..web import site as sitemeta
from .common import _, n_, open_storage_app, site_settings


def digest_settings(site: dict) -> content.DigestSettings:
    try:
        return content.DigestSettings.from_mapping(
            site.get("JOURNEY_DIGEST"), lang=str(site.get("DEFAULT_LANG", "en"))
        )
    except content.DigestError as e:
        raise click.ClickException(str(e)) from e


def writer(folder: str, config: dict):
    """Deliver into files: one .eml per recipient, the first as index.html too.

    What no server would take (an encoded word for an address, a bad sender)
    is refused here as a send would refuse it; a Unicode local part is
    written (whether it can go out depends on the server).
    """
    os.makedirs(folder, exist_ok=True)
    count = 0

    def deliver(msg) -> None:
        nonlocal count
        mail.check(msg, config)
        count += 1
        with open(os.path.join(folder, f"{count:05d}.eml"), "wb") as f:
            f.write(mail.as_bytes(msg))
        if count == 1:
            html = mail.html_part(msg)
            with open(os.path.join(folder, "index.html"), "w", encoding="utf-8") as f:
                f.write(html)

    return deliver


def run_digest(app, site: dict, *, dry_run, send: bool, to, rate: float) -> None:
    settings = digest_settings(site)
    env = content.make_env(site["THEME"])
    with app.test_request_context():
        storage = get_storage()
        only = None
        if to:
            known = storage.find_contact(to)
            now = clock.now().isoformat()
            only = [known or {"id": "test-copy", "email": to, "created": now}]
        people = only if only is not None else newsletter.recipients(storage)
        interests = interests_by_contact(storage, sitemeta.manifest(), people)
        mailer = mail.Mailer(app.config)
        deliver = writer(dry_run, app.config) if dry_run else mailer.send
        try:
            with click.progressbar(
                length=len(people), label=_("Digest"), file=sys.stderr
            ) as bar:
                outcome = newsletter.send_digest(
                    storage,
                    settings=settings,
                    env=env,
                    interests=lambda c: interests.get(c["id"], {}),
                    deliver=deliver,
                    mode="send" if send else "preview",
                    rate=rate if not dry_run else 0,
                    progress=bar.update,
                    only=only,
                )
        except lease.Busy as e:
            raise click.ClickException(_("Not sending: %(reason)s.", reason=e)) from e
        finally:
            mailer.close()
        retried = retry.flush(storage, app.config) if send else None
    if retried is not None:
        report_retries(retried)
    report(outcome, dry_run=dry_run, send=send, test_copy=bool(to))


def report_retries(summary: retry.Summary) -> None:
    """Say what a pass over the retry queue did (nothing when it did nothing)."""
    if summary.sent:
        click.echo(
            n_(
                "%(count)d delayed message sent from the retry queue.",
                "%(count)d delayed messages sent from the retry queue.",
                summary.sent,
            )
        )
    for line in summary.bounced:
        click.echo(_("Bounced, suppressed: %(reason)s", reason=line), err=True)
    for line in summary.soft:
        click.echo(_("Gave up after the last try: %(reason)s", reason=line), err=True)
    for line in summary.blocked:
        click.echo(policy_alert(line), err=True)
    for line in summary.refused + summary.failed:
        click.echo(_("Not sent: %(reason)s", reason=line), err=True)
    if summary.failed:
        click.echo(
            _("The mail server did not answer; the queue waits for the next run."),
            err=True,
        )


def policy_alert(reason: str) -> str:
    return _(
        "Alert: the mail server blocked the sender by policy (no address "
        "was suppressed; check SPF, DKIM, DMARC and the sender's "
        "reputation): %(reason)s",
        reason=reason,
    )


def report(
    outcome: newsletter.Outcome, *, dry_run, send: bool, test_copy: bool = False
) -> None:
    """Say what went out; exit 1 when a send or a test copy left someone out."""
    if outcome.digest_id is None:
        click.echo(_("Nothing new since the last digest: nothing sent."))
        return
    posts = n_("%(count)d post", "%(count)d posts", outcome.posts)
    values = {"sent": outcome.sent, "folder": dry_run}
    if dry_run:
        done = n_(
            "%(sent)d of %(count)d message written to %(folder)s",
            "%(sent)d of %(count)d messages written to %(folder)s",
            outcome.recipients,
            **values,
        )
    else:
        done = n_(
            "%(sent)d of %(count)d message sent",
            "%(sent)d of %(count)d messages sent",
            outcome.recipients,
            **values,
        )
    if outcome.skipped:
        done += _(", %(count)d already had it", count=outcome.skipped)
    click.echo(f"{outcome.digest_id}: {posts}; {done}.")
    for failure in outcome.failed:
        click.echo(_("Not sent: %(reason)s", reason=failure), err=True)
    for refusal in outcome.refused:
        click.echo(_("Refused: %(reason)s", reason=refusal), err=True)
    for block in outcome.blocked:
        click.echo(policy_alert(block), err=True)
    for line in outcome.queued:
        click.echo(
            _(
                "Delayed by the mail server, tried again in 15 minutes, 1 hour "
                "and 4 hours by `polku digest --send` or `polku sequences run "
                "--send`: %(reason)s",
                reason=line,
            ),
            err=True,
        )
    for address in outcome.suppressed:
        click.echo(
            _("Suppressed: no more mail goes to %(address)s", address=address),
            err=True,
        )
    for address in outcome.refused_before:
        click.echo(
            _(
                "Refused by an earlier pass, not tried again: %(address)s",
                address=address,
            ),
            err=True,
        )
    if send and outcome.failed:
        raise click.ClickException(
            n_(
                "%(count)d message failed; run `polku digest --send` again to retry "
                "it (nobody gets a second copy).",
                "%(count)d messages failed; run `polku digest --send` again to retry "
                "them (nobody gets a second copy).",
                len(outcome.failed),
            )
        )
    if send and outcome.finished:
        refused = outcome.refused or outcome.refused_before or outcome.queued
        click.echo(
            _("Everyone else has this digest; the next one starts from here.")
            if refused
            else _("Every subscriber has this digest; the next one starts from here.")
        )
    if (send or test_copy) and outcome.refused:
        raise click.ClickException(
            n_(
                "%(count)d address was refused for good (see above); it does not get "
                "this digest, and no rerun tries it again.",
                "%(count)d addresses were refused for good (see above); they do not "
                "get this digest, and no rerun tries them again.",
                len(outcome.refused),
            )
            if send
            else _("The test copy was refused (see above).")
        )
    if test_copy and outcome.failed:
        raise click.ClickException(_("The test copy could not be sent (see above)."))


def test_address(ctx, param, value: str | None) -> str | None:
    """The --to address as stored, or one sentence saying it is none."""
    from ..journey.people import Refused, normalise_email

    if value is None:
        return None
    try:
        return normalise_email(value)
    except Refused:
        raise click.ClickException(
            _("%(address)s is not a valid email address.", address=value)
        ) from None


@click.command()
@click.option(
    "--dry-run",
    "dry_run",
    type=click.Path(file_okay=False),
    help="Write one .eml per recipient (and index.html, a preview) into DIR.",
)
@click.option("--send", is_flag=True, help="Send to every confirmed subscriber.")
@click.option(
    "--to",
    "to",
    metavar="EMAIL",
    callback=test_address,
    help="Send one test copy; changes nothing.",
)
@click.option(
    "--rate", default=10.0, show_default=True, help="Messages per second at most."
)
def digest(dry_run: str | None, send: bool, to: str | None, rate: float) -> None:
    """Send the newsletter digest of posts published since the last one.

    A run that is stopped half way resumes when started again, and nobody
    gets a second copy.

    \b
    Example:
        polku digest --dry-run /tmp/digest
        polku digest --to me@example.com
        polku digest --send
    """
    if sum(bool(x) for x in (dry_run, send, to)) != 1:
        raise click.UsageError(_("Choose one of --dry-run DIR, --send or --to EMAIL."))
    run_digest(
        open_storage_app(),
        site_settings(),
        dry_run=dry_run,
        send=send,
        to=to,
        rate=rate,
    )


COMMANDS = [digest]
