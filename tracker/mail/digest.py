"""Send the digest: who gets it, with which links, and never twice.

Each send is recorded in a durable ledger keyed by the digest run and the
contact, right after the mail server accepted it. A run killed at any moment
and started again sends to everyone who has no ledger entry: the digest is
delivered at least once, and the only possible duplicate is the one message
in flight at the instant of the kill (accepted by the server, not yet in the
ledger). The run's identity and its cut-off are stored before the first send,
so a rerun resumes the same digest with the same posts.

Each recipient's answer is kept by mail.retry: a 5xx is a hard bounce (and
a 5.7.x a policy block), recorded in the run's refusal ledger so that reruns
do not try it again; a 4xx queues the message, tried again by later passes
(`retry.flush`) with backoff and a soft bounce after the last try: the run
goes on and can finish, and a rerun skips whoever waits in the queue. Only a
lost connection (no answer) is tried again at once and, failing, leaves the
run unfinished for the next one.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, g
from pelican.plugins.polku import digest as content

from .. import clock, mail
from ..journey import preferences
from ..journey.digest import build_digest
from ..journey.suppression import is_suppressed
from ..storage import Storage
from ..web import site as sitemeta
from . import lease, retry, sends, variants
from .digest_links import ONCE, links_for, list_headers_for, once

STATE_KEY = "digest"
LEASE_KEY = "digest-sender"  # one sender at a time (see lease.py)
RETRIES = 3


@dataclass
class Outcome:
    digest_id: str | None = None
    posts: int = 0
    recipients: int = 0
    sent: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)  # no answer: the next run tries
    queued: list[str] = field(default_factory=list)  # a 4xx: tried again later
    refused: list[str] = field(default_factory=list)  # for good: not tried again
    refused_before: list[str] = field(default_factory=list)  # by an earlier pass
    blocked: list[str] = field(default_factory=list)  # 5.7.x: the sender's problem
    suppressed: list[str] = field(default_factory=list)  # by this pass's answers
    finished: bool = False


def refusals(run_id: str) -> str:
    """The ledger of who this run's mail server refused for good."""
    return f"{run_id}:refused"


def subscribed(contact: dict) -> bool:
    """A confirmed subscriber whose newsletter consent stands, not suppressed."""
    consent = (contact.get("consent") or {}).get("newsletter") or {}
    return (
        contact.get("status") == "confirmed"
        and bool(consent)
        and not consent.get("withdrawn_at")
        and not is_suppressed(contact)
    )


def recipients(storage: Storage) -> list[dict]:
    """Confirmed subscribers whose newsletter consent stands; never anyone else.

    Each reader's own choice holds too (journey.preferences.digest_wanted):
    no digest during a pause, and a monthly reader gets the first run of each
    month in the site's time zone. This run is the unfinished one if a send
    is resumed (its `since` is the run before), else one starting now.
    """
    state = storage.get_meta(STATE_KEY) or {}
    current = state.get("current") or {}
    timing = {
        "run_at": current.get("until") or clock.now().isoformat(),
        "previous_run": current.get("since") if current else state.get("cutoff"),
        "tz": (sitemeta.manifest().get("site") or {}).get("timezone"),
    }
    chosen = [
        c
        for c in storage.iter_contacts()
        if subscribed(c) and preferences.digest_wanted(c, **timing)
    ]
    return sorted(chosen, key=lambda c: c["created"])


ASKED = "feedback-asked"


def last_asked(storage: Storage) -> dict[str, str]:
    """Return contact id -> the day they were last asked the feedback question."""
    latest: dict[str, str] = {}
    for key in storage.ledger_keys(ASKED):
        contact_id, _, day = key.partition("|")
        latest[contact_id] = max(day, latest.get(contact_id, ""))
    return latest


def due_for_feedback(
    contact: dict, asked: dict[str, str], today: str, days: int
) -> bool:
    """Customers are asked, at most once per `days` days."""
    if not contact.get("customer_at"):
        return False
    last = asked.get(contact["id"])
    if not last:
        return True
    return (datetime.fromisoformat(today) - datetime.fromisoformat(last)).days >= days


