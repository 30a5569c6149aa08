"""Append-only journals of JSON lines: the durable path for every write.

`Journal` (observations, ledgers): each writer (one per process) appends to
files of its own, one per month:
`<root>/<YYYY-MM>/<writer>.jsonl`. A record is handed to the operating system
in a single `write()` on an `O_APPEND` descriptor before the caller
acknowledges it, so a `kill -9` at any instant loses nothing acknowledged; the
cost is constant however large the journal grows. `fdatasync` runs either
before returning (`sync=True`, for a person's decisions) or from a background
flusher at least every `flush_interval` seconds (pageviews).

Readers keep a byte offset per file and read only what is new. A crash can
leave a half-written last line; it never gets a newline, so readers never
pass it, and no other writer ever appends to that file.

A person's decisions have a journal of their own: see people_journal.py.
"""

from __future__ import annotations

import logging
import mmap
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"
CHUNK = 4 << 20


def new_writer_id() -> str:
    """Return an id unique to this process: host, pid and a random part."""
    host = socket.gethostname().split(".")[0] or "host"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


def blanked(needle: bytes) -> bytes:
    """The same-length stand-in for an erased id (never a valid hex id)."""
    return b"x" * len(needle)


def encode(record: dict[str, Any]) -> bytes:
    """One compact JSON line (orjson: the journal is read far more than written)."""
    return orjson.dumps(record) + b"\n"


@dataclass
class Journal:
    root: str
    flush_interval: float = 1.0
    writer: str = field(default_factory=new_writer_id)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, int] = {}  # month -> fd
        self._sizes: dict[int, int] = {}  # fd -> bytes written (no fstat per append)
        self._dirty: set[int] = set()
        self._pid = os.getpid()
        self._flusher: threading.Thread | None = None
        self._stop = threading.Event()

    # -- writing -------------------------------------------------------------

    def append(self, record: dict[str, Any], month: str, sync: bool = False) -> None:
        """Append one record to this writer's file for month, in one write()."""
        data = encode(record)
        with self._lock:
            self._check_fork()
            fd = self._open(month)
            size = self._sizes[fd]
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(28, "short write")
                self._sizes[fd] = size + written
                if sync:
                    os.fdatasync(fd)
                    self._dirty.discard(fd)
                else:
                    self._dirty.add(fd)
            except OSError:
                # Never leave half a line behind for the next record to join.
                os.ftruncate(fd, size)
                raise
        if not sync:
            self._ensure_flusher()

    def flush(self) -> None:
        """fdatasync every file written since the last flush."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
            for fd in dirty:
                try:
                    os.fdatasync(fd)
                except OSError as e:  # a full disk must not kill the flusher
                    log.error("journal flush failed: %s", e)
                    self._dirty.add(fd)

    def close(self) -> None:
        self._stop.set()
        if self._flusher and self._flusher is not threading.current_thread():
            self._flusher.join(timeout=5)
        self.flush()
        with self._lock:
            for fd in self._files.values():
                os.close(fd)
            self._files.clear()

    def _open(self, month: str) -> int:
        fd = self._files.get(month)
        if fd is None:
            folder = os.path.join(self.root, month)
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, self.writer + SUFFIX)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._files[month] = fd
            self._sizes[fd] = os.fstat(fd).st_size  # only this writer appends
        return fd

    def _check_fork(self) -> None:
        """A forked child writes to files of its own, never to its parent's."""
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._files = {}
            self._sizes = {}
            self._dirty = set()
            self._flusher = None
            self._stop = threading.Event()
            self.writer = new_writer_id()

    def _ensure_flusher(self) -> None:
        if self._flusher is None or not self._flusher.is_alive():
            self._flusher = threading.Thread(
                target=self._flush_loop, name="polku-journal-flush", daemon=True
            )
            self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self.flush()

    # -- reading -------------------------------------------------------------

    def files(self, months: set[str] | None = None) -> list[str]:
        """Return every journal file (relative to root), oldest month first."""
        if not os.path.isdir(self.root):
            return []
        found = []
        for month in sorted(os.listdir(self.root)):
            if months is not None and month not in months:
                continue
            folder = os.path.join(self.root, month)
            if os.path.isdir(folder):
                found += [
                    f"{month}/{name}"
                    for name in sorted(os.listdir(folder))
                    if name.endswith(SUFFIX)
                ]
        return found

    def read(
        self,
        offsets: dict[str, int] | None = None,
        months: set[str] | None = None,
        needles: tuple[bytes, ...] = (),
    ) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """Yield (file, offset after the line, record) for each complete new line.

        With needles, only lines containing one of them are parsed: a scan for a
        few visitor ids then costs little more than reading the bytes.
        """
        for name in self.files(months):
            yield from self._read_file(name, (offsets or {}).get(name, 0), needles)

    def blank(self, needle: bytes) -> int:
        """Overwrite needle wherever it occurs, in place, at the same length.

        How an erased person's id leaves records that stay (an email click, a
        send ledger): offsets that readers keep stay valid, and writers still
        appending lose nothing, which a rewrite-and-replace could not promise.
        Returns how many occurrences were overwritten.
        """
        placeholder, count = blanked(needle), 0
        for name in self.files():
            with open(os.path.join(self.root, name), "r+b") as f:
                if os.fstat(f.fileno()).st_size == 0:
                    continue
                with mmap.mmap(f.fileno(), 0) as data:
                    at = data.find(needle)
                    while at != -1:
                        data[at : at + len(needle)] = placeholder
                        count += 1
                        at = data.find(needle, at + len(needle))
                    data.flush()
        return count

    def reopen(self) -> None:
        """Close this writer's files so the next append opens them anew."""
        with self._lock:
            for fd in self._files.values():
                os.close(fd)
            self._files.clear()
            self._dirty.clear()

    def _read_file(
        self, name: str, start: int, needles: tuple[bytes, ...]
    ) -> Iterator[tuple[str, int, dict]]:
        return read_lines(self.root, name, start, needles)


def read_lines(
    root: str, name: str, start: int, needles: tuple[bytes, ...] = ()
) -> Iterator[tuple[str, int, dict]]:
    """Yield (name, offset after the line, record) for root/name's complete lines."""
    path = os.path.join(root, name)
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    with f:
        f.seek(start)
        base, rest = start, b""
        while chunk := f.read(CHUNK):
            data = rest + chunk
            end = data.rfind(b"\n") + 1
            rest = data[end:]
            for first, stop in _spans(data, end, needles):
                try:
                    record = orjson.loads(data[first:stop])
                except ValueError:
                    at = base + stop
                    log.error("journal %s: skipping a damaged line at %d", name, at)
                    continue
                yield name, base + stop, record
            base += end


def _spans(data: bytes, end: int, needles: tuple[bytes, ...]) -> Iterator[tuple]:
    """Yield (start, stop) of the complete lines in data[:end], in order.

    With needles, only the lines holding one: `bytes.find` skips through the
    rest at memory speed instead of splitting every line.
    """
    if not needles:
        first = 0
        while first < end:
            stop = data.index(b"\n", first) + 1
            yield first, stop
            first = stop
        return
    starts: set[int] = set()
    for needle in needles:
        at = data.find(needle, 0, end)
        while at != -1:
            starts.add(data.rfind(b"\n", 0, at) + 1)
            at = data.find(needle, data.index(b"\n", at) + 1, end)
    for first in sorted(starts):
        yield first, data.index(b"\n", first) + 1
