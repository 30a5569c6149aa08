"""Crash-safe file primitives shared by the embedded backend."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tinydb.storages import Storage as TinyStorage

from .base import StorageUnavailable

UNAVAILABLE = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EPERM}


def unavailable(e: OSError) -> StorageUnavailable:
    """Translate a disk-full or read-only error into the 503 the tracker answers."""
    reason = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EROFS: "the data directory is read-only",
    }.get(e.errno, "the data directory is not writable")
    return StorageUnavailable(f"Cannot store data now: {reason}. Try again shortly.")


@contextmanager
def writable() -> Iterator[None]:
    """Turn the errors of a full or read-only disk into StorageUnavailable."""
    try:
        yield
    except OSError as e:
        if e.errno in UNAVAILABLE:
            raise unavailable(e) from e
        raise


def fsync_dir(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str, data: bytes) -> None:
    """Replace path with data; a crash leaves the old or the new file, never half."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


@contextmanager
def file_lock(path: str) -> Iterator[None]:
    """Hold an exclusive lock between processes and threads (flock per open)."""
    with writable():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


class AtomicJSONStorage(TinyStorage):
    """TinyDB storage that replaces its file atomically and fsyncs it.

    TinyDB's JSONStorage truncates and rewrites in place: a crash mid-write
    leaves a file that no longer opens. This one never does.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def read(self) -> dict[str, Any] | None:
        try:
            with open(self.path, "rb") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def write(self, data: dict[str, Any]) -> None:
        atomic_write(self.path, json.dumps(data, separators=(",", ":")).encode())
