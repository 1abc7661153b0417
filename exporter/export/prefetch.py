"""Fetching the next batch of rows while this one is encoded.

A synchronous `fetchmany` leaves the worker idle while the server produces the next batch
and the driver reads it; psycopg and python-oracledb release the GIL while they wait on the
network, so one thread pulling batches from the driver overlaps that wait with the encoding
(docs/BENCHMARKS.md, the rows path). Memory stays flat: the thread holds at most one batch
while one waits in the queue and the caller encodes a third.

The driver's batches are a generator (`DbConn.stream`) whose query must end before the
transaction does. Stopped midway, the thread closes it itself, in the thread that ran it:
a generator cannot be closed while another thread runs it ("generator already executing"),
and a psycopg stream holds its connection's lock until it is closed, so that a ROLLBACK
would wait for ever. `close()` stops the thread and waits for it; the caller's
`contextlib.closing` of the driver generator, which runs after, finds it closed already,
or closes it where the thread never started it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)

_DEPTH = 1  # batches waiting in the queue, besides the one being fetched and the one encoded
_WAIT_S = 0.05  # how often a blocked thread looks whether it was stopped


class Prefetched(Generic[T]):
    """Iterates `items` one step ahead, fetched by a thread; `close()` (or leaving the `with`
    block) stops the thread and waits for it, without closing `items`."""

    def __init__(self, items: Iterator[T]) -> None:
        self._items = items
        self._queue: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=_DEPTH)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._fetch, name="prefetch", daemon=True)
        self._thread.start()

    def _fetch(self) -> None:
        try:
            for item in self._items:
                if not self._put((True, item)):
                    self._close_items()
                    return
        except BaseException as exc:  # handed to the caller, raised there as it was
            self._put((False, exc))
            return
        self._put((False, None))

    def _close_items(self) -> None:
        """End the driver's generator left midway (see the module's docstring). An error in
        doing so is only logged: the caller stopped for an error of its own, which comes first."""
        close = getattr(self._items, "close", None)
        if close is not None:
            try:
                close()
            except Exception as exc:  # noqa: BLE001 - logged: the caller's error comes first
                log.debug("closing the batches left midway: %s", exc)

    def _put(self, entry: tuple[bool, object]) -> bool:
        """Queue `entry` unless stopped meanwhile; False once stopped."""
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=_WAIT_S)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        is_item, value = self._queue.get()
        if is_item:
            return value  # type: ignore[return-value]
        self._done = True
        self._thread.join()
        if value is not None:
            raise value  # type: ignore[misc]
        raise StopIteration

    def close(self) -> None:
        """Stop fetching and wait for the thread (at most the fetch it is in)."""
        self._stop.set()
        self._thread.join()
        self._done = True

    def __enter__(self) -> Prefetched[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
