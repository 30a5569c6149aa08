"""What a mail service's bounce and complaint webhooks say, as `Report`s.

Each provider's documented JSON (Amazon SES through SNS, Postmark, Mailgun)
in, one `bounces.Report` per recipient out; events that say nothing about an
address (deliveries, opens, auto-replies, a "not spam" report) give none.
The kinds follow the same rules as a refusal at send time: a permanent
failure is hard unless its status is a 5.7.x policy block (the sender's
problem, not the address's), a temporary one is soft.

Report ids carry the provider's own event id, so a replay is a replay. The
send a report answers comes from the original's X-Polku-Ref when the service
passes the headers on, else from the service's id of the message, so soft
bounces on distinct messages count as distinct sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from ..journey import suppression
from .bounces import COMPLAINT, Report
from .message import REF_HEADER

HARD, SOFT = suppression.HARD, suppression.SOFT
MAX_TEXT = 500


class Malformed(ValueError):
    """A payload that is not what the provider sends."""


def text(value: object, limit: int = MAX_TEXT) -> str:
    """A string as it may be stored: no control characters, at most limit long."""
    if value is None or isinstance(value, dict | list):
        return ""
    return "".join(c if c.isprintable() else " " for c in str(value))[:limit].strip()


def _address(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Malformed("Each report needs the recipient's address.")
    return text(value, 320)


def kind_of(kind: str, status: str) -> str | None:
    """A hard bounce whose status is a 5.7.x policy block suppresses no one."""
    if kind == HARD and suppression.classify(550, status) == suppression.POLICY:
        return None
    return kind


def _header(headers: object, name: str) -> str | None:
    """A header's value from a list of {name, value} (any case) or a mapping."""
    wanted = name.lower()
    if isinstance(headers, Mapping):
        headers = [{"name": k, "value": v} for k, v in headers.items()]
    for item in headers if isinstance(headers, list) else []:
        if not isinstance(item, Mapping):
            continue
        key = item.get("name", item.get("Name"))
        if isinstance(key, str) and key.lower() == wanted:
            return text(item.get("value", item.get("Value")), 200) or None
    return None


def _pick(table: Mapping[str, str], value: object) -> str | None:
    """table[value] for a string value; None for anything else (a list too)."""
    return table.get(value) if isinstance(value, str) else None


