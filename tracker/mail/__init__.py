"""Email: building messages (message.py) and sending them (send.py).

The names callers use are here: `build` a message, `send_one` it or send many
over one `Mailer`; every failure is a `MailError` (`AddressRefused` for one
recipient). Also here: the digest, the owner's report and the send lease.
"""

from __future__ import annotations

from .message import (
    AddressRefused,
    Envelope,
    MailError,
    address_forms,
    as_bytes,
    build,
    display_name,
    envelope_of,
    header_text,
    html_part,
    mailbox,
    message_text,
    names,
    raw_utf8,
    wire_address,
)
from .send import Mailer, check, send_one

__all__ = [
    "AddressRefused",
    "Envelope",
    "MailError",
    "Mailer",
    "address_forms",
    "as_bytes",
    "build",
    "check",
    "display_name",
    "envelope_of",
    "header_text",
    "html_part",
    "mailbox",
    "message_text",
    "names",
    "raw_utf8",
    "send_one",
    "wire_address",
]
