"""A real IMAP server for the tests: Debian's Dovecot (`dovecot-imapd`, which
`make test` installs), a child process on a free port of 127.0.0.1 with its own
configuration and maildir in a temporary folder, one passwd-file user, plain
login over the loopback. Stopped, and its folder removed, when the test ends."""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .sites import free_port

DOVECOT = "/usr/sbin/dovecot"
HOST = "127.0.0.1"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{root}/home/%u/Maildir
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    log: Path

    def env(self, folder: str = "INBOX") -> dict[str, str]:
        """The POLKU_BOUNCE_IMAP_* settings that read this mailbox."""
        return {
            "POLKU_BOUNCE_IMAP_HOST": self.host,
            "POLKU_BOUNCE_IMAP_PORT": str(self.port),
            "POLKU_BOUNCE_IMAP_USER": self.user,
            "POLKU_BOUNCE_IMAP_PASSWORD": self.password,
            "POLKU_BOUNCE_IMAP_FOLDER": folder,
            "POLKU_BOUNCE_IMAP_SSL": "false",
        }

    @contextlib.contextmanager
    def session(self) -> Iterator[imaplib.IMAP4]:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            client.login(self.user, self.password)
            client.select("INBOX")
            yield client
        finally:
            client.logout()

    def deliver(self, raw: bytes) -> str:
        """Put one message in the INBOX, unseen, as a mail server would; its UID."""
        with self.session() as client:
            typ, data = client.append("INBOX", None, None, raw)
        assert typ == "OK", data
        return re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1).decode()

    def flags(self) -> dict[str, set[str]]:
        """Each message's UID and flags, as the owner's mail program sees them."""
        with self.session() as client:
            typ, data = client.uid("FETCH", "1:*", "(FLAGS)")
        found = {}
        for line in data:
            if not line:
                continue
            uid = re.search(rb"UID (\d+)", line).group(1).decode()
            flags = re.search(rb"FLAGS \(([^)]*)\)", line).group(1).decode().split()
            found[uid] = set(flags) - {"\\Recent"}
        return found


def _users() -> dict[str, object]:
    """Who runs what: Debian's dovecot users under root, else the caller."""
    if os.geteuid() == 0:
        mail = pwd.getpwnam("nobody")
        return {
            "login_user": "dovenull",
            "internal_user": "dovecot",
            "internal_group": "dovecot",
            "uid": mail.pw_uid,
            "gid": mail.pw_gid,
        }
    me = pwd.getpwuid(os.geteuid())
    return {
        "login_user": me.pw_name,
        "internal_user": me.pw_name,
        "internal_group": grp.getgrgid(me.pw_gid).gr_name,
        "uid": me.pw_uid,
        "gid": me.pw_gid,
    }


def _wait_for_greeting(host: str, port: int, proc, root: Path, timeout=20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            said = [
                (root / n).read_text(errors="replace")
                for n in ("stderr", "dovecot.log")
                if (root / n).exists()
            ]
            raise RuntimeError("dovecot stopped: " + "\n".join(said))
        try:
            with socket.create_connection((host, port), timeout=1) as s:
                if s.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"dovecot did not answer on {host}:{port}")
        time.sleep(0.05)


@contextlib.contextmanager
def imap_server(user: str = "bounces", password: str = "bounce-pw") -> Iterator:
    """Run Dovecot over a fresh maildir; yield the ImapServer."""
    if not os.path.exists(DOVECOT):
        raise RuntimeError(
            "Dovecot is missing: `make test` installs it (apt-get install "
            "dovecot-imapd)"
        )
    root = Path(tempfile.mkdtemp(prefix="polku-imap-"))
    root.chmod(0o755)  # the mail user (not the caller) reaches its maildir
    users = _users()
    port = free_port()
    (root / "home").mkdir()
    os.chown(root / "home", users["uid"], users["gid"])
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, host=HOST, port=port, **users))
    log = root / "dovecot.log"
    with open(root / "stderr", "wb") as stderr:
        proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)], stdout=stderr, stderr=stderr
        )
    try:
        _wait_for_greeting(HOST, port, proc, root)
        yield ImapServer(HOST, port, user, password, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(name="imap")
def imap_fixture():
    """A running Dovecot with an empty INBOX (import imap_fixture to use `imap`)."""
    with imap_server() as server:
        yield server