def _dict(value: object, what: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise Malformed(f"The payload has no {what} object.")
    return value


# --- Amazon SES, through an SNS notification -------------------------------

SES_KINDS = {"Permanent": HARD, "Transient": SOFT, "Undetermined": SOFT}


def ses(envelope: Mapping) -> list[Report]:
    """Reports from a (verified) SNS Notification whose Message is SES's JSON."""
    try:
        body = json.loads(envelope.get("Message") or "")
    except (ValueError, TypeError, RecursionError):
        raise Malformed("The SNS Message is not SES's JSON.") from None
    body = _dict(body, "SES notification")
    type_ = body.get("notificationType") or body.get("eventType")
    mail = body.get("mail") if isinstance(body.get("mail"), Mapping) else {}
    ref = _header(mail.get("headers"), REF_HEADER)
    send = None if ref else f"ses:{text(mail.get('messageId'), 200)}"
    if type_ == "Bounce":
        bounce = _dict(body.get("bounce"), "bounce")
        kind = _pick(SES_KINDS, bounce.get("bounceType"))
        field, found = "bouncedRecipients", bounce
    elif type_ == "Complaint":
        found = _dict(body.get("complaint"), "complaint")
        kind = None if found.get("complaintFeedbackType") == "not-spam" else COMPLAINT
        field = "complainedRecipients"
    else:
        return []  # deliveries, sends, opens: nothing about an address
    recipients = found.get(field)
    if not isinstance(recipients, list) or not recipients:
        raise Malformed(f"The {type_.lower()} names no {field}.")
    event = text(found.get("feedbackId") or envelope.get("MessageId"), 200)
    reports = []
    for recipient in recipients:
        recipient = _dict(recipient, "recipient")
        email = _address(recipient.get("emailAddress"))
        if type_ == "Bounce":
            status = text(
                " ".join(
                    str(recipient.get(k) or "") for k in ("status", "diagnosticCode")
                ).strip()
                or f"{bounce.get('bounceType')} {bounce.get('bounceSubType') or ''}"
            )
        else:
            status = text(found.get("complaintFeedbackType") or "complaint")
        chosen = kind and kind_of(kind, status)
        if chosen:
            reports.append(
                Report(
                    kind=chosen,
                    id=f"ses:{event}:{email.lower()}",
                    source="ses",
                    ref=ref if len(recipients) == 1 else None,
                    email=email,
                    status=status,
                    send=send,
                )
            )
    return reports


# --- Postmark ---------------------------------------------------------------

POSTMARK_KINDS = {
    "HardBounce": HARD,
    "BadEmailAddress": HARD,
    "SoftBounce": SOFT,
    "Transient": SOFT,
    "DnsError": SOFT,
    "SpamComplaint": COMPLAINT,
}  # AutoResponder, Blocked, SpamNotification, ...: not the address's doing
REF_LINE = re.compile(rf"^{REF_HEADER}:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


def postmark(body: Mapping) -> list[Report]:
    """Reports from Postmark's Bounce or SpamComplaint webhook."""
    record = body.get("RecordType")
    if record == "SpamComplaint":
        kind = COMPLAINT
    elif record == "Bounce":
        kind = _pick(POSTMARK_KINDS, body.get("Type"))
    else:
        return []  # Delivery, Open, Click, SubscriptionChange
    event = body.get("ID")
    if isinstance(event, bool) or not isinstance(event, int | str) or not str(event):
        raise Malformed("A Postmark bounce needs its ID.")
    email = _address(body.get("Email"))
    status = text(body.get("Details") or body.get("Description") or body.get("Type"))
    ref = _header(body.get("Headers"), REF_HEADER)
    if ref is None and isinstance(body.get("Content"), str):
        found = REF_LINE.search(body["Content"])
        ref = text(found.group(1), 200) if found else None
    kind = kind and kind_of(kind, status)
    if not kind:
        return []
    message = text(body.get("MessageID"), 200)
    return [
        Report(
            kind=kind,
            id=f"postmark:{text(event, 100)}",
            source="postmark",
            ref=ref,
            email=email,
            status=status,
            send=None if ref else f"postmark:{message}",
        )
    ]


# --- Mailgun ----------------------------------------------------------------

MAILGUN_SEVERITY = {"permanent": HARD, "temporary": SOFT}


def mailgun_signature(key: str, signature: object) -> tuple[float, str]:
    """(timestamp, token) of a genuine Mailgun signature; Malformed if it is not.

    The HMAC-SHA256 of timestamp + token with the webhook signing key; it
    does not cover the body, which is why the caller refuses stale timestamps
    and tokens used before.
    """
    if not isinstance(signature, Mapping):
        raise Malformed("The payload has no signature.")
    timestamp, token, given = (
        signature.get(k) for k in ("timestamp", "token", "signature")
    )
    if not all(isinstance(v, str | int) for v in (timestamp, token, given)):
        raise Malformed("The signature needs its timestamp, token and signature.")
    expected = hmac.new(
        key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(
        expected.encode(), str(given).encode("utf-8", "replace")
    ):
        raise Malformed("The signature does not match.")
    try:
        return float(timestamp), str(token)  # type: ignore[arg-type]
    except ValueError:
        raise Malformed("The signature's timestamp is not a number.") from None


def mailgun(body: Mapping) -> list[Report]:
    """Reports from Mailgun's `failed` and `complained` events."""
    data = _dict(body.get("event-data"), "event-data")
    event = data.get("event")
    if event == "failed":
        kind = _pick(MAILGUN_SEVERITY, data.get("severity"))
    elif event == "complained":
        kind = COMPLAINT
    else:
        return []  # delivered, opened, clicked, unsubscribed, ...
    if not isinstance(data.get("id"), str) or not data["id"]:
        raise Malformed("A Mailgun event needs its id.")
    email = _address(data.get("recipient"))
    delivery = data.get("delivery-status")
    delivery = delivery if isinstance(delivery, Mapping) else {}
    status = text(
        " ".join(
            str(delivery.get(k) or "") for k in ("code", "message", "description")
        ).strip()
        or data.get("reason")
        or event
    )
    message = data.get("message") if isinstance(data.get("message"), Mapping) else {}
    headers = message.get("headers")
    variables = data.get("user-variables")
    ref = _header(headers, REF_HEADER) or (
        text(variables.get("polku-ref"), 200) or None
        if isinstance(variables, Mapping)
        else None
    )
    kind = kind and kind_of(kind, status)
    if not kind:
        return []
    message_id = _header(headers, "message-id")
    return [
        Report(
            kind=kind,
            id=f"mailgun:{text(data['id'], 200)}",
            source="mailgun",
            ref=ref,
            email=email,
            status=status,
            send=None if ref else f"mailgun:{message_id or 'unknown'}",
        )
    ]
