"""The people journal: a person's decisions, in the one order every process sees.

One journal shared by every process, written only under the people lock, so
that the order of its lines is the order in which the decisions were made,
whatever the clocks say.
"""

from __future__ import annotations

import errno
import heapq
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import orjson

from .files import fsync_dir
from .journal import CHUNK, SUFFIX, encode, read_lines

log = logging.getLogger(__name__)
SEGMENT = re.compile(r"\d{6}\.jsonl\Z")


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
