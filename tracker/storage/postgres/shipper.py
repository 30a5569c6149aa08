"""Ship this server's observations journal into PostgreSQL, in batches, exactly once.

On the PostgreSQL backend a beacon is acknowledged once its line is in the
server's own journal (`<data>/journal/pg-events/<month>/<writer>.jsonl`,
written as on the embedded backend: handed to the OS before the answer,
fdatasynced within a second), which costs a request no database round trip.
The shipper copies the new lines into the events table:

- Every tracker process runs one, as a thread, every `interval` seconds. A
  file lock in the data directory lets one of them work at a time, and it
  ships every writer's files, so the files of a process that died (a
  `kill -9` too) are picked up by any process of the server, at the latest
  when the server starts again.
- Each file's shipped length is its row in `transfer_marks`, locked and moved
  in the same transaction as the file's rows: a shipper killed at any moment
  leaves the rows and the mark of its last commit, and the next one resumes
  from there. Every complete line lands once; a half-written last line (a
  writer killed mid-write, never acknowledged) never does.
- A read (the dashboard, a report, a timeline, a signup's attribution) ships
  what is pending first: a server sees its own events at once, and another
  server's within about a second.
- A file shipped to its end whose writer process has ended is deleted: the
  journal holds what is not in the database yet, not the history.

Lines are copied in COPY's text format built from the journal's bytes (the
whole line is the document), which costs a few microseconds per event.
"""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import socket
import threading
from datetime import UTC

import orjson
import psycopg

from ..files import writable
from ..journal import Journal
from .db import Database
from .events import Partitions, column, moment

log = logging.getLogger(__name__)

MARK = "ship/"  # transfer_marks' key: the journal's own, beside migrated files
BATCH_BYTES = 4 << 20
COPY = "COPY events (ts, type, visitor, contact, doc) FROM STDIN"
NULL = b"\\N"


