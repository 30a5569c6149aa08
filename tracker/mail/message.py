"""Build real emails: text + HTML, CSS inlined, addresses as servers read them.

A domain in Unicode goes out in its IDNA form (`xn--`), in the headers and on
the envelope. A local part in Unicode (`jörg@…`) makes the message
international (RFC 6531/6532): its address headers are written in UTF-8 and
send.py sends it with the SMTPUTF8 option. An RFC 2047 encoded word (`=?…?=`)
is never an address. Building never fails on an address: the envelope carries
the problem, and sending says what it is.

Also here: finding a person in a written message, however their address was
written (erasure scrubs the outbox with it).
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from email import message_from_bytes
from email.generator import BytesGenerator
from email.header import Header, decode_header, make_header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.utils import formataddr, formatdate, getaddresses, make_msgid, parseaddr
from io import BytesIO

import css_inline
import idna

from .. import clock

# A dot-atom local part (RFC 5322), Unicode letters allowed (RFC 6531); no
# quoted local parts, spaces, controls or specials: they are never needed.
_ATOM = r"[^\x00-\x20\x7f-\x9f()<>\[\]:;@\\,.\"\s\ud800-\udfff]+"
LOCAL_PART = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
ASCII_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
NO_RECIPIENT = "undisclosed-recipients:;"


class MailError(RuntimeError):
    """A message could not be handed to the mail server.

    `reason` says why without the address; `permanent` is True when sending
    the same message again would fail the same way; `smtp` is the server's
    answer (code, text) when it gave one.
    """

    permanent = False

    def __init__(
        self,
        reason: str,
        address: str = "",
        permanent: bool | None = None,
        smtp: tuple[int, str] | None = None,
    ) -> None:
        super().__init__(
            f"could not send to {address}: {reason}" if address else reason
        )
        self.reason, self.address, self.smtp = reason, address, smtp
        if permanent is not None:
            self.permanent = permanent


class AddressRefused(MailError):
    """This recipient cannot be sent to (here, or at all); the others can."""

    permanent = True


@dataclass(frozen=True, slots=True)
class Envelope:
    """Who a message goes from and to, as the SMTP server is told."""

    sender: str
    recipients: tuple[str, ...]
    shown: str  # the recipients as given, for reports
    international: bool = False  # a recipient needs SMTPUTF8
    sender_international: bool = False
    problem: MailError | None = None  # why it cannot be sent at all


def wire_address(address: str) -> tuple[str, bool]:
    """Return (the address as servers take it, whether it needs SMTPUTF8).

    The domain is given in its IDNA (`xn--`) form. Raise AddressRefused, with
    the reason, for anything but one plain address.
    """
    if not isinstance(address, str) or not address:
        raise AddressRefused("there is no address", str(address))
    if "=?" in address:
        raise AddressRefused(
            "an address may not hold an RFC 2047 encoded word ('=?')", address
        )
    local, at, domain = address.rpartition("@")
    if not (at and LOCAL_PART.fullmatch(local)):
        raise AddressRefused("it is not one plain email address", address)
    if not domain.isascii():
        try:
            domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            raise AddressRefused(
                "its domain cannot be written in IDNA (xn--) form", address
            ) from None
    if not ASCII_DOMAIN.fullmatch(domain) or len(domain) > 253:
        raise AddressRefused("its domain is not a domain name", address)
    return f"{local}@{domain}", not local.isascii()


def raw_utf8(text: str) -> str:
    """A header value the compat32 generator writes as raw UTF-8 bytes
    (RFC 6532), not as an encoded word (which no address may be)."""
    return text.encode("utf-8").decode("ascii", "surrogateescape")


def header_text(value) -> str:
    """A header's text as read back: raw UTF-8 decoded, encoded words kept."""
    value = str(value)
    if value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def display_name(name: str) -> str:
    """A display name (or phrase) for a header: quoted, or an encoded word."""
    name = " ".join(name.split())
    return formataddr((name, "x@x"), charset="utf-8")[: -len(" <x@x>")] if name else ""


