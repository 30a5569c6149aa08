"""POST /api/bounces/<provider>: bounces and complaints from a mail service.

Each provider proves itself its own way: Amazon SES by SNS's signature (and
a topic the owner named), Postmark by HTTP basic auth with the owner's
secret in the webhook URL, Mailgun by its HMAC with the signing key. A
provider whose setting is empty is off (404, saying which setting). A
request that fails its proof answers 401 and changes nothing; a payload
that is not the provider's answers 400. Every accepted report is applied
once (mail.bounces.apply), and a replay answers 200 like the first time, so
the provider stops retrying.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Callable

from flask import Blueprint, current_app, request

from .. import clock
from ..db import get_storage
from ..errors import TrackerError
from ..mail import bounces, providers, sns
from .beacon import storable

bp = Blueprint("bounce_hooks", __name__)

MAX_BODY = 512 * 1024  # a Postmark bounce may carry the whole bounced message
MAILGUN_WINDOW = 15 * 60  # seconds a Mailgun signature is taken, either way
MAILGUN_TOKENS = "mailgun_tokens"


@bp.before_request
def larger_bodies() -> None:
    request.max_content_length = MAX_BODY


def setting(name: str, provider: str) -> str:
    value = str(current_app.config.get(name) or "").strip()
    if not value:
        raise TrackerError(
            f"The {provider} webhook is off: set POLKU_{name} to turn it on.", 404
        )
    return value


def payload() -> dict:
    """The body as a JSON object (SNS sends it as text/plain); 400 otherwise."""
    try:
        body = request.get_json(force=True, silent=True)
    except RecursionError:
        body = None
    if not isinstance(body, dict) or not storable(body):
        raise TrackerError("Send the provider's webhook JSON object.")
    return body


def refused(reason: str) -> TrackerError:
    return TrackerError(f"Not authenticated: {reason}", 401)


def listed(name: str) -> list[str]:
    return [v.strip() for v in str(current_app.config.get(name) or "").split(",")]


def from_ses() -> list[bounces.Report] | dict:
    topics = {t for t in listed("SES_TOPIC_ARN") if t}
    if not topics:
        setting("SES_TOPIC_ARN", "Amazon SES")
    message = payload()
    if str(message.get("Type")) not in sns.SIGNED:
        raise TrackerError("The SNS message's Type is not one SNS sends.")
    if str(message.get("TopicArn")) not in topics:
        raise refused("the message is not from a topic POLKU_SES_TOPIC_ARN names.")
    hosts = listed("SNS_EXTRA_HOSTS")
    try:
        sns.verify(message, hosts)
        if message["Type"] == "SubscriptionConfirmation":
            sns.confirm(message, hosts)
            current_app.logger.info(
                "Confirmed the SNS subscription to %s", message["TopicArn"]
            )
            return {"confirmed": True}
    except sns.Refused as e:
        raise refused(str(e)) from None
    except sns.Unreachable as e:
        raise TrackerError(f"{e} Try again later.", 503) from None
    if message["Type"] == "UnsubscribeConfirmation":
        current_app.logger.warning("SNS unsubscribed us from %s", message["TopicArn"])
        return {"unsubscribed": True}
    return providers.ses(message)


def from_postmark() -> list[bounces.Report]:
    secret = setting("BOUNCE_SECRET", "Postmark")
    given = (request.authorization.password or "") if request.authorization else ""
    if not hmac.compare_digest(given.encode(), secret.encode()):
        raise refused("give POLKU_BOUNCE_SECRET as the password of the webhook's URL.")
    return providers.postmark(payload())


def claim_token(token: str, now: float) -> bool:
    """Keep a Mailgun token for the window; False if it was used before."""
    name = hashlib.sha256(token.encode()).hexdigest()[:32]
    fresh = False

    def change(doc):
        nonlocal fresh
        kept = {k: v for k, v in (doc or {}).items() if v > now}
        fresh = name not in kept
        kept[name] = now + 2 * MAILGUN_WINDOW
        return kept

    get_storage().update_meta(MAILGUN_TOKENS, change)
    return fresh


def release_token(token: str) -> None:
    name = hashlib.sha256(token.encode()).hexdigest()[:32]
    get_storage().update_meta(
        MAILGUN_TOKENS, lambda doc: {k: v for k, v in (doc or {}).items() if k != name}
    )


def from_mailgun() -> list[bounces.Report] | dict:
    key = setting("MAILGUN_SIGNING_KEY", "Mailgun")
    body = payload()
    try:
        timestamp, token = providers.mailgun_signature(key, body.get("signature"))
    except providers.Malformed as e:
        raise refused(str(e)) from None
    now = clock.now().timestamp()
    if abs(now - timestamp) > MAILGUN_WINDOW:
        raise refused("the signature's timestamp is too far from now.")
    reports = providers.mailgun(body)
    if not claim_token(token, now):
        return {"replayed": True}  # the same signed request again: nothing to do
    try:
        return apply(reports)
    except Exception:
        release_token(token)  # not applied: the provider's retry must get through
        raise


def apply(reports: list[bounces.Report]) -> dict:
    storage, secret = get_storage(), current_app.config["SECRET_KEY"]
    counts = Counter(bounces.apply(storage, secret, r) for r in reports)
    return {k: counts[k] for k in (bounces.APPLIED, bounces.REPLAYED, bounces.UNKNOWN)}


PROVIDERS: dict[str, Callable[[], list[bounces.Report] | dict]] = {
    "ses": from_ses,
    "postmark": from_postmark,
    "mailgun": from_mailgun,
}


@bp.post("/api/bounces/<provider>")
def receive(provider: str):
    read = PROVIDERS.get(provider)
    if read is None:
        raise TrackerError(
            f"No mail service is called that; use one of: {', '.join(PROVIDERS)}.",
            404,
        )
    try:
        found = read()
    except providers.Malformed as e:
        raise TrackerError(str(e)) from None
    counts = found if isinstance(found, dict) else apply(found)
    return {"ok": True, **counts}, 200
