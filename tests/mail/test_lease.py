"""One sender at a time: the lease, on every backend."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from tracker.mail import lease


def holder(pid: int, host: str = socket.gethostname(), **fields) -> dict:
    return {
        "owner": "someone-else",
        "host": host,
        "machine": lease.machine() if host == socket.gethostname() else host,
        "pid": pid,
        "since": "2026-11-23T10:00:00+00:00",
        "until": time.time() + 600,
        **fields,
    }


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process of this machine that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_second_holder_is_refused_until_the_first_lets_go(storage):
    with lease.held(storage, "job"):
        with pytest.raises(lease.Busy, match="another send is running"):
            with lease.held(storage, "job"):
                pass
    with lease.held(storage, "job"):  # released: free again
        pass
    assert storage.get_meta("job") is None


def test_a_live_process_keeps_its_lease(storage):
    storage.update_meta("job", lambda _: holder(os.getpid()))
    with pytest.raises(lease.Busy, match=f"process {os.getpid()}"):
        with lease.held(storage, "job"):
            pass
    assert storage.get_meta("job")["owner"] == "someone-else"  # untouched


def test_a_dead_process_on_this_machine_frees_it_at_once(storage, dead_pid):
    storage.update_meta("job", lambda _: holder(dead_pid))
    with lease.held(storage, "job") as mine:
        assert storage.get_meta("job")["owner"] == mine.me["owner"]


def test_a_container_with_the_same_host_name_is_another_machine(storage, dead_pid):
    """Its pids are not ours to judge: it keeps the lease until the term ends."""
    other = holder(dead_pid, machine=socket.gethostname() + "/another-boot/1")
    storage.update_meta("job", lambda _: other)
    with pytest.raises(lease.Busy):
        with lease.held(storage, "job"):
            pass


def test_another_machines_lease_lapses_after_its_term(storage, dead_pid):
    storage.update_meta("job", lambda _: holder(dead_pid, host="elsewhere"))
    with pytest.raises(lease.Busy):
        with lease.held(storage, "job"):
            pass
    storage.update_meta("job", lambda old: {**old, "until": time.time() - 1})
    with lease.held(storage, "job"):
        pass
