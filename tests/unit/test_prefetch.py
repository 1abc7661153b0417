"""export/prefetch.py: every batch in order, the driver's error raised where it was caught,
memory bounded, and on an early close the driver's generator closed by the thread that ran it
(another thread cannot close a running generator, and a psycopg stream holds its connection's
lock until closed) before close() returns."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

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


def test_closing_early_closes_the_generator_in_the_thread_that_ran_it() -> None:
    fetched: list[int] = []
    closed = threading.Event()
    closers: list[str] = []

    def batches() -> Iterator[list[int]]:
        try:
            yield from _batches(1000, fetched, closed)
        finally:
            closers.append(threading.current_thread().name)

    source = batches()
    with contextlib.closing(source), Prefetched(source) as ahead:
        assert next(ahead) == [0]
        threading.Event().wait(0.2)  # the thread runs ahead as far as the queue lets it
        assert len(fetched) <= 3  # one handed out, one queued, one held by the thread
        with pytest.raises(RuntimeError):
            with ahead:
                raise RuntimeError("a check failed midway")
        assert not any(t.name == "prefetch" and t.is_alive() for t in threading.enumerate())
        assert closed.is_set()  # before close() returned: the query ends before the transaction
        assert closers == ["prefetch"]
    assert closers == ["prefetch"]  # contextlib.closing found it closed: nothing ran twice


@pytest.mark.parametrize("path", ["arrow", "rows"])
def test_both_batch_loops_read_the_driver_on_the_prefetch_thread(tmp_path: Path, path: str) -> None:
    import pyarrow as pa

    from exporter.export.read_paths import write_arrow_batches, write_row_batches
    from exporter.export.writer import CsvGzipWriter
    from exporter.model import Column, ColumnKind
    from tests.plans import whole_plan

    plan = whole_plan(
        (Column("n", "int8", ColumnKind.INTEGER), Column("f", "float8", ColumnKind.FLOAT))
    )
    readers: list[str] = []

    def driver() -> Iterator[object]:
        for i in range(5):
            readers.append(threading.current_thread().name)
            rows = [(i * 10 + j, j / 4) for j in range(10)]
            if path == "rows":
                yield rows
            else:
                yield pa.record_batch(
                    [pa.array([r[0] for r in rows]), pa.array([r[1] for r in rows])],
                    names=["n", "f"],
                )

    write = write_arrow_batches if path == "arrow" else write_row_batches
    with CsvGzipWriter(tmp_path / "data_chunk_0.csv.gz", "n,f,row_hash", level=1) as writer:
        sums = write(driver(), writer, plan, plan.chunks[0])  # type: ignore[arg-type]
        assert writer.rows == 50
    assert readers == ["prefetch"] * 5
    assert sums.exact_json() == {"n": str(sum(range(50)))}
