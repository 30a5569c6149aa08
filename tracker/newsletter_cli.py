"""`polku digest`: the command's three modes over newsletter.send_digest."""

from __future__ import annotations

import os
import sys

import click
from journey import digest as content

from . import clock, lease, mail, newsletter, sitemeta
from .lists import interests_by_contact
from .storage import get_storage


def digest_settings(site: dict) -> content.DigestSettings:
    try:
        return content.DigestSettings.from_mapping(
            site.get("JOURNEY_DIGEST"), lang=str(site.get("DEFAULT_LANG", "en"))
        )
    except content.DigestError as e:
        raise click.ClickException(str(e)) from e


def writer(folder: str):
    """Deliver into files: one .eml per recipient, the first as index.html too."""
    os.makedirs(folder, exist_ok=True)
    count = 0

    def deliver(msg) -> None:
        nonlocal count
        count += 1
        with open(os.path.join(folder, f"{count:05d}.eml"), "wb") as f:
            f.write(bytes(msg))
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
            known = storage.find_contact(to.strip().lower())
            now = clock.now().isoformat()
            only = [known or {"id": "test-copy", "email": to, "created": now}]
        people = only if only is not None else newsletter.recipients(storage)
        interests = interests_by_contact(storage, sitemeta.manifest(), people)
        mailer = mail.Mailer(app.config)
        deliver = writer(dry_run) if dry_run else mailer.send
        try:
            with click.progressbar(
                length=len(people), label="Digest", file=sys.stderr
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
            raise click.ClickException(f"Not sending: {e}.") from e
        finally:
            mailer.close()
    report(outcome, dry_run=dry_run, send=send)


def report(outcome: newsletter.Outcome, *, dry_run, send: bool) -> None:
    if outcome.digest_id is None:
        click.echo("Nothing new since the last digest: nothing sent.")
        return
    where = f"written to {dry_run}" if dry_run else "sent"
    click.echo(
        f"{outcome.digest_id}: {outcome.posts} posts; {outcome.sent} of "
        f"{outcome.recipients} messages {where}"
        + (f", {outcome.skipped} already had it" if outcome.skipped else "")
        + "."
    )
    for failure in outcome.failed:
        click.echo(f"Not sent: {failure}", err=True)
    if send and outcome.failed:
        raise click.ClickException(
            f"{len(outcome.failed)} messages failed; run `polku digest --send` again "
            "to retry them (nobody gets a second copy)."
        )
    if send and outcome.finished:
        click.echo("Every subscriber has this digest; the next one starts from here.")
