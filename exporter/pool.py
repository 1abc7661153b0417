"""The worker pool: spawned processes sized by cpu_percent, or inline for tests and --debug.

Processes are started with the `spawn` method so each one imports and initialises its
database driver itself and never inherits a forked connection. On Linux each worker asks
the kernel to kill it when the coordinator dies (PR_SET_PDEATHSIG), so a `kill -9` of the
coordinator leaves no orphan writing files. Each starts with Ctrl-C (SIGINT) blocked, so
that a Ctrl-C meant for the coordinator cannot interrupt it before its set-up has put
SIGINT aside (worker_setup.py).
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.context
import os
import signal
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


class _SpawnedWithSigintBlocked(multiprocessing.context.SpawnProcess):
    """A spawned process that starts with SIGINT blocked: the signal mask is inherited
    through fork and exec, and worker_setup.init_worker unblocks it once SIGINT is ignored.
    The coordinator's own Ctrl-C is held back while the child is created, not lost."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        spawn = multiprocessing.context.SpawnProcess._Popen
        if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
            return spawn(process_obj)
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            return spawn(process_obj)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _SpawnContext(multiprocessing.context.SpawnContext):
    Process = _SpawnedWithSigintBlocked


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
        mp_context=_SpawnContext(),
        initializer=worker_setup.init_worker,
        initargs=(progress_queue, debug, os.getpid()),
    )


def progress_queue() -> Any:
    """A queue spawned workers can put progress into."""
    return multiprocessing.get_context("spawn").Queue()
