"""export/prefetch.py: every batch in order, the driver's error raised where it was caught,
memory bounded, and on an early close the thread stopped before the driver's generator is
closed (which a running generator would refuse)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest

from exporter.export.prefetch import Prefetched


def _batches(count: int, fetched: list[int], closed: threading.Event) -> Iterator[list[int]]:
    try:
        for i in range(count):
            fetched.append(i)
            yield [i]
    finally:
        closed.set()


def test_every_batch_in_order() -> None:
    fetched: list[int] = []
    closed = threading.Event()
    with Prefetched(_batches(50, fetched, closed)) as ahead:
        assert [b[0] for b in ahead] == list(range(50))
        assert list(ahead) == []
    assert closed.is_set()


def test_the_drivers_error_is_raised_to_the_caller() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("connection lost")

    with Prefetched(failing()) as ahead:
        assert next(ahead) == 1
        with pytest.raises(ValueError, match="connection lost"):
            next(ahead)


def test_closing_early_stops_the_thread_then_the_generator_closes() -> None:
    fetched: list[int] = []
    closed = threading.Event()
    source = _batches(1000, fetched, closed)
    with contextlib.closing(source), Prefetched(source) as ahead:
        assert next(ahead) == [0]
        threading.Event().wait(0.2)  # the thread runs ahead as far as the queue lets it
        assert len(fetched) <= 3  # one handed out, one queued, one held by the thread
        with pytest.raises(RuntimeError):
            with ahead:
                raise RuntimeError("a check failed midway")
        assert not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())
        assert not closed.is_set()
    assert closed.is_set()  # contextlib.closing closed it, in this thread, without error
