"""Long reads run a thread ahead of their caller, so the database works
while Python does (`reads`)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


_END = object()


def _put(batches: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Queue an item unless the reader stopped; False if it did."""
    while not stop.is_set():
        try:
            batches.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


class Ahead:
    """Items that another thread reads from the start, up to depth batches ahead.

    The database works on the next rows, and psycopg waits for them without
    the GIL, while the caller works on these; a read begun before the caller
    needs it (the people while the observations are counted) has its sorts
    done by then. The iterator runs, and is closed (its transaction ended),
    in that thread; so is it when this is closed or dropped, read or not.
    """

    def __init__(self, items: Iterator, size: int = 1000, depth: int = 8) -> None:
        self._batches: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._items: Iterator | None = None
        self._reader = threading.Thread(
            target=self._produce, args=(items, size), name="polku-read-ahead"
        )
        self._reader.daemon = True
        self._reader.start()

    def _produce(self, items: Iterator, size: int) -> None:
        batches, stop = self._batches, self._stop
        try:
            batch: list = []
            for item in items:
                batch.append(item)
                if len(batch) >= size:
                    if not _put(batches, batch, stop):
                        return
                    batch = []
            if _put(batches, batch, stop):
                _put(batches, _END, stop)
        except BaseException as e:  # noqa: BLE001 - raised again in the reader
            _put(batches, _Failed(e), stop)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def __iter__(self) -> Iterator:
        try:
            while True:
                batch = self._batches.get()
                if batch is _END:
                    return
                if isinstance(batch, _Failed):
                    raise batch.error
                yield from batch
        finally:
            self.close()

    def __next__(self):
        if self._items is None:
            self._items = iter(self)
        return next(self._items)

    def close(self) -> None:
        self._stop.set()
        if self._reader is not threading.current_thread():
            self._reader.join()

    def __del__(self) -> None:
        self.close()


class Primed:
    """Items whose first one another thread fetches from the start, the rest
    read by the caller itself.

    The people's first row costs the database its sorts (seconds at a
    million contacts), done while the caller counts the observations; after
    that the rows only stream, and handing each to another thread cost more
    than reading it here.
    """

    def __init__(self, items: Iterator) -> None:
        self._items = items
        self._first: list = []
        self._error: BaseException | None = None
        self._started: Iterator | None = None
        self._reader = threading.Thread(target=self._prime, name="polku-prime")
        self._reader.daemon = True
        self._reader.start()

    def _prime(self) -> None:
        try:
            self._first.append(next(self._items))
        except StopIteration:
            pass
        except BaseException as e:  # noqa: BLE001 - raised again in the reader
            self._error = e

    def __iter__(self) -> Iterator:
        try:
            self._reader.join()
            if self._error is not None:
                raise self._error
            yield from self._first
            yield from self._items
        finally:
            self.close()

    def __next__(self):
        if self._started is None:
            self._started = iter(self)
        return next(self._started)

    def close(self) -> None:
        if self._reader is not threading.current_thread():
            self._reader.join()
        close = getattr(self._items, "close", None)
        if close is not None:
            close()

    def __del__(self) -> None:
        self.close()
