"""Read one message from the bounce mailbox: which bounces and complaints it reports.

Three shapes are understood: a delivery status notification (DSN, RFC 3464), an
abuse report (ARF, RFC 5965), and the non-standard bounces some mail servers
still send (qmail, older Exim, Exchange ..., read by `flufl.bounce`). The
person is found by the X-Polku-Ref of the original the report attaches, so a
report that hides the address (as ARF reports often do) still names them.

Anything else gives no report: out-of-office and other automatic replies
(RFC 3834), delay warnings, and the owner's own mail. A 5.7.x refusal is a
policy block: the sender's problem, not the address's; it comes back as an
alert, never as a bounce.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr

from flufl.bounce import all_failures

from ..journey import suppression
from .bounces import COMPLAINT, Report
from .message import REF_HEADER

SOURCE = "imap"
log = logging.getLogger(__name__)

_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_BOUNCE_STATUS = re.compile(r"\b[45]\.\d{1,3}\.\d{1,3}\b")
_ORIGINAL_COPY = re.compile(
    rf"^(?:Return-Path|Received|{re.escape(REF_HEADER)}):|^-+ ?Below this line",
    re.I | re.M,
)
_REF_LINE = re.compile(
    rf"^{re.escape(REF_HEADER)}:[ \t]*(\S+(?:\r?\n[ \t]+\S+)*)", re.I | re.M
)
_DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
# Subjects of automatic replies, in the languages Polku's readers write in and
# the ones mail programs use by default.
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|"
    r"response|antwort)|auto:|away from|on vacation|vacation|abwesen|poissa|"
    r"lomalla|automaattinen vastaus|réponse automatique|absence)",
    re.I,
)
_AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Reply")
_STATUS_LENGTH = 300


@dataclass(frozen=True)
class Reading:
    """What one message says: its reports, and the policy blocks it names.

    kind: "dsn", "arf", "bounce" (non-standard), "auto-reply" or "other".
    """

    kind: str
    reports: tuple[Report, ...] = ()
    blocked: tuple[str, ...] = ()


def read(raw: bytes | Message) -> Reading:
    """Return the bounces, complaints and policy blocks one message reports."""
    msg = message_from_bytes(raw) if isinstance(raw, bytes | bytearray) else raw
    report_type = str(msg.get_param("report-type", "", header="content-type"))
    if msg.get_content_type() == "multipart/report":
        if report_type.lower() == "delivery-status":
            return _dsn(msg)
        if report_type.lower() == "feedback-report":
            return _arf(msg)
    if _auto_reply(msg):
        return Reading("auto-reply")
    return _nonstandard(msg)


def _report_id(msg: Message) -> str:
    """The report's own Message-ID, else a digest of its bytes (the same twice)."""
    mid = " ".join(str(msg.get("Message-ID") or "").split())
    if mid:
        return mid
    try:
        data = msg.as_bytes()
    except (LookupError, UnicodeError, ValueError):
        data = str(msg.get_payload()).encode("utf-8", "replace")
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _status_text(*parts: str) -> str:
    return " ".join(" ".join(p.split()) for p in parts if p)[:_STATUS_LENGTH]


# ---- the original: its X-Polku-Ref and whom it went to ----------------------


def _original(msg: Message) -> Message | None:
    """The headers of the original message the report attaches, if any."""
    for part in msg.walk():
        if part is msg:
            continue
        kind = part.get_content_type()
        if kind == "message/rfc822" or kind == "message/global":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                return inner[0]
        if kind in ("text/rfc822-headers", "message/global-headers"):
            return HeaderParser().parsestr(_text(part))
    return None


def _text(part: Message) -> str:
    """A leaf part's text, transfer encoding undone."""
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data.decode(part.get_content_charset() or "utf-8", "replace")
    payload = part.get_payload()
    return payload if isinstance(payload, str) else ""


def _ref(msg: Message, original: Message | None) -> str | None:
    """The original's X-Polku-Ref: from its attached headers, else from a copy
    of it quoted in the text (non-standard bounces paste the original)."""
    if original is not None and original.get(REF_HEADER):
        return str(original[REF_HEADER])
    for part in msg.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        found = _REF_LINE.search(_text(part))
        if found:
            return " ".join(found.group(1).split())
    return None


def _recipient_of(original: Message | None) -> str:
    if original is None:
        return ""
    found = getaddresses([str(v) for v in original.get_all("To", [])])
    return found[0][1].lower() if len(found) == 1 else ""


# ---- delivery status notifications (RFC 3464) --------------------------------


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status or /feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = [b for b in payload if isinstance(b, Message)]
        if len(blocks) == 1 and isinstance(blocks[0].get_payload(), str):
            rest = blocks[0].get_payload()  # parsed as one message: the rest is text
            return [blocks[0], *_parse_blocks(rest)]
        return blocks
    return _parse_blocks(_text(part))


def _parse_blocks(text: str) -> list[Message]:
    chunks = re.split(r"\r?\n[ \t]*\r?\n", text.strip())
    return [HeaderParser().parsestr(chunk.strip() + "\n") for chunk in chunks if chunk]


def _address_field(value) -> str:
    """`rfc822; a@b` (or `utf-8; a@b`) → a@b."""
    kind, _, address = str(value or "").partition(";")
    if not address:
        address = kind
    return parseaddr(address.strip())[1].strip().lower()


