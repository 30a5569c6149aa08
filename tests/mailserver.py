"""A real SMTP server (aiosmtpd) that keeps each envelope: who it was from and
to, with which options (SMTPUTF8), and the message's own bytes. It can offer
SMTPUTF8 or not, and refuse chosen recipients at RCPT."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from aiosmtpd.controller import Controller

from .sites import free_port


@dataclass
class Delivery:
    mail_from: str
    rcpt_tos: list[str]
    mail_options: list[str]
    content: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.content, policy=email.policy.default)

    def header(self, name: str) -> bytes:
        """The header's raw line(s) as sent, unfolded."""
        head = self.content.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ")
        for line in head.split(b"\r\n"):
            if line.lower().startswith(name.lower().encode() + b":"):
                return line.split(b":", 1)[1].strip()
        raise KeyError(name)


class Recorder:
    """Keeps every accepted message; answers `refuse[address]` to RCPT TO."""

    def __init__(self, refuse: dict[str, str] | None = None) -> None:
        self.refuse = dict(refuse or {})
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            self.deliveries.append(
                Delivery(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    list(envelope.mail_options),
                    envelope.original_content or envelope.content,
                )
            )
        return "250 OK"

    def to(self, address: str) -> list[Delivery]:
        return [d for d in self.deliveries if address in d.rcpt_tos]

    @property
    def recipients(self) -> list[str]:
        return sorted(a for d in self.deliveries for a in d.rcpt_tos)


@contextlib.contextmanager
def mail_server(
    smtputf8: bool, refuse: dict[str, str] | None = None
) -> Iterator[tuple[Recorder, int]]:
    """Run a server on a free port; yield its recorder and port."""
    recorder = Recorder(refuse)
    controller = Controller(
        recorder, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=smtputf8
    )
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


class Inbox:
    """An SMTP handler that keeps what it accepted; it can kill the sender mid-run."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.kill_at = None  # (count, pid): kill the sender before accepting that one
        self.kill_after = None  # (count, pid): accept that one, then kill the sender

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        with self.lock:
            if self.kill_at and len(self.messages) + 1 == self.kill_at[0]:
                os.kill(self.kill_at[1], signal.SIGKILL)
                self.kill_at = None
                return "451 Try again later"
            parsed = email.message_from_bytes(
                envelope.content, policy=email.policy.default
            )
            self.messages.append(parsed)
            if self.kill_after and len(self.messages) == self.kill_after[0]:
                # Delivered, but the sender dies before it hears so.
                os.kill(self.kill_after[1], signal.SIGKILL)
                self.kill_after = None
        return "250 OK"

    def to(self, address):
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()
