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

`PeopleJournal` (a person's decisions): one journal shared by every process,
written only under the people lock, so that the order of its lines is the
order in which the decisions were made, whatever the clocks say.
"""

from __future__ import annotations

import errno
import heapq
import logging
import mmap
import os
import re
import secrets
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from .files import fsync_dir

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"
CHUNK = 4 << 20
SEGMENT = re.compile(r"\d{6}\.jsonl\Z")


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


class Rewound(Exception):
    """A journal file is shorter than a reader's offset: what it read is gone."""


class PeopleJournal:
    """The decisions of every process in one sequence of numbered segments.

    `<root>/000001.jsonl`, `000002.jsonl`...: a writer appends, under the
    people lock, to the newest segment, and begins the next one once that
    holds SEGMENT_BYTES. The order is (segment, offset): the order in which the
    lock was taken, never the records' timestamps (clocks are set, and jump).
    Segments bound what an erasure rewrites.

    Before each append the writer cuts off an unterminated last line: a
    writer killed mid-write left it, and it was never acknowledged. A
    transaction's records go in one write() and one fdatasync, so it is on
    disk whole or, cut off, not at all.
    """

    SEGMENT_BYTES = 64 << 20

    def __init__(self, root: str) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._segment = 0
        self._pid = os.getpid()

    @staticmethod
    def name(segment: int) -> str:
        return f"{segment:06d}{SUFFIX}"

    def files(self) -> list[str]:
        """The segments, oldest first."""
        try:
            return sorted(n for n in os.listdir(self.root) if SEGMENT.match(n))
        except FileNotFoundError:
            return []

    def read(
        self, offsets: dict[str, int] | None = None, needles: tuple[bytes, ...] = ()
    ) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """Yield (segment, offset after the line, record) for each new complete line.

        Raises Rewound when a segment is shorter than its offset (a write
        that failed after others had read it was cut off).
        """
        offsets = offsets or {}
        for name in self.files():
            start = offsets.get(name, 0)
            if start:
                try:
                    size = os.stat(os.path.join(self.root, name)).st_size
                except FileNotFoundError:
                    continue
                if size < start:
                    raise Rewound(name)
            yield from read_lines(self.root, name, start, needles)

    # -- writing (the caller holds the people lock) -------------------------------

    def append(self, records: list[dict[str, Any]]) -> None:
        """Append records in one write(), fdatasynced before returning.

        On failure they are cut off again; the OSError's `seen` says whether
        other processes may have read them whole meanwhile.
        """
        data = b"".join(encode(r) for r in records)
        with self._lock:
            if os.getpid() != self._pid:  # a forked child opens its own
                self._pid, self._fd = os.getpid(), None
            fd = self._current()
            size, written = os.fstat(fd).st_size, 0
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(errno.ENOSPC, "short write")
                os.fdatasync(fd)
            except OSError as e:
                os.ftruncate(fd, size)  # unacknowledged: never half a line
                # Whole lines may have been read by then: the caller makes
                # every process fold the journal anew.
                e.seen = written == len(data)
                raise

    def _current(self) -> int:
        """The newest segment's descriptor, its torn tail cut, begun anew if full."""
        if self._fd is not None and os.path.exists(self._path(self._segment + 1)):
            self._close()  # another process began the next segment
        if self._fd is None:
            names = self.files()
            self._open(int(names[-1][:6]) if names else 1)
        cut_torn_tail(self._fd, self._path(self._segment))
        if os.fstat(self._fd).st_size >= self.SEGMENT_BYTES:
            self._close()
            self._open(self._segment + 1)
        return self._fd

    def _path(self, segment: int) -> str:
        return os.path.join(self.root, self.name(segment))

    def _open(self, segment: int) -> None:
        if not os.path.isdir(self.root):
            os.makedirs(self.root, exist_ok=True)
            fsync_dir(os.path.dirname(self.root))
        path = self._path(segment)
        created = not os.path.exists(path)
        self._fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        self._segment = segment
        if created:
            fsync_dir(self.root)  # the new name survives a power loss too

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def reopen(self) -> None:
        """Close the descriptor so the next append opens the newest segment anew."""
        with self._lock:
            if os.getpid() == self._pid:
                self._close()
            self._fd = None

    def close(self) -> None:
        self.reopen()

    # -- the per-writer layout of earlier versions --------------------------------

    def legacy_files(self) -> list[str]:
        """`<month>/<writer>.jsonl` files, as earlier versions wrote decisions."""
        try:
            entries = os.listdir(self.root)
        except FileNotFoundError:
            return []
        found = []
        for entry in sorted(entries):
            folder = os.path.join(self.root, entry)
            if SEGMENT.match(entry) or not os.path.isdir(folder):
                continue
            found += [
                f"{entry}/{n}" for n in sorted(os.listdir(folder)) if n.endswith(SUFFIX)
            ]
        return found

    def read_legacy(self) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """The old per-writer files' records merged by time, for a directory
        that cannot be converted; they take the place of one offset."""
        for line in merged(self.root, self.legacy_files()):
            yield "legacy", 1, orjson.loads(line)

    def needs_upgrade(self) -> bool:
        """True if there are old-layout files, or a conversion was cut short."""
        return (
            os.path.exists(self.root + ".new")
            or os.path.exists(self.root + ".old")
            or bool(self.legacy_files())
        )

    def upgrade(self) -> bool:
        """Bring the old per-writer files into the segments (under the people lock).

        Their records are merged by timestamp, the best order they carry, and
        follow the segments already there. The new journal is built beside
        the old one (`people.new`: the segments linked, the merged records
        after them), then put in its place by two renames; a crash anywhere
        leaves a state the next call finishes or starts again. Returns
        whether anything changed: the caller then bumps the generation, so
        that every process folds the journal anew and reopens its segment.
        """
        new, old = self.root + ".new", self.root + ".old"
        parent = os.path.dirname(self.root)
        changed = False
        if os.path.isdir(new) and not os.path.exists(self.root):
            os.rename(new, self.root)  # cut short between the two renames
            fsync_dir(parent)
            changed = True
        if os.path.exists(new):
            shutil.rmtree(new)  # half built: the old files are all still there
        if os.path.exists(old):
            shutil.rmtree(old)
            changed = True
        legacy = self.legacy_files()
        if not legacy:
            return changed
        self.reopen()
        os.makedirs(new)
        segments = self.files()
        for name in segments:
            os.link(os.path.join(self.root, name), os.path.join(new, name))
        first = int(segments[-1][:6]) + 1 if segments else 1
        count = write_segments(new, first, merged(self.root, legacy), self)
        fsync_dir(new)
        os.rename(self.root, old)
        os.rename(new, self.root)
        fsync_dir(parent)
        shutil.rmtree(old)
        log.warning(
            "people journal: %d decisions from %d files of the per-writer layout "
            "merged into %s",
            count,
            len(legacy),
            self.root,
        )
        return True


def cut_torn_tail(fd: int, path: str) -> None:
    """Cut an unterminated last line off: a writer died in its write()."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    keep, end = 0, size
    while end > 0:
        start = max(0, end - CHUNK)
        at = os.pread(fd, end - start, start).rfind(b"\n")
        if at != -1:
            keep = start + at + 1
            break
        end = start
    log.warning("%s: cutting off %d bytes of an unfinished write", path, size - keep)
    os.ftruncate(fd, keep)


def merged(root: str, names: list[str]) -> Iterator[bytes]:
    """The complete lines of several files, merged by their records' `ts`.

    Each file keeps its own order (one writer's, which was true); between
    files, timestamps are all there is.
    """

    def lines(name: str) -> Iterator[tuple[str, bytes]]:
        with open(os.path.join(root, name), "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break  # a torn tail: never acknowledged
                try:
                    ts = str(orjson.loads(line).get("ts") or "")
                except (ValueError, AttributeError):
                    log.error("%s: skipping a damaged line", name)
                    continue
                yield ts, line

    for _, line in heapq.merge(*(lines(n) for n in names), key=lambda x: x[0]):
        yield line


def write_segments(
    folder: str, first: int, lines: Iterator[bytes], journal: PeopleJournal
) -> int:
    """Write lines into segments from number first on, each fsynced; count them."""
    count, f, segment = 0, None, first
    try:
        for line in lines:
            if f is None or f.tell() >= journal.SEGMENT_BYTES:
                if f is not None:
                    f.flush()
                    os.fsync(f.fileno())
                    f.close()
                    segment += 1
                f = open(os.path.join(folder, journal.name(segment)), "wb")  # noqa: SIM115
            f.write(line)
            count += 1
    finally:
        if f is not None:
            f.flush()
            os.fsync(f.fileno())
            f.close()
    return count
