"""Reading chunk files back for validation, in parallel processes, ahead of the checks.

Reading back every written byte (decompress, parse, sum) is the costliest part of
validation, and each chunk file is independent: each is submitted to a process pool as soon
as it is published (or, for `validate` and resumed runs, all at once; during an export, as
its workers write them, in the order they start: validation/follow.py), so that files are
read on every core, during the export and while the coordinator queries the source for its
counts and sums; each table's check then collects its own files' figures. On a Dask cluster
the readers are the cluster's workers, each reading from the output store directly.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from exporter.errors import ERR_FILE_UNREADABLE, ExporterError, error
from exporter.layout import ExportLayout
from exporter.model import TablePlan, TableRef
from exporter.runtime.executors import ExecutorKind, open_executor
from exporter.storage import StorePath, StoreSpec
from exporter.validation import readback_scan
from exporter.validation.follow import CAN_FOLLOW, NotFollowed, at_lowest_priority
from exporter.validation.readback import FileFigures, follow_chunk_figures, read_chunk_figures

if TYPE_CHECKING:
    from exporter.runtime.dask_executor import DaskCluster

# What a reader process sends back: the figures, or why the file could not be read.
_Outcome = FileFigures | ExporterError
READ_PRIORITY = 1  # on Dask: a published chunk is read before a chunk not started is exported


def _outcome(path: StorePath, read: Callable[[], FileFigures]) -> _Outcome | None:
    """What `read()` gives for the file at `path`: its figures, the error that fails its
    table (one bad file fails its own table, not the run), or None where a follower gave up."""
    try:
        return read()
    except NotFollowed:
        return None
    except ExporterError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001
        return error(ERR_FILE_UNREADABLE, path=path, reason=type(exc).__name__)


def _read(output: StoreSpec, plan: TablePlan, index: int) -> _Outcome | None:
    path = ExportLayout.at(output).chunk_file(plan.table, index)
    return _outcome(path, lambda: read_chunk_figures(path, plan))


def _follow(output: StoreSpec, plan: TablePlan, index: int) -> _Outcome | None:
    """A chunk file's figures, read as its worker writes it; None where it could not be
    followed to its end (it is then read once published)."""
    path = ExportLayout.at(output).chunk_file(plan.table, index)
    assert isinstance(path, Path)  # ChunkReaders.follow: local folders only
    return _outcome(path, lambda: at_lowest_priority(lambda: follow_chunk_figures(path, plan)))


def _gave_up(future: Future[_Outcome | None]) -> bool:
    """Whether a follower has ended without the figures (the chunk is to be read again)."""
    return (
        future.done()
        and not future.cancelled()
        and future.exception() is None
        and (future.result() is None)
    )


def _warm() -> None:
    """Import what reading needs, so that a reader started early is ready when chunks come
    (the C scanner is imported with this module; Arrow only where it stands in for it)."""
    if not readback_scan.C_SCAN:
        import pyarrow.compute  # noqa: F401
        import pyarrow.csv  # noqa: F401


class ChunkReaders:
    """Chunk files being read back by `workers` processes (inline when `workers` is 1 or
    `inline`), or by the workers of a Dask `cluster`: `submit()` a file as soon as it is
    published, so that reading overlaps the export; `figures()` waits for one file's result
    (reading it then if never submitted)."""

    def __init__(
        self,
        layout: ExportLayout,
        workers: int,
        inline: bool,
        cluster: DaskCluster | None = None,
    ) -> None:
        self.layout = layout
        serial = inline or (workers <= 1 and cluster is None)
        # The export's pool settings: processes dying with the coordinator, Ctrl-C ignored.
        self._stack = contextlib.ExitStack()
        kind: ExecutorKind = "inline" if serial else "dask" if cluster else "process"
        self._executor = self._stack.enter_context(
            open_executor(kind, workers, cluster=cluster, priority=READ_PRIORITY)
        )
        self._futures: dict[tuple[TableRef, int], Future[_Outcome | None]] = {}
        self._kind, self._workers = kind, workers
        self._to_follow: collections.deque[tuple[TablePlan, int]] = collections.deque()
        if kind == "process":
            for _ in range(workers):
                self._executor.submit(_warm)

    def submit(self, plan: TablePlan, index: int) -> None:
        """Start reading one published chunk file (once)."""
        key = (plan.table, index)
        current = self._futures.get(key)
        if current is None or _gave_up(current):
            self._futures[key] = self._executor.submit(_read, self.layout.spec, plan, index)

    def follow(self, chunks: Sequence[tuple[TablePlan, int]]) -> None:
        """Read the export's chunks as their workers write them (validation/follow.py), in
        the order the export starts them: the first one per reader process now, the next
        each time a chunk is done (`chunk_done`), as a worker is then free to start it. So
        a table of one chunk is read back while it is exported, not after. Only with local
        reader processes, the C scanner, Linux and a local folder; else, or where a chunk
        could not be followed, chunks are read once published."""
        if self._kind != "process" or not readback_scan.C_SCAN or not CAN_FOLLOW:
            return
        self._to_follow.extend(chunks)
        for _ in range(self._workers):
            self.chunk_done()

    def chunk_done(self, failed: bool = False) -> None:
        """A chunk of the export is done (written or skipped): follow the next. After a
        failure, follow no more: the rest may fail as fast (a broken pool, a lost server),
        and a follower would wait for each one's file to begin."""
        if failed:
            self._to_follow.clear()
        while self._to_follow:
            plan, index = self._to_follow.popleft()
            local = isinstance(self.layout.chunk_file(plan.table, index), Path)
            if local and readback_scan.can_scan(plan.file_format.null_marker):
                future = self._executor.submit(_follow, self.layout.spec, plan, index)
                self._futures[(plan.table, index)] = future
                return

    def submit_all(self, plans: Iterable[TablePlan]) -> None:
        """Start reading every chunk file of `plans` not already being read."""
        for plan in plans:
            for chunk in plan.chunks:
                self.submit(plan, chunk.index)

    def figures(self, plan: TablePlan, index: int) -> FileFigures:
        """The figures of one chunk file; raises ValidationFailed when it is unreadable."""
        future = self._futures.get((plan.table, index))
        if future is None:  # not submitted (a table outside `plans`): read it here
            return read_chunk_figures(self.layout.chunk_file(plan.table, index), plan)
        outcome = future.result()
        if outcome is None:  # not followed to its end: read now
            return read_chunk_figures(self.layout.chunk_file(plan.table, index), plan)
        if isinstance(outcome, ExporterError):
            raise outcome
        return outcome

    def __enter__(self) -> ChunkReaders:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.__exit__(exc_type, exc, tb)