def mailbox(name: str, address: str) -> str:
    """`Name <address>` for a header, the address already in its wire form."""
    shown = address if address.isascii() else raw_utf8(address)
    return f"{display_name(name)} <{shown}>" if name else shown


@functools.lru_cache(maxsize=16)
def _sender(mail_from: str) -> tuple[str, str, str, bool, MailError | None]:
    """(From header, envelope sender, Message-ID domain, international, problem)."""
    name, address = parseaddr(mail_from)
    try:
        wire, international = wire_address(address)
    except AddressRefused as e:
        problem = MailError(f"POLKU_MAIL_FROM {mail_from!r}: {e.reason}")
        return "postmaster@localhost", "", "localhost", False, problem
    return mailbox(name, wire), wire, wire.rpartition("@")[2], international, None


def message_id(key: str, domain: str) -> str:
    """A stable Message-ID for a key: the same key, the same id; no address in it."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def feedback_id(send: str, domain: str) -> str:
    """Gmail's Feedback-ID (`a:b:SenderId`): which send, what kind, whose domain."""
    kind = "".join(c if c.isalnum() or c in "-_." else "-" for c in send)[:64]
    return f"{kind}:polku:{domain}"


REF_HEADER = "X-Polku-Ref"


def _ref_mac(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), f"ref:{body}".encode(), "sha256").hexdigest()[:20]


def reference(secret: str, contact_id: str, send: str) -> str:
    """The X-Polku-Ref of a message: whom and which send it was, no address.

    Bounce reports and abuse reports (ARF) often redact the recipient but
    attach the original's headers: this one finds the person again. It is
    signed, so a forged report cannot name someone else's record.
    """
    body = f"{contact_id}/{send}"
    return f"{body}/{_ref_mac(secret, body)}"


def read_reference(secret: str, value: str | None) -> tuple[str, str] | None:
    """Return (contact id, send) from a genuine X-Polku-Ref, else None."""
    body, _, mac = " ".join(str(value or "").split()).rpartition("/")
    contact_id, _, send = body.partition("/")
    if (
        not contact_id
        or not send
        or not hmac.compare_digest(mac.encode(), _ref_mac(secret, body).encode())
    ):
        return None
    return contact_id, send