def in_their_language(settings, contact: dict):
    """The digest in the language the reader chose on their page, if any."""
    chosen = contact.get("lang")
    if not chosen or chosen == settings.lang:
        return settings
    try:
        return dataclasses.replace(settings, lang=chosen)
    except content.DigestError:  # a language the digest has no words for
        return settings


def message_for(
    contact: dict,
    posts: list[dict],
    more: int,
    run: dict,
    env,
    settings,
    interests,
    ask: bool = False,
) -> Any:
    links = links_for(contact, run["id"], ask)
    settings = in_their_language(settings, contact)
    settings = variants.digest_settings(settings, contact["id"])  # an A/B test's
    site = once(
        "site",
        lambda: {
            "name": (sitemeta.manifest().get("site") or {}).get("name"),
            "url": sitemeta.public_base(),
        },
    )
    subject, text, html = content.render(
        posts,
        more,
        {"first_name": contact.get("first_name"), "interests": interests},
        site=site,
        links=links,
        settings=settings,
        env=env,
        campaign_date=run["date"],
    )
    msg = mail.build(
        current_app.config,
        contact["email"],
        subject,
        text,
        html,
        headers=list_headers_for(links.unsubscribe_url),
        inline_css=False,  # render() inlined it already
        key=f"{run['id']}:{contact['id']}",  # a resend is the same message
        send=run["id"],
        contact=contact["id"],
    )
    return msg


def plan(
    storage: Storage, settings, now: datetime, resume: bool
) -> tuple[dict, Any] | None:
    """Return (run, digest) for the unfinished run or a new one; None if nothing new."""
    state = storage.get_meta(STATE_KEY) or {}
    posts = sitemeta.manifest().get("posts", [])
    current = state.get("current") if resume else None
    if current:
        picked = build_digest(
            [p for p in posts if (p.get("date") or "") <= current["until"]],
            current["since"],
            datetime.fromisoformat(current["until"]),
            settings,
        )
        return (current, picked) if picked else None
    picked = build_digest(posts, state.get("cutoff"), now, settings)
    if picked is None:
        return None
    run = {
        "id": f"digest-{picked.date}-{secrets.token_hex(3)}",
        "since": state.get("cutoff"),
        "until": now.isoformat(),
        "date": picked.date,
    }
    return run, picked


def send_digest(
    storage: Storage,
    *,
    settings,
    env,
    interests: Callable[[dict], dict[str, int]],
    deliver: Callable[[Any], None],
    mode: str,
    rate: float = 10.0,
    progress: Callable[[int], None] = lambda n: None,
    only: Iterable[dict] | None = None,
) -> Outcome:
    """Build and hand each recipient's digest to deliver().

    mode "send" records every send and moves the cut-off when all are done,
    holding the sender's lease throughout (lease.Busy if another send runs);
    "preview" (dry run, test copy) changes no state.
    """
    g.pop(ONCE, None)  # worked out again for each run
    sending = lease.held(storage, LEASE_KEY) if mode == "send" else nullcontext()
    with sending as holding, sends.Batch(storage) as counts:
        now = clock.now()
        planned = plan(storage, settings, now, resume=(mode == "send"))
        outcome = Outcome()
        if planned is None:
            return outcome
        run, picked = planned
        outcome.digest_id, outcome.posts = run["id"], len(picked.posts) + picked.more
        people = list(only) if only is not None else recipients(storage)
        outcome.recipients = len(people)
        if mode == "send":
            storage.update_meta(STATE_KEY, lambda old: {**(old or {}), "current": run})
            done = storage.ledger_keys(run["id"])
            refused = storage.ledger_keys(refusals(run["id"]))
        else:
            done, refused = set(), set()
        pause = 1.0 / rate if rate > 0 else 0.0
        asked = last_asked(storage)
        days = int(current_app.config["FEEDBACK_DAYS"])
        keep = holding.keep if holding else lambda: None
        for contact in people:
            keep()
            if mode == "send":
                # Look again just before sending: a long send must not mail (or
                # write the id of) someone who left since it began, nor anyone
                # whose digest waits in the retry queue.
                current = storage.get_contact(contact["id"])
                gone = current is None or not subscribed(current)
                if not gone and retry.waiting(current, run["id"]):
                    done = done | {contact["id"]}
            if contact["id"] in done or (mode == "send" and gone):
                outcome.skipped += 1
                progress(1)
                continue
            if contact["id"] in refused:
                outcome.refused_before.append(contact["email"])
                progress(1)
                continue
            ask = due_for_feedback(contact, asked, run["date"], days)
            msg = message_for(
                contact,
                picked.posts,
                picked.more,
                run,
                env,
                settings,
                interests(contact),
                ask,
            )
            if mode == "send":
                answer = send_one(
                    storage, deliver, msg, current, run["id"], keep, counts
                )
                keep_answer(storage, outcome, current, run, answer, ask)
            else:
                deliver_with_retries(deliver, msg, outcome, contact, keep)
            progress(1)
            if pause:
                time.sleep(pause)
        if mode == "send" and not outcome.failed:
            storage.update_meta(
                STATE_KEY,
                lambda old: {**(old or {}), "current": None, "cutoff": run["until"]},
            )
            outcome.finished = True
        return outcome


