"""Build real emails (multipart text + HTML, CSS inlined) and send them.

With no SMTP host configured, messages go to `<data dir>/outbox/` as `.eml`
files instead, and the log says where: development needs no mail server.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import css_inline

from .storage.files import atomic_write

log = logging.getLogger(__name__)


class MailError(RuntimeError):
    """A message could not be handed to the mail server."""


def build(
    config: dict,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """Return a multipart/alternative message with the HTML's CSS inlined."""
    sender = config["MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=domain)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    msg.add_alternative(css_inline.inline(html), subtype="html")
    return msg


class Mailer:
    """Sends over one SMTP connection, opened on first use; or writes to the outbox."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, msg: EmailMessage) -> None:
        if not self.config.get("SMTP_HOST"):
            self._to_outbox(msg)
            return
        try:
            self._connection().send_message(msg)
        except (smtplib.SMTPException, OSError) as e:
            self.close()
            raise MailError(f"could not send to {msg['To']}: {e}") from e

    def _to_outbox(self, msg: EmailMessage) -> None:
        outbox = os.path.join(self.config["DATA_DIR"], "outbox")
        stamp = f"{time.strftime('%Y%m%dT%H%M%S')}.{time.time_ns() % 10**9:09d}"
        name = f"{stamp}-{msg['Message-ID'].strip('<>')}.eml"
        path = os.path.join(outbox, name.replace("/", "_"))
        atomic_write(path, bytes(msg))
        log.warning("No POLKU_SMTP_HOST set: wrote the email to %s", path)

    def _connection(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        host, port = self.config["SMTP_HOST"], int(self.config["SMTP_PORT"])
        context = ssl.create_default_context()
        if port == 465:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=20, context=context
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=20)
            smtp.ehlo()
            if self.config.get("SMTP_STARTTLS") and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
        if self.config.get("SMTP_USER"):
            smtp.login(self.config["SMTP_USER"], self.config.get("SMTP_PASSWORD", ""))
        self.smtp = smtp
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.smtp = None


def send_one(config: dict, msg: EmailMessage) -> None:
    """Send a single transactional message on a connection of its own."""
    with Mailer(config) as mailer:
        mailer.send(msg)
