"""One holder at a time, across processes and machines: a lease in a meta document.

Two `polku digest --send` started together (an overlapping cron job, or one
on each of two machines over PostgreSQL) would each send everyone the digest:
the send ledger only stops a rerun, not a twin. The lease lets the first
through and tells the second who holds it. A holder that dies leaves its
lease behind: on the same machine a dead process frees it at once (a rerun
after a kill goes straight on); elsewhere it lapses `term` seconds after its
last renewal.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import clock
from ..storage import Storage

TERM = 120.0


class Busy(RuntimeError):
    """Someone else holds the lease."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, alive
    return True


def machine() -> str:
    """Where a pid means something: host name, boot and PID namespace.

    Containers may share a host name, never a boot and PID namespace both;
    without /proc (not Linux) the host name alone has to do.
    """
    parts = [socket.gethostname()]
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            parts.append(f.read().strip())
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    except OSError:
        pass
    return "/".join(parts)


def gone(holder: dict[str, Any]) -> bool:
    """True when the holder was a process of this machine that no longer runs."""
    return holder.get("machine") == machine() and not _alive(holder["pid"])


class Lease:
    def __init__(self, storage: Storage, key: str, term: float) -> None:
        self.storage, self.key, self.term = storage, key, term
        self.me = {
            "owner": secrets.token_hex(8),
            "host": socket.gethostname(),
            "machine": machine(),
            "pid": os.getpid(),
            "since": clock.now().isoformat(timespec="seconds"),
        }
        self.renewed = 0.0

    def renew(self) -> None:
        """Take or extend the lease; raise Busy if another live holder has it."""
        now = time.time()

        def claim(old: dict | None) -> dict:
            if (
                old is None
                or old.get("owner") == self.me["owner"]
                or old.get("until", 0) < now
                or gone(old)
            ):
                return {**self.me, "until": now + self.term}
            return old

        holder = self.storage.update_meta(self.key, claim)
        if holder["owner"] != self.me["owner"]:
            raise Busy(
                f"another send is running (on {holder['host']}, process "
                f"{holder['pid']}, since {holder['since']} UTC); try again when it "
                f"has finished, or {self.term:.0f} s after it stopped"
            )
        self.renewed = now

    def keep(self) -> None:
        """Renew when a quarter of the term has gone by (call it often)."""
        if time.time() - self.renewed > self.term / 4:
            self.renew()

    def release(self) -> None:
        mine = self.me["owner"]
        self.storage.update_meta(
            self.key, lambda old: None if old and old.get("owner") == mine else old
        )


@contextmanager
def held(storage: Storage, key: str, term: float = TERM) -> Iterator[Lease]:
    """Hold the lease for the block (Busy if someone else does)."""
    lease = Lease(storage, key, term)
    lease.renew()
    try:
        yield lease
    finally:
        lease.release()