def text_part(text: str, subtype: str) -> Message:
    """`MIMEText(text, subtype, "utf-8")`, the same bytes, built directly:
    email.mime encodes base64 line by line in Python (0.3 ms for a digest's
    two parts); here it is one call, cut into the same 76-character lines."""
    part = Message()
    part["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    part["MIME-Version"] = "1.0"
    part["Content-Transfer-Encoding"] = "base64"
    encoded = binascii.b2a_base64(text.encode("utf-8"), newline=False).decode()
    lines = [encoded[i : i + 76] for i in range(0, len(encoded), 76)]
    part.set_payload("\n".join(lines) + "\n" if lines else "")
    return part


def build(
    config: dict,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str] | None = None,
    inline_css: bool = True,
    key: str | None = None,
    send: str = "mail",
    contact: str | None = None,
) -> Message:
    """Return a multipart/alternative message with the HTML's CSS inlined.

    `key` names this message within its send (the digest run and the person,
    a signup request): its Message-ID is built from it, so a message sent again
    after a crash is the same message to the receiver, and it reveals no
    address. `send` names the send for Gmail's feedback loop (`Feedback-ID`).
    `contact` (an id) adds the signed X-Polku-Ref that bounces are matched by.

    Built with email.mime's compat32 policy: the modern policy parses every
    header it is given, which made building a digest ten times slower. The
    addresses are written here instead (see the module's docstring). Building
    never fails on an address: sending says what is wrong with it.
    """
    from_header, sender, domain, sender_utf8, problem = _sender(config["MAIL_FROM"])
    try:
        recipient, international = wire_address(to)
        to_header = recipient if not international else raw_utf8(recipient)
    except AddressRefused as e:
        recipient, international, to_header = "", False, NO_RECIPIENT
        problem = problem or e
    msg = MIMEMultipart("alternative")
    msg["From"] = from_header
    msg["To"] = to_header
    msg["Subject"] = Header(" ".join(subject.split()), "utf-8")
    msg["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
    msg["Message-ID"] = message_id(key, domain) if key else make_msgid(domain=domain)
    msg["Feedback-ID"] = feedback_id(send, domain)
    if contact:
        msg[REF_HEADER] = reference(config["SECRET_KEY"], contact, send)
    for header, value in (headers or {}).items():
        msg[header] = value
    msg.attach(text_part(text, "plain"))
    msg.attach(text_part(css_inline.inline(html) if inline_css else html, "html"))
    msg.envelope = Envelope(  # type: ignore[attr-defined]
        sender,
        (recipient,) if recipient else (),
        str(to),
        international,
        sender_utf8,
        problem,
    )
    return msg


def envelope_of(msg: Message, config: dict) -> Envelope:
    """The envelope build() worked out; for a message built elsewhere, read
    from its headers (From, To, Cc) by the same rules."""
    known = getattr(msg, "envelope", None)
    if isinstance(known, Envelope):
        return known
    _, sender, _, sender_utf8, problem = _sender(config["MAIL_FROM"])
    shown = header_text(msg.get("To", ""))
    found = [header_text(v) for name in ("To", "Cc") for v in msg.get_all(name, [])]
    recipients, international = [], False
    for _, address in getaddresses(found):
        try:
            wire, utf8 = wire_address(address)
        except AddressRefused as e:
            problem = problem or e
            continue
        recipients.append(wire)
        international = international or utf8
    if not recipients and problem is None:
        problem = AddressRefused("the message has no recipient", shown)
    return Envelope(
        sender, tuple(recipients), shown, international, sender_utf8, problem
    )


def as_bytes(msg: Message, linesep: str = "\n") -> bytes:
    """The message as it is written or sent (address headers in raw UTF-8 when
    international; everything else 7-bit)."""
    out = BytesIO()
    BytesGenerator(out).flatten(msg, linesep=linesep)
    return out.getvalue()


def html_part(msg: Message) -> str:
    """Return the decoded HTML alternative of a message built here."""
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode(
                part.get_content_charset() or "utf-8"
            )
    return ""


# ---- finding a person's mail, however their address was written -------------


def address_forms(address: str) -> set[str]:
    """The ways one address may be written in a message, lowercased: as
    stored, with its domain in IDNA (`xn--`) form, and in Unicode."""
    local, _, domain = address.rpartition("@")
    forms = {address}
    for convert in (idna.encode, idna.decode):
        try:
            converted = convert(domain, uts46=True)
        except (idna.IDNAError, UnicodeError, ValueError):
            continue
        if isinstance(converted, bytes):
            converted = converted.decode("ascii")
        forms.add(f"{local}@{converted}")
    return {unicodedata.normalize("NFC", form).lower() for form in forms if form}


def message_text(data: bytes) -> str:
    """Every header (encoded words and raw UTF-8 decoded) and every text part
    (transfer encoding undone) of an .eml, lowercased, for searching."""
    msg = message_from_bytes(data)
    found = []
    for _, value in msg.raw_items():  # items() would hide raw UTF-8
        text = header_text(value)
        try:
            text = str(make_header(decode_header(text)))
        except (LookupError, UnicodeError, ValueError):
            pass
        found.append(text)
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        try:
            found.append(payload.decode(charset, "replace"))
        except LookupError:
            found.append(payload.decode("utf-8", "replace"))
    return unicodedata.normalize("NFC", "\n".join(found)).lower()


def names(data: bytes, address: str) -> bool:
    """True if an .eml is to, from or about address, in any of its forms: the
    domain in IDNA or Unicode, the address as an RFC 2047 encoded word, in raw
    UTF-8, or inside a base64 or quoted-printable body."""
    forms = address_forms(address)
    lowered = data.lower()
    if any(form.encode("utf-8") in lowered for form in forms):
        return True
    text = message_text(data)
    return any(form in text for form in forms)
