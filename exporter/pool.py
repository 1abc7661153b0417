"""The worker pool: spawned processes sized by cpu_percent, or inline for tests and --debug.

Processes are started with the `spawn` method so each one imports and initialises its
database driver itself and never inherits a forked connection. On Linux each worker asks
the kernel to kill it when the coordinator dies (PR_SET_PDEATHSIG), so a `kill -9` of the
coordinator leaves no orphan writing files.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any, Literal, TypeVar

from exporter import worker, worker_setup

T = TypeVar("T")
log = logging.getLogger(__name__)


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
        worker.close_connections()


def create_executor(
    kind: Literal["process", "inline"],
    workers: int,
    progress_queue: Any = None,
    *,
    debug: bool = False,
) -> Executor:
    """A process pool of `workers` spawned processes, or an InlineExecutor."""
    if kind == "inline":
        return InlineExecutor()
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=worker_setup.init_worker,
        initargs=(progress_queue, debug, os.getpid()),
    )


def progress_queue() -> Any:
    """A queue spawned workers can put progress into."""
    return multiprocessing.get_context("spawn").Queue()
