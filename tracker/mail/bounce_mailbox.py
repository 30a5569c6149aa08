"""The bounce mailbox over IMAP: read what came in, apply it, then mark it read.

Only unseen messages are read, fetched with BODY.PEEK so that reading marks
nothing. A message whose reports were applied (or had been: a replay) is
marked \\Seen only after they are: a crash in between leaves it unseen, the
next fetch reads it again, and `bounces.apply` applies each report once.

Everything else stays unseen: it is the owner's mail (an automatic reply, a
customer's answer, a bounce about an address Polku never mailed, a policy
block, which is reported as an alert). So that it is not read again on every
fetch, it gets the IMAP keyword `PolkuRead`, which mail programs do not show
as read; a server that keeps no keywords has it read again, harmlessly.

imap-tools opens the connection, logs in and selects the folder (its errors
and the folder name's modified UTF-7); the commands themselves go through its
imaplib client, as its own `flag()` also expunges the folder, and the owner's
deleted mail is not Polku's to remove.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field

from imap_tools import MailBox, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError, MailboxLoginError

from ..storage import Storage
from . import bounces, inbound

KEYWORD = "PolkuRead"
SEEN = "\\Seen"
TIMEOUT = 30.0
REQUIRED = ("BOUNCE_IMAP_HOST", "BOUNCE_IMAP_USER", "BOUNCE_IMAP_PASSWORD")


class MailboxError(RuntimeError):
    """The bounce mailbox cannot be read (settings, connection, login, folder)."""


def _on(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in {"", "0", "false", "no", "off"}
    return bool(value)


@dataclass(frozen=True)
class Account:
    """Where the bounce mailbox is and how to log in."""

    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    ssl: bool = True

    @classmethod
    def from_config(cls, config) -> Account:
        """The POLKU_BOUNCE_IMAP_* settings; MailboxError names any missing."""
        missing = [f"POLKU_{n}" for n in REQUIRED if not str(config.get(n) or "")]
        if missing:
            raise MailboxError(
                "the bounce mailbox is not set: set " + ", ".join(missing)
            )
        try:
            port = int(config.get("BOUNCE_IMAP_PORT") or 993)
        except (TypeError, ValueError):
            raise MailboxError("POLKU_BOUNCE_IMAP_PORT is not a number") from None
        return cls(
            host=str(config["BOUNCE_IMAP_HOST"]),
            port=port,
            user=str(config["BOUNCE_IMAP_USER"]),
            password=str(config["BOUNCE_IMAP_PASSWORD"]),
            folder=str(config.get("BOUNCE_IMAP_FOLDER") or "INBOX"),
            ssl=_on(config.get("BOUNCE_IMAP_SSL", True)),
        )


@dataclass
class Fetched:
    """What one fetch did: messages read, reports by outcome, mail left alone."""

    read: int = 0
    applied: int = 0
    replayed: int = 0
    unknown: int = 0
    left: int = 0
    blocked: list[str] = field(default_factory=list)


@contextlib.contextmanager
def connect(account: Account, timeout: float = TIMEOUT) -> Iterator[imaplib.IMAP4]:
    """An imaplib client logged in, with the folder selected (read-write)."""
    where = f"{account.host}:{account.port}"
    try:
        if account.ssl:
            context = ssl.create_default_context()
            box = MailBox(account.host, account.port, timeout, ssl_context=context)
        else:
            box = MailBoxUnencrypted(account.host, account.port, timeout)
    except (OSError, imaplib.IMAP4.error) as e:
        raise MailboxError(f"cannot reach the IMAP server {where}: {e}") from None
    try:
        try:
            box.login(account.user, account.password, initial_folder=None)
        except (MailboxLoginError, imaplib.IMAP4.error):
            raise MailboxError(
                f"the IMAP server {where} refused the login of {account.user!r}"
            ) from None
        try:
            box.folder.set(account.folder)
        except ImapToolsError:
            raise MailboxError(
                f"the IMAP server {where} has no folder {account.folder!r}"
            ) from None
        yield box.client
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error, ImapToolsError):
            box.logout()


def _command(client: imaplib.IMAP4, command: str, *args: str) -> list:
    """One UID command's data; MailboxError when it fails or the line drops."""
    try:
        typ, data = client.uid(command, *args)
    except (OSError, imaplib.IMAP4.error) as e:
        raise MailboxError(f"the IMAP server failed at {command}: {e}") from None
    if typ != "OK":
        raise MailboxError(f"the IMAP server refused {command}: {data!r}")
    return data


def unread(client: imaplib.IMAP4) -> list[str]:
    """UIDs of the unseen messages no fetch has read yet."""
    data = _command(client, "SEARCH", "UNSEEN", "UNKEYWORD", KEYWORD)
    return data[0].decode().split() if data and data[0] else []


def body(client: imaplib.IMAP4, uid: str) -> bytes | None:
    """The whole message, read without marking it seen (None: it is gone)."""
    data = _command(client, "FETCH", uid, "(BODY.PEEK[])")
    for item in data:
        if isinstance(item, tuple) and re.search(rb"BODY\[\]", item[0]):
            return item[1]
    return None


def mark(client: imaplib.IMAP4, uid: str, *flags: str) -> None:
    _command(client, "STORE", uid, "+FLAGS.SILENT", f"({' '.join(flags)})")


def fetch(
    account: Account, storage: Storage, secret: str, timeout: float = TIMEOUT
) -> Fetched:
    """Read the unseen messages, apply their reports, mark what was applied."""
    done = Fetched()
    with connect(account, timeout) as client:
        for uid in unread(client):
            raw = body(client, uid)
            if raw is None:
                continue
            done.read += 1
            reading = inbound.read(raw)
            outcomes = [
                bounces.apply(storage, secret, r, by_address=False)
                for r in reading.reports
            ]
            done.applied += outcomes.count(bounces.APPLIED)
            done.replayed += outcomes.count(bounces.REPLAYED)
            done.unknown += outcomes.count(bounces.UNKNOWN)
            done.blocked.extend(reading.blocked)
            if not reading.reports and not reading.blocked:
                done.left += 1
            ours = {bounces.APPLIED, bounces.REPLAYED} & set(outcomes)
            mark(client, uid, KEYWORD, *([SEEN] if ours else []))
    return done
