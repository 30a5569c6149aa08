"""What the journey benchmarks share: their command line, header, work dir and data."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import shutil
import socket
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime

from bench.seed import read_info, seed


def argument_parser(doc: str) -> argparse.ArgumentParser:
    """Return a parser whose help is the script's docstring."""
    return argparse.ArgumentParser(
        description=doc.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(doc.split("\n")[2:]),
    )


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Add --data (a seeded dir to reuse), --tmp and --keep."""
    parser.add_argument("--data", help="a data dir bench/seed.py wrote (reused)")
    parser.add_argument("--tmp", default=None, help="where to seed (a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the seeded dir")


def print_header(name: str) -> None:
    print(
        f"{name} benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; "
        "shared, noisy machine: figures from one run"
    )


@contextlib.contextmanager
def work_dir(prefix: str, tmp: str | None, keep: bool) -> Iterator[str]:
    """Make a temp dir for the run; remove it afterwards unless keep."""
    work = tempfile.mkdtemp(prefix=prefix, dir=tmp)
    try:
        yield work
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def seeded(
    data: str | None, work: str | None, events: int, contacts: int, **options
) -> tuple[str, dict]:
    """Return the data dir and its bench-seed.json: data reused, or seeded in work."""
    if data:
        data_dir = os.path.abspath(data)
        return data_dir, read_info(data_dir)
    data_dir = os.path.join(work, "var")
    return data_dir, seed(data_dir, events, contacts, **options)


def maxrss_mb() -> float:
    """The process's peak resident set size so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size now (VmRSS), in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    """A free TCP port on 127.0.0.1 for a server a benchmark starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