def send_one(
    storage, deliver, msg, contact: dict, run_id: str, keep, counts: sends.Batch
) -> retry.Answer:
    """Send one recipient's digest; the answer is kept by mail.retry (a 4xx is
    queued for later tries). No answer at all (a lost connection) is tried
    again at once, RETRIES times, then left to the next run."""
    for attempt in range(RETRIES):
        keep()  # slow tries must not outlast the sender's lease
        answer = retry.deliver(
            storage,
            deliver,
            msg,
            send=run_id,
            contact=contact,
            needs=retry.SUBSCRIBED,
            ledger=run_id,
            counts=counts,
        )
        if answer.result != retry.FAILED or attempt == RETRIES - 1:
            return answer
        time.sleep(0.5 * 2**attempt)
    return answer


def keep_answer(
    storage: Storage, outcome: Outcome, contact: dict, run: dict, answer, ask: bool
) -> None:
    """Record one recipient's answer in the run's ledgers and the outcome."""
    run_id = run["id"]
    line = f"{contact['email']}: {answer.reason or answer.status}"
    if answer.result == retry.SENT:
        outcome.sent += 1
        if ask:
            storage.ledger_add(ASKED, f"{contact['id']}|{run['date']}")
        storage.ledger_add(run_id, contact["id"])
        variants.record(storage, variants.DIGEST, None, contact["id"], run_id)
    elif answer.result == retry.QUEUED:
        outcome.queued.append(f"{contact['email']}: {answer.status}")
    elif answer.result == retry.FAILED:
        outcome.failed.append(line)
    else:  # refused for good: not tried again by a rerun
        outcome.refused.append(line)
        storage.ledger_add(refusals(run_id), contact["id"])
        if answer.result == retry.BLOCKED:
            outcome.blocked.append(f"{contact['email']}: {answer.status}")
        if answer.suppressed:
            outcome.suppressed.append(contact["email"])


def deliver_with_retries(
    deliver, msg, outcome: Outcome, contact: dict, keep: Callable[[], None]
) -> None:
    """A preview (dry run, test copy): try a temporary failure again at once;
    report, and go on with the others. Nothing is recorded."""
    for attempt in range(RETRIES):
        keep()
        try:
            deliver(msg)
        except mail.MailError as e:
            reason = f"{contact['email']}: {e.reason}"
            if e.permanent:
                outcome.refused.append(reason)
                return
            if attempt == RETRIES - 1:
                outcome.failed.append(reason)
                return
            time.sleep(0.5 * 2**attempt)
        else:
            outcome.sent += 1
            return
