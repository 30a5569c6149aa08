"""`polku sequences`: list them, run one scheduler pass, preview one."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from .. import clock, mail
from ..db import get_storage
from ..journey import enrolment
from ..journey import profiles as reading
from ..journey.enrolment import Claim
from ..journey.sendtime import Delay
from ..journey.sequences import describe_rule
from ..mail import sequence_email
from ..mail import sequences as scheduler
from ..web import site as sitemeta
from .common import _, n_, open_storage_app
from .digest import policy_alert, report_retries, writer


def _reading(storage, contacts: list[dict]):
    """(interests, posts read) per contact, from one pass over the observations."""
    emailable = [c for c in contacts if enrolment.may_email(c)]
    found = reading.profiles(storage.iter_events(), emailable, sitemeta.manifest())
    interests = {cid: {**p.categories, **p.tags} for cid, p in found.items()}
    posts = {
        cid: frozenset(str(u).strip("/") for u in p.posts) for cid, p in found.items()
    }
    return interests, posts


def _moment(value: str | None) -> datetime:
    if not value:
        return clock.now()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            _("%(value)s is not an ISO 8601 time (2026-03-29T06:00:00Z)", value=value),
            param_hint="--now",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _delay(delay: dict) -> str:
    d = Delay.of(delay)
    parts = []
    if d.days:
        parts.append(n_("%(count)d day", "%(count)d days", d.days))
    if d.minutes:
        hours, minutes = divmod(d.minutes, 60)
        if hours:
            parts.append(n_("%(count)d hour", "%(count)d hours", hours))
        if minutes:
            parts.append(n_("%(count)d minute", "%(count)d minutes", minutes))
    return " ".join(parts) or "0"


def _sequences_or_stop() -> list[dict]:
    found = scheduler.definitions()
    if not found:
        raise click.ClickException(
            _(
                "No sequences in the build's manifest: add content/sequences/<name>/ "
                "and run polku build."
            )
        )
    return found


@click.group()
def sequences() -> None:
    """Automated email sequences from content/sequences/."""


@sequences.command("list")
def list_() -> None:
    """Every sequence: trigger, steps and delays, and who is where in it."""
    app = open_storage_app()
    with app.test_request_context():
        _sequences_or_stop()
        rows = scheduler.summary(get_storage(), clock.now())
    for seq in rows:
        counts = seq["counts"]
        click.echo(f"{seq['name']}: {seq['title']}")
        click.echo(
            "  "
            + _(
                "trigger %(trigger)s, exit %(exit)s",
                trigger=describe_rule(seq["trigger"]),
                exit=describe_rule(seq["exit"]),
            )
        )
        for step in seq["steps"]:
            click.echo(f"  {step['id']}  +{_delay(step['delay'])}  {step['subject']}")
        click.echo(
            "  "
            + _(
                "in it %(active)d, due now %(due)d, finished %(finished)d, "
                "exited %(exited)d, left %(left)d",
                **counts,
            )
        )


@sequences.command()
@click.option("--send", is_flag=True, help="Send every due step and record it.")
@click.option(
    "--dry-run",
    "dry_run",
    type=click.Path(file_okay=False),
    help="Write the due emails as .eml files into DIR; record nothing.",
)
@click.option("--now", "now", metavar="ISO-8601", help="Run as if it were then.")
def run(send: bool, dry_run: str | None, now: str | None) -> None:
    """One scheduler pass (safe from cron every few minutes, and twice at once).

    \b
    Without --send it only lists what is due.
    Example:
        polku sequences run --send
    """
    if send and dry_run:
        raise click.UsageError(_("Choose --send or --dry-run, not both."))
    moment = _moment(now)
    app = open_storage_app()
    mode = scheduler.SEND if send else scheduler.DRY_RUN if dry_run else scheduler.LIST
    with app.test_request_context():
        storage = get_storage()
        _sequences_or_stop()
        cache: dict = {}

        def interests(contacts):
            cache["found"] = _reading(storage, contacts)
            return cache["found"][0]

        mailer = mail.Mailer(app.config)
        deliver = writer(dry_run, app.config) if dry_run else mailer.send
        try:
            with clock.frozen_at(moment):
                done = scheduler.run(
                    storage,
                    mode=mode,
                    now=moment,
                    deliver=deliver,
                    interests=interests,
                    reads=lambda contacts: cache["found"][1],
                )
        finally:
            mailer.close()
        retried = None
        if send:
            from ..mail import retry

            retried = retry.flush(storage, app.config)
    _report(done, mode, dry_run)
    if retried is not None:
        report_retries(retried)


def _report(done: scheduler.Pass, mode: str, folder: str | None) -> None:
    if mode == scheduler.LIST:
        click.echo(
            n_("%(count)d step due now.", "%(count)d steps due now.", len(done.due))
        )
        for claim in done.due:
            click.echo(f"  {claim.sequence}/{claim.step}  {claim.contact}")
        click.echo(_("Nothing was sent: add --send to send them."))
    elif mode == scheduler.DRY_RUN:
        click.echo(
            n_(
                "%(count)d email written to %(folder)s; nothing recorded.",
                "%(count)d emails written to %(folder)s; nothing recorded.",
                len(done.due),
                folder=folder,
            )
        )
    else:
        click.echo(
            n_("%(count)d email sent.", "%(count)d emails sent.", len(done.sent))
        )
        if done.entered:
            click.echo(
                n_(
                    "%(count)d person entered a sequence.",
                    "%(count)d people entered a sequence.",
                    done.entered,
                )
            )
        for line in done.retry:
            click.echo(
                _("Refused for now, tried again later: %(reason)s", reason=line),
                err=True,
            )
        for line in done.failed:
            click.echo(_("Not sent: %(reason)s", reason=line), err=True)
        for line in done.blocked:
            click.echo(policy_alert(line), err=True)
    for line in done.unknown:
        click.echo(
            _(
                "Unknown: claimed but the answer was never recorded (the pass "
                "stopped); not sent again: %(step)s",
                step=line,
            ),
            err=True,
        )


@sequences.command()
@click.argument("name")
@click.option("--to", "to", metavar="EMAIL", help="Send the steps as test copies.")
def preview(name: str, to: str | None) -> None:
    """Render every step of a sequence for a sample reader."""
    app = open_storage_app()
    with app.test_request_context():
        found = {s["name"]: s for s in _sequences_or_stop()}
        if name not in found:
            raise click.ClickException(
                _(
                    "No sequence %(name)s; there are: %(names)s",
                    name=name,
                    names=", ".join(sorted(found)),
                )
            )
        seq = found[name]
        sample = {
            "id": "preview",
            "email": to or "reader@example.com",
            "first_name": "Aino",
        }
        reader = sequence_email.Reader(sample, {})
        mailer = mail.Mailer(app.config)
        try:
            for index, step in enumerate(seq["steps"]):
                claim = Claim("preview", name, 0, step["id"], index)
                if to:
                    mailer.send(sequence_email.message(reader, seq, claim))
                    click.echo(_("Sent %(step)s to %(to)s.", step=step["id"], to=to))
                    continue
                subject, text, _html, _links = sequence_email.render(reader, seq, claim)
                click.echo(f"=== {step['id']} (+{_delay(step['delay'])}): {subject}")
                click.echo(text)
        except mail.MailError as e:
            raise click.ClickException(str(e)) from e
        finally:
            mailer.close()


COMMANDS = (sequences,)
