"""Where tasks run, for any pipeline: a pool of spawned worker processes sized by cpu_percent,
inline in this process (tests and --debug), or a Dask cluster (runtime/dask_executor.py). All
are `concurrent.futures.Executor`s, opened with `open_executor`, which also routes the tasks'
progress reports to the bars.

Processes are started with the `spawn` method so each one imports and initialises its
database driver itself and never inherits a forked connection. On Linux each worker asks
the kernel to kill it when the coordinator dies (PR_SET_PDEATHSIG), so a `kill -9` of the
coordinator leaves no orphan writing files. Each starts with Ctrl-C (SIGINT) blocked, so
that a Ctrl-C meant for the coordinator cannot interrupt it before its set-up has put
SIGINT aside (worker_init.py).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from exporter.runtime import worker_init
from exporter.runtime.connections import close_connections
from exporter.runtime.progress import Progress, QueueDrainer, set_sink

if TYPE_CHECKING:
    from exporter.runtime.dask_executor import DaskCluster

T = TypeVar("T")
ExecutorKind = Literal["process", "inline", "dask"]


def worker_count(
    cpu_percent: int, cpu_count: int | None = None, explicit: int | None = None
) -> int:
    """`explicit` when given, else max(1, floor(cores * cpu_percent / 100))."""
    if explicit is not None:
        return max(1, explicit)
    cores = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
    return max(1, (cores * cpu_percent) // 100)


class InlineExecutor(Executor):
    """Runs each task at submit time in this process: same code path, easy to debug."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        close_connections()


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT held back in this thread (a Ctrl-C arriving meanwhile is delivered after)."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class WorkerPool(ProcessPoolExecutor):
    """A ProcessPoolExecutor whose processes start with SIGINT blocked.

    The pool starts its processes inside `submit`, in the calling thread (on demand, for the
    spawn method, since Python 3.9), and a child inherits the signal mask of the thread that
    forks it, through exec too. So SIGINT is blocked around `submit`, and worker_init unblocks
    it once the worker ignores it."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with _sigint_blocked():
            return super().submit(fn, *args, **kwargs)


@contextlib.contextmanager
def open_executor(
    kind: ExecutorKind,
    workers: int,
    *,
    progress: Progress | None = None,
    debug: bool = False,
    cluster: DaskCluster | None = None,
    priority: int = 0,
) -> Iterator[Executor]:
    """An executor of `workers` spawned processes, an inline one, or the Dask `cluster`'s
    (`priority` orders its tasks); tasks' `report_rows` reach `progress` in every case. On
    exit it waits for running tasks, cancels the rest and closes the connections tasks opened
    (inline) or lets the processes close theirs. A Dask cluster's tasks still queued are
    cancelled and those running finish there."""
    if kind == "dask":
        from exporter.runtime.dask_executor import DaskExecutor

        assert cluster is not None, "a dask executor needs a connected cluster"
        remote = DaskExecutor(cluster, progress=progress, priority=priority)
        try:
            yield remote
        finally:
            remote.shutdown(cancel_futures=True)
        return
    if kind == "inline":
        previous = set_sink(progress.add_rows if progress else None)
        inline = InlineExecutor()
        try:
            yield inline
        finally:
            inline.shutdown()
            set_sink(previous)
        return
    context = multiprocessing.get_context("spawn")
    queue = context.Queue() if progress else None
    drainer = QueueDrainer(queue, progress) if queue is not None and progress else None
    pool = WorkerPool(
        max_workers=workers,
        mp_context=context,
        initializer=worker_init.init_worker,
        initargs=(queue, debug, os.getpid()),
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if drainer is not None:
            drainer.close()
