"""Send built messages over SMTP, or into the outbox when no SMTP host is set.

With no SMTP host configured, messages go to `<data dir>/outbox/` as `.eml`
files instead, and the log says where: development needs no mail server.
A recipient whose address needs SMTPUTF8 can only be reached through a server
that offers it; any other server cannot reach that recipient, and the send
says so (AddressRefused) while everyone else's mail goes on.

Every failure is a MailError: `permanent` tells a refusal that will not
change on its own (this address, a 5xx) from one worth trying again later.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from email.message import Message
from itertools import count

from .. import clock, datadir
from ..storage.files import atomic_write
from .message import AddressRefused, Envelope, MailError, as_bytes, envelope_of

log = logging.getLogger(__name__)


def check(msg: Message, config: dict, smtputf8: bool = True) -> Envelope:
    """Return the message's envelope, or raise the MailError that stops it."""
    envelope = envelope_of(msg, config)
    if envelope.problem is not None:
        raise envelope.problem
    if not smtputf8 and envelope.sender_international:
        raise MailError(
            "the mail server does not offer SMTPUTF8, which the sender address "
            "(POLKU_MAIL_FROM) needs for its non-ASCII characters before the @",
            envelope.shown,
        )
    if not smtputf8 and envelope.international:
        raise AddressRefused(
            "the mail server does not offer SMTPUTF8, which an address with "
            "non-ASCII characters before the @ needs",
            envelope.shown,
        )
    return envelope


_outbox_order = count()


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
        """Send one message; raise MailError (AddressRefused: this recipient's
        alone, the connection stays usable for the next one)."""
        envelope = check(msg, self.config)
        if not self.config.get("SMTP_HOST"):
            self._to_outbox(msg)
            return
        try:
            smtp = self._connection()
            envelope = check(msg, self.config, smtputf8=smtp.has_extn("smtputf8"))
            options = []
            if envelope.international or envelope.sender_international:
                options.append("SMTPUTF8")
                if smtp.has_extn("8bitmime"):
                    options.append("BODY=8BITMIME")
            smtp.sendmail(
                envelope.sender,
                list(envelope.recipients),
                as_bytes(msg, "\r\n"),
                mail_options=options,
            )
        except MailError:
            raise
        except smtplib.SMTPRecipientsRefused as e:
            code, reply = next(iter(e.recipients.values()))
            raise AddressRefused(
                f"the mail server refused the address ({code} {_text(reply)})",
                envelope.shown,
                permanent=code >= 500,
                smtp=(code, _text(reply)),
            ) from e
        except smtplib.SMTPDataError as e:
            raise MailError(
                f"the mail server refused the message ({e.smtp_code} "
                f"{_text(e.smtp_error)})",
                envelope.shown,
                permanent=e.smtp_code >= 500,
                smtp=(e.smtp_code, _text(e.smtp_error)),
            ) from e
        except (smtplib.SMTPException, OSError) as e:
            self.close()
            raise MailError(str(e) or type(e).__name__, envelope.shown) from e

    def _to_outbox(self, msg: Message) -> None:
        outbox = datadir.path(self.config["DATA_DIR"], datadir.OUTBOX)
        stamp = f"{clock.now():%Y%m%dT%H%M%S.%f}{next(_outbox_order) % 1000:03d}"
        name = f"{stamp}-{msg['Message-ID'].strip('<>')}.eml"
        path = os.path.join(outbox, name.replace("/", "_"))
        atomic_write(path, as_bytes(msg))
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


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
