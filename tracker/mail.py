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
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, make_msgid, parseaddr

import css_inline

from .storage.files import atomic_write

log = logging.getLogger(__name__)

# Quoted-printable keeps mostly-ASCII bodies readable, as mail clients send them.
UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP


class MailError(RuntimeError):
    """A message could not be handed to the mail server."""


def build(
    config: dict,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: dict[str, str] | None = None,
    inline_css: bool = True,
) -> Message:
    """Return a multipart/alternative message with the HTML's CSS inlined.

    Built with email.mime's compat32 policy: the modern policy parses every
    header it is given, which made building a digest ten times slower.
    """
    sender = config["MAIL_FROM"]
    name, address = parseaddr(sender)
    domain = address.rpartition("@")[2] or "localhost"
    msg = MIMEMultipart("alternative")
    msg["From"] = formataddr((name, address), charset="utf-8")
    msg["To"] = to
    msg["Subject"] = Header(" ".join(subject.split()), "utf-8")
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=domain)
    for header, value in (headers or {}).items():
        msg[header] = value
    msg.attach(MIMEText(text, "plain", "utf-8"))
    msg.attach(
        MIMEText(css_inline.inline(html) if inline_css else html, "html", "utf-8")
    )
    return msg


def html_part(msg: Message) -> str:
    """Return the decoded HTML alternative of a message built here."""
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode(
                part.get_content_charset() or "utf-8"
            )
    return ""


class Mailer:
    """Sends over one SMTP connection, opened on first use; or writes to the outbox."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def send(self, msg: Message) -> None:
        if not self.config.get("SMTP_HOST"):
            self._to_outbox(msg)
            return
        try:
            self._connection().send_message(msg)
        except (smtplib.SMTPException, OSError) as e:
            self.close()
            raise MailError(f"could not send to {msg['To']}: {e}") from e

    def _to_outbox(self, msg: Message) -> None:
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


def send_one(config: dict, msg: Message) -> None:
    """Send a single transactional message on a connection of its own."""
    with Mailer(config) as mailer:
        mailer.send(msg)