def copy_text(value: str | None) -> bytes:
    """One column in COPY's text format."""
    if value is None:
        return NULL
    text = column(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text.encode()


def copy_rows(data: bytes, name: str) -> tuple[bytes, set[tuple[int, int]], int]:
    """(COPY text, UTC months, rows) for complete journal lines.

    The line itself is the document: compact JSON has no tab or newline, and
    only its backslashes need doubling. A damaged line is logged and passed.
    """
    out, months, count = [], set(), 0
    for line in data.splitlines():
        try:
            event = orjson.loads(line)
            at = moment(event["ts"]).astimezone(UTC)
        except (ValueError, KeyError, TypeError):
            log.error("journal %s: skipping a damaged line", name)
            continue
        months.add((at.year, at.month))
        out.append(
            b"\t".join(
                (
                    at.isoformat().encode(),
                    copy_text(event.get("type")) if event.get("type") else b"",
                    copy_text(event.get("visitor")),
                    copy_text(event.get("contact")),
                    line.replace(b"\\", b"\\\\"),
                )
            )
        )
        count += 1
    return b"\n".join(out) + b"\n" if out else b"", months, count


def writer_gone(writer: str) -> bool:
    """True when the process that wrote a file (`host-pid-random`) has ended.

    Only a writer of this host can be checked; another host's is kept.
    """
    host, _, rest = writer.rpartition("-")[0].rpartition("-")
    pid = rest if rest.isdigit() else ""
    if not pid or host != (socket.gethostname().split(".")[0] or "host"):
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


class Shipper:
    """Copies a journal's new lines into the events table; see the module."""

    def __init__(
        self,
        db: Database,
        partitions: Partitions,
        journal: Journal,
        lock_path: str,
        interval: float,
    ) -> None:
        self.db, self.partitions, self.journal = db, partitions, journal
        self.lock_path, self.interval = lock_path, interval
        self._shipped: dict[str, int] = {}  # file -> length known to be shipped
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pid = os.getpid()
        self._failing = False

    # -- running -------------------------------------------------------------

    def start(self) -> None:
        """Run the background thread in this process (a forked child starts its
        own); ship the rest when the process exits."""
        if self._thread is not None and self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._stop = os.getpid(), threading.Event()
                self._thread = None
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="polku-shipper", daemon=True
                )
                self._thread.start()
                atexit.register(self.close)

    def close(self) -> None:
        """Stop the thread and ship what is left (a database outage leaves it
        for the next start)."""
        self._stop.set()
        atexit.unregister(self.close)
        thread = self._thread
        if thread and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=10)
        try:
            self.ship()
        except Exception as e:  # noqa: BLE001 - the lines stay in the journal
            log.warning("events left in the journal for the next start: %s", e)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.ship(wait=False)
                if self._failing:
                    log.warning("shipping events into PostgreSQL again")
                self._failing = False
            except Exception as e:  # noqa: BLE001 - try again next time
                if not self._failing:
                    log.error("cannot ship events into PostgreSQL now: %s", e)
                self._failing = True

    # -- shipping ------------------------------------------------------------

    def ship(self, wait: bool = True) -> int:
        """Ship every pending line of every writer; return the rows added.

        Without wait, give up at once if another thread or process is at it.
        """
        if not self._lock.acquire(blocking=wait):
            return 0
        try:
            with writable():
                os.makedirs(os.path.dirname(self.lock_path), exist_ok=True)
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
                except BlockingIOError:
                    return 0
                return self._ship_all()
            finally:
                os.close(fd)  # closing releases the lock
        finally:
            self._lock.release()

    def _size(self, name: str) -> int:
        try:
            return os.path.getsize(os.path.join(self.journal.root, name))
        except FileNotFoundError:
            return 0

    def _ship_all(self) -> int:
        added = 0
        for name in self.journal.files():
            size = self._size(name)
            if size > self._shipped.get(name, -1):
                added += self._ship_file(name)
            self._forget_if_done(name)
        return added

    def _ship_file(self, name: str) -> int:
        """Ship one file from its mark to its last complete line, batch by batch."""
        added, key = 0, MARK + name
        with self.db.connect() as conn:
            conn.execute(
                'INSERT INTO transfer_marks (file, "offset") VALUES (%s, 0) '
                "ON CONFLICT DO NOTHING",
                [key],
            )
            while True:
                start = conn.execute(
                    'SELECT "offset" FROM transfer_marks WHERE file = %s', [key]
                ).fetchone()[0]
                data = self._read(name, start)
                if not data:
                    self._shipped[name] = start
                    return added
                rows, months, count = copy_rows(data, name)
                for month in sorted(months):
                    self.partitions.ensure(conn, month)
                if self._commit(conn, key, start, start + len(data), rows):
                    added += count
                    self._shipped[name] = start + len(data)

    def _commit(
        self, conn: psycopg.Connection, key: str, start: int, end: int, rows: bytes
    ) -> bool:
        """Add the rows and move the mark, in one transaction; False (nothing
        done) if another shipper moved the mark since it was read."""
        with conn.transaction():
            locked = conn.execute(
                'SELECT "offset" FROM transfer_marks WHERE file = %s FOR UPDATE', [key]
            ).fetchone()[0]
            if locked != start:
                return False
            if rows:
                with conn.cursor() as cur, cur.copy(COPY) as copy:
                    copy.write(rows)
            conn.execute(
                'UPDATE transfer_marks SET "offset" = %s WHERE file = %s', [end, key]
            )
        return True

    def _read(self, name: str, start: int) -> bytes:
        """Up to BATCH_BYTES of complete lines from start (a longer line whole)."""
        try:
            f = open(os.path.join(self.journal.root, name), "rb")  # noqa: SIM115
        except FileNotFoundError:
            return b""
        with f:
            f.seek(start)
            data = f.read(BATCH_BYTES)
            while data and b"\n" not in data:  # one line longer than a batch
                more = f.read(BATCH_BYTES)
                if not more:
                    break
                data += more
        return data[: data.rfind(b"\n") + 1]

    def _forget_if_done(self, name: str) -> None:
        """Delete a file shipped to its end whose writer has ended."""
        writer = os.path.basename(name).removesuffix(".jsonl")
        if writer == self.journal.writer or not writer_gone(writer):
            return
        if self._size(name) != self._shipped.get(name):
            return
        try:
            os.unlink(os.path.join(self.journal.root, name))
        except FileNotFoundError:
            pass
        self._shipped.pop(name, None)