def _dsn(msg: Message) -> Reading:
    status_parts = [
        p
        for p in msg.walk()
        if p.get_content_type()
        in ("message/delivery-status", "message/global-delivery-status")
    ]
    recipients = [
        block
        for part in status_parts
        for block in _blocks(part)
        if block.get("Action") and (block.get("Final-Recipient") or "").strip()
    ]
    original = _original(msg)
    ref = _ref(msg, original)
    to = _recipient_of(original)
    report_id = _report_id(msg)
    reports, blocked = [], []
    for block in recipients:
        action = str(block.get("Action", "")).strip().lower()
        if not action.startswith(("fail", "error")):
            continue  # delayed, delivered, relayed, expanded: not a bounce
        email = _address_field(
            block.get("Original-Recipient") or block.get("Final-Recipient")
        )
        final = _address_field(block.get("Final-Recipient"))
        status = str(block.get("Status", "")).strip()
        diagnostic = str(block.get("Diagnostic-Code", "")).strip()
        words = _status_text(status, diagnostic)
        found = _STATUS.search(status)
        detail = _STATUS.search(diagnostic)
        generic = found and found.group(0).endswith(".0.0")
        if detail and (not found or generic and detail[1] == found[1]):
            found = detail  # a generic x.0.0 status: the server's own code says more
        code = int(found.group(1)) * 100 if found else 500  # failed: permanent
        kind = suppression.classify(code, found.group(0) if found else "")
        if kind == suppression.POLICY:
            blocked.append(f"{email}: {words}")
            continue
        # The one original names one person: it goes with the one recipient,
        # or with the one the original was addressed to.
        mine = len(recipients) == 1 or (to and to in (email, final))
        reports.append(
            Report(
                kind=kind,
                id=report_id if len(recipients) == 1 else f"{report_id} {email}",
                source=SOURCE,
                ref=ref if mine else None,
                email=email or None,
                status=words,
            )
        )
    return Reading("dsn", tuple(reports), tuple(blocked))


# ---- abuse reports (ARF, RFC 5965) ------------------------------------------


def _arf(msg: Message) -> Reading:
    fields = [
        block
        for part in msg.walk()
        if part.get_content_type() == "message/feedback-report"
        for block in _blocks(part)
    ]
    if not fields:
        return Reading("arf")
    feedback = str(fields[0].get("Feedback-Type", "")).strip().lower()
    if feedback != "abuse":
        return Reading("arf")  # not-spam, virus, auth-failure ...: no complaint
    original = _original(msg)
    email = _address_field(fields[0].get("Original-Rcpt-To"))
    report = Report(
        kind=COMPLAINT,
        id=_report_id(msg),
        source=SOURCE,
        ref=_ref(msg, original),
        email=email if "@" in email else None,
        status=f"feedback-type: {feedback}",
    )
    return Reading("arf", (report,))


# ---- everything else: automatic replies, non-standard bounces ---------------


def _auto_reply(msg: Message) -> bool:
    """An automatic reply (RFC 3834, or the headers mail programs use instead).

    Bounces are automatic too (mail servers mark them auto-replied): a message
    from a mailer daemon is left for the bounce parsers.
    """
    if any(msg.get(name) for name in _AUTO_HEADERS):
        return True
    if str(msg.get("Precedence", "")).strip().lower() == "auto_reply":
        return True
    if _AUTO_SUBJECT.match(" ".join(str(msg.get("Subject", "")).split())):
        return True
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    sender = parseaddr(str(msg.get("From", "")))[1].partition("@")[0].lower()
    return not auto.startswith("no") and sender not in _DAEMONS


def _servers_words(msg: Message) -> str:
    """The bounce's own text, up to where a copy of the original begins."""
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            return _ORIGINAL_COPY.split(_text(part), 1)[0]
    return ""


def _nonstandard(msg: Message) -> Reading:
    """Bounces in a mail server's own words, as flufl.bounce reads them.

    Only the permanent failures count: the temporary ones it finds are delay
    warnings, and a delay is not a bounce.
    """
    try:
        _temporary, permanent = all_failures(msg)
    except Exception:  # a heuristic parser tripping on odd mail: no report
        log.warning("a message in the bounce mailbox could not be parsed")
        return Reading("other")
    addresses = sorted(
        a for a in (p.decode("ascii", "replace").lower() for p in permanent) if "@" in a
    )
    if not addresses:
        return Reading("other")
    found = _BOUNCE_STATUS.search(_servers_words(msg))
    status = found.group(0) if found else ""
    kind = suppression.classify(int(status[0]) * 100 if status else 500, status)
    if kind == suppression.POLICY:
        return Reading("bounce", blocked=tuple(f"{a}: {status}" for a in addresses))
    ref = _ref(msg, _original(msg))
    report_id = _report_id(msg)
    reports = tuple(
        Report(
            kind=kind,
            id=report_id if len(addresses) == 1 else f"{report_id} {address}",
            source=SOURCE,
            ref=ref if len(addresses) == 1 else None,
            email=address,
            status=status or "non-standard bounce",
        )
        for address in addresses
    )
    return Reading("bounce", reports)
