"""Where tasks run, for any pipeline: a pool of worker processes sized by cpu_percent, inline
in this process (tests and --debug), or a Dask cluster (runtime/dask_executor.py). All are
`concurrent.futures.Executor`s, opened with `open_executor`, which also routes the tasks'
progress reports to the bars.

Worker processes never inherit the coordinator's memory: each initialises its database
driver itself and never shares a connection. Where the platform allows, they fork from a
server process that has imported their modules once (worker_server.py); elsewhere they are
spawned. Either way each starts in the coordinator's environment and working directory.

On Linux each worker asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG): the
coordinator, or the server, which ends when the coordinator does. So a `kill -9` of the
coordinator leaves no orphan writing files. Each starts with Ctrl-C (SIGINT) blocked, so
that a Ctrl-C meant for the coordinator cannot interrupt it before its set-up has put
SIGINT aside (worker_init.py).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from exporter.runtime import worker_init
from exporter.runtime.connections import close_connections
from exporter.runtime.progress import Progress, QueueDrainer, set_sink
from exporter.runtime.worker_server import (
    serving,
    sigint_blocked,
    start_method,
    start_worker_server,
)

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


class WorkerPool(ProcessPoolExecutor):
    """A ProcessPoolExecutor whose processes start with SIGINT blocked.

    The pool starts its processes inside `submit`, in the calling thread (on demand, for the
    spawn and forkserver methods, since Python 3.9), and a child inherits the signal mask of
    the thread that forks it, through exec too. So SIGINT is blocked around `submit` (and
    in the forkserver, worker_server.py), and worker_init unblocks it once the worker
    ignores it."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with sigint_blocked():
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
    """An executor of `workers` worker processes, an inline one, or the Dask `cluster`'s
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
    method = start_method()
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        start_worker_server()  # at once when the run has started it already
        serving()
    queue = context.Queue() if progress else None
    drainer = QueueDrainer(queue, progress) if queue is not None and progress else None
    pool = WorkerPool(
        max_workers=workers,
        mp_context=context,
        initializer=worker_init.init_worker,
        initargs=(queue, debug, os.getpid(), dict(os.environ)),
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if drainer is not None:
            drainer.close()
