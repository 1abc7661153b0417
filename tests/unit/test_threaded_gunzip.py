"""The read-back's gzip reader (validation/gunzip.py: isal decompressing on a thread of its
own) never ends a stream early. isal's own reader takes the stream to have ended when a wait
for a block times out and its thread is then found dead; the thread may have queued its last
blocks and ended in between, and a whole chunk was read back as empty ("the header does not
match the plan's columns (0 fields, expected 6)", seen once in tests/sqlite/test_interrupt.py
on a busy machine). The preemption is forced here: the consumer sleeps right after a wait
timed out."""

from __future__ import annotations

import gzip
import io
import queue
import time
from pathlib import Path
from typing import Any

import pytest

from exporter.canonical.cells import header_record
from exporter.model import Column, ColumnKind
from exporter.validation import readback, readback_scan
from tests.plans import whole_plan

COLUMNS = (
    Column("id", "int8", ColumnKind.INTEGER),
    Column("note", "text", ColumnKind.STRING),
)
PLAN = whole_plan(COLUMNS, marker="\\N", row_hash=False)


class _LateFile(io.RawIOBase):
    """A file whose bytes come after the reader's first wait for a block has timed out (a
    chunk followed while it is written, or a busy machine)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self._data = io.BytesIO(data)
        self._late = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._late:
            time.sleep(0.05)
            self._late = False
        return self._data.readinto(buffer)


class _PreemptedQueue(queue.Queue):  # type: ignore[type-arg]
    """A queue whose consumer loses the CPU just after a wait for a block timed out: the
    decompressing thread then queues the last block, the end, and ends meanwhile."""

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        try:
            return super().get(block, timeout)
        except queue.Empty:
            time.sleep(0.1)
            raise


@pytest.mark.skipif(not readback_scan.C_SCAN, reason="the C scanner's path")
def test_the_last_block_queued_as_the_thread_ends_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = header_record([c.name for c in COLUMNS]) + "\n"
    body += "".join(f"{i},row {i}\n" for i in range(100))
    path = tmp_path / "data_chunk_0.csv.gz"
    path.write_bytes(gzip.compress(body.encode()))
    whole = readback.read_chunk_figures(path, PLAN)
    assert whole.rows == 100

    monkeypatch.setattr(queue, "Queue", _PreemptedQueue)  # isal's reader's queue
    monkeypatch.setattr(readback, "open_read", lambda p: _LateFile(Path(p).read_bytes()))
    assert readback.read_chunk_figures(path, PLAN) == whole
