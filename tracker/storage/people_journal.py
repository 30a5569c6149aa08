"""The people journal: a person's decisions, in the one order every process sees.

One journal shared by every process, written only under the people lock, so
that the order of its lines is the order in which the decisions were made,
whatever the clocks say. `Segments` reads it for one view of the people.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from typing import Any

from .files import fsync_dir
from .journal import CHUNK, SUFFIX, encode
from .people_lines import LINE_MAX, SEGMENT_MAX, line_of, pack, records, unpack

log = logging.getLogger(__name__)
SEGMENT = re.compile(r"\d{6}\.jsonl\Z")


class Rewound(Exception):
    """A journal file is shorter than a reader's offset: what it read is gone."""


def segment_files(root: str) -> list[str]:
    """The segments, oldest first."""
    try:
        return sorted(n for n in os.listdir(root) if SEGMENT.match(n))
    except FileNotFoundError:
        return []


class PeopleJournal:
    """The decisions of every process in one sequence of numbered segments.

    `<root>/000001.jsonl`, `000002.jsonl`...: a writer appends, under the
    people lock, to the newest segment, and begins the next one once that
    holds SEGMENT_BYTES. The order is (segment, offset): the order in which the
    lock was taken, never the records' timestamps (clocks are set, and jump).
    Segments bound what an erasure rewrites, and let compaction replace the
    older ones while writers go on in the newest.

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
        return segment_files(self.root)

    def size(self) -> int:
        """Bytes in every segment."""
        total = 0
        for name in self.files():
            try:
                total += os.stat(os.path.join(self.root, name)).st_size
            except FileNotFoundError:
                continue
        return total

    # -- writing (the caller holds the people lock) -------------------------------

    def append(self, records: list[dict[str, Any]]) -> None:
        """Append records in one write(), fdatasynced before returning.

        On failure they are cut off again; the OSError's `seen` says whether
        other processes may have read them whole meanwhile.
        """
        data = b"".join(encode(r) for r in records)
        if len(data) > LINE_MAX:
            raise OSError(errno.EFBIG, "a transaction larger than 256 MB")
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

    # -- replacing segments (the caller holds the people lock) --------------------

    def seal(self) -> list[str]:
        """Begin a new segment and return the ones before it, which from now on
        no writer appends to (writers move on to the newest)."""
        names = self.files()
        if not names:
            return []
        newest = os.path.join(self.root, names[-1])
        if os.stat(newest).st_size == 0:
            return names[:-1]
        self.reopen()
        path = self._path(int(names[-1][:6]) + 1)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        fsync_dir(self.root)
        return names

    def swap(self, built: str, keep: list[str]) -> None:
        """Put the segments in folder `built` in the journal's place, with the
        segments named in keep (linked, not copied).

        `people.new` is made whole and synced, then put in place by two
        renames; `recover` finishes whatever a crash cut short.
        """
        new, old = self.root + ".new", self.root + ".old"
        self.reopen()
        os.rename(built, new)
        for name in keep:
            os.link(os.path.join(self.root, name), os.path.join(new, name))
        fsync_dir(new)
        os.rename(self.root, old)
        os.rename(new, self.root)
        fsync_dir(os.path.dirname(self.root))
        shutil.rmtree(old)

    def cut_short(self) -> bool:
        """True if a swap was cut short by a crash."""
        return os.path.exists(self.root + ".new") or os.path.exists(self.root + ".old")

    def recover(self) -> bool:
        """Finish a swap a crash cut short; return whether the journal changed."""
        new, old = self.root + ".new", self.root + ".old"
        changed = False
        if os.path.isdir(new) and not os.path.exists(self.root):
            os.rename(new, self.root)  # cut short between the two renames
            fsync_dir(os.path.dirname(self.root))
            changed = True
        if os.path.exists(new):
            shutil.rmtree(new)  # half built: the old segments are all still there
        if os.path.exists(old):
            shutil.rmtree(old)
            changed = True
        return changed


class Segments:
    """The segment files as one view of the people reads them.

    Each file is opened once and read through that descriptor only, so every
    location the view keeps points into the bytes it folded, even after an
    erasure or a compaction put other files in their place (the view is then
    folded anew). Descriptors close with the last user of the view.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._fds: dict[str, int] = {}
        self._names: dict[int, str] = {}
        self._lock = threading.Lock()

    def _fd(self, name: str) -> int:
        fd = self._fds.get(name)
        if fd is None:
            with self._lock:
                fd = self._fds.get(name)
                if fd is None:
                    fd = os.open(os.path.join(self.root, name), os.O_RDONLY)
                    self._fds[name] = fd
        return fd

    def scan(
        self, offsets: dict[str, int], names: list[str] | None = None
    ) -> Iterator[tuple[str, int, int, dict[str, Any]]]:
        """Yield (segment, offset after the line, location, record) for every
        record of each complete line after offsets.

        Raises Rewound when a segment is shorter than its offset (a write
        that failed after others had read it was cut off).
        """
        for name in segment_files(self.root) if names is None else names:
            start = offsets.get(name, 0)
            try:
                fd = self._fd(name)
            except FileNotFoundError:
                continue
            if os.fstat(fd).st_size < start:
                raise Rewound(name)
            yield from self._lines(name, fd, start)

    def _lines(
        self, name: str, fd: int, start: int
    ) -> Iterator[tuple[str, int, int, dict[str, Any]]]:
        segment, base, rest = int(name[:6]), start, b""
        while chunk := os.pread(fd, CHUNK, base + len(rest)):
            data = rest + chunk
            end = data.rfind(b"\n") + 1
            first = 0
            while first < end:
                stop = data.index(b"\n", first) + 1
                if base + stop > SEGMENT_MAX:
                    raise OSError(errno.EFBIG, f"{name}: larger than a location holds")
                try:
                    found = records(data[first:stop])
                except ValueError as e:
                    log.error("%s: skipping a damaged line at %d: %s", name, base, e)
                    found = []
                at = pack(segment, base + first, stop - first)
                for index, record in enumerate(found):
                    if isinstance(record, dict):
                        yield name, base + stop, at | index, record
                first = stop
            rest = data[end:]
            base += end

    def read(self, locs: list[int]) -> list[dict[str, Any]]:
        """The records at these locations; each line is read and decoded once
        (a compacted contact's decisions and state: one read)."""
        lines: dict[int, list[dict[str, Any]]] = {}
        found = []
        for loc in locs:
            line = line_of(loc)
            group = lines.get(line)
            if group is None:
                group = lines[line] = self._records(loc)
            found.append(group[loc - line])
        return found

    def _records(self, loc: int) -> list[dict[str, Any]]:
        segment, start, length, _ = unpack(loc)
        name = self._names.get(segment)
        if name is None:
            name = self._names[segment] = PeopleJournal.name(segment)
        return records(os.pread(self._fd(name), length, start))

    def close(self) -> None:
        with self._lock:
            fds, self._fds = self._fds, {}
        for fd in fds.values():
            os.close(fd)

    def __del__(self) -> None:
        try:
            self.close()
        except (OSError, TypeError):  # at interpreter exit
            pass


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
