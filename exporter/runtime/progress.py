"""Progress: what tasks report, and the bars (tqdm) that show it.

A task, wherever it runs, calls `report_rows(table, rows)`; the executor decides where that
goes (runtime/executors.py): straight to the bars when tasks run inline, through a queue
drained by `QueueDrainer` when they run in worker processes, through the cluster's event
stream on Dask (runtime/dask_executor.py). The sink is per thread (a Dask worker may run
several tasks, of several runs, at once). Bars (overall chunks, overall
rows with rows/s, one per active table) are drawn only when stderr is a terminal; in logs and
CI the run stays quiet apart from the log lines.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

ProgressFn = Callable[[str, int], None]
"""Where this process's reports go: fn(table, rows_since_last_report)."""

_local = threading.local()


def set_sink(sink: ProgressFn | None) -> ProgressFn | None:
    """Send this thread's reports to `sink` (None: nowhere); returns the previous sink."""
    previous: ProgressFn | None = getattr(_local, "sink", None)
    _local.sink = sink
    return previous


def report_rows(table: str, rows: int) -> None:
    """Tell whoever shows progress that `rows` more rows of `table` were written."""
    sink: ProgressFn | None = getattr(_local, "sink", None)
    if sink is not None and rows:
        sink(table, rows)


class Progress:
    """The bars of one export run."""

    def __init__(
        self, total_chunks: int, total_rows: int | None, *, enabled: bool | None = None
    ) -> None:
        # Imported here: worker processes report rows but never draw bars.
        from tqdm import tqdm

        self._tqdm = tqdm
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        disable = not self.enabled
        self.chunks = tqdm(
            total=total_chunks,
            desc="chunks",
            unit="chunk",
            position=0,
            disable=disable,
            dynamic_ncols=True,
        )
        self.rows = tqdm(
            total=total_rows,
            desc="rows",
            unit="row",
            unit_scale=True,
            position=1,
            disable=disable,
            dynamic_ncols=True,
        )
        self._tables: dict[str, Any] = {}

    def table_started(self, table: str, chunks: int) -> None:
        """Open a bar for a table about to run `chunks` chunks."""
        if table not in self._tables:
            self._tables[table] = self._tqdm(
                total=chunks,
                desc=table[:40],
                unit="chunk",
                leave=False,
                position=2 + len(self._tables),
                disable=not self.enabled,
                dynamic_ncols=True,
            )

    def add_rows(self, table: str, rows: int) -> None:
        """Rows written since the last report."""
        self.rows.update(rows)

    def chunk_done(self, table: str) -> None:
        """One more chunk of `table` finished (written, skipped or failed)."""
        self.chunks.update(1)
        bar = self._tables.get(table)
        if bar is not None:
            bar.update(1)
            if bar.n >= (bar.total or 0):
                bar.close()

    def close(self) -> None:
        """Close every bar."""
        for bar in self._tables.values():
            bar.close()
        self.rows.close()
        self.chunks.close()


class QueueDrainer:
    """A thread that adds the rows spawned workers report through `q` (a multiprocessing
    queue of (table, rows)) to `progress`, until `close()`.

    It polls for the stop request every POLL_SECONDS rather than being woken by an end mark
    put into the queue: the coordinator never writes to the queue, so a worker killed (-9,
    out of memory) while holding the queue's write lock cannot make it hang at exit, and an
    interrupted run leaves no feeder thread behind."""

    POLL_SECONDS = 0.02  # the longest a run waits for the drainer at its end

    def __init__(self, q: Any, progress: Progress) -> None:
        self._q = q
        self._progress = progress
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() or not self._q.empty():
            try:
                table, rows = self._q.get(timeout=self.POLL_SECONDS)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            # Keep draining whatever happens to the bars: a worker whose reports fill the
            # pipe cannot exit until they are read.
            with contextlib.suppress(Exception):
                self._progress.add_rows(table, rows)

    def close(self) -> None:
        """Stop once every report already sent is counted (call it after the workers have
        exited)."""
        self._stop.set()
        self._thread.join(timeout=5)
