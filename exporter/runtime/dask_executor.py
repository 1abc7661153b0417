"""Tasks on a dask.distributed cluster (`executor.kind: dask`, or `--dask ADDRESS`), behind the
same `concurrent.futures.Executor` interface as the local pool.

The coordinator connects to the scheduler once per run (`connect_cluster`) and submits the
same plain, picklable tasks it would give the local pool. Each becomes one Dask task, never
`pure` (two tasks are never merged or cached), and its result reaches a concurrent.futures
Future as soon as it finishes, in whatever order, so `as_completed` works as with the pool.
The workers import the exporter themselves (the same version must be installed there) and
read and write directly: the database, and the output store. Nothing flows through the
coordinator but the tasks and their small results.

A worker lost mid-task (killed, out of memory, its machine gone) has its tasks run again on
another worker by the scheduler, up to `distributed.scheduler.allowed-failures` times; the
future then fails with KilledWorker and the run reports that chunk failed (the next run
exports it). A chunk task is idempotent, and its file appears only complete, so running it
again is always safe. Rows progress: a task's `report_rows` goes into its worker's event log
under the run's topic, which the coordinator subscribes to (Dask's structured events), so
the rows bar moves however far away the worker is.
https://distributed.dask.org/en/stable/api.html#distributed.Client.subscribe_topic
"""

from __future__ import annotations

import atexit
import contextlib
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Executor, Future
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from exporter.errors import ERR_NOT_AVAILABLE, ERR_SCHEDULER_UNREACHABLE, ERR_SETTING, error
from exporter.runtime import connections
from exporter.runtime.progress import Progress, set_sink

T = TypeVar("T")
KEY = "executor.address"
WORKERS_WAIT_SECONDS = 60  # a cluster just started may need a moment for its workers


@dataclass(frozen=True)
class DaskCluster:
    """A connection to a Dask scheduler, for one run."""

    client: Any  # distributed.Client, whose methods are not typed
    address: str
    threads: int
    """Worker threads when the run started: the tasks that can run at once."""


class ExecutorChoice(Protocol):
    """The `executor:` block's two settings (config/models.py ExecutorSettings)."""

    @property
    def kind(self) -> str: ...
    @property
    def address(self) -> str | None: ...


def open_cluster(
    settings: ExecutorChoice, inline: bool
) -> contextlib.AbstractContextManager[DaskCluster | None]:
    """The Dask cluster a run's tasks go to (`executor.kind: dask`), connected; None for the
    local pool, and when tasks run inline (--debug)."""
    if settings.kind != "dask" or inline:
        return contextlib.nullcontext()
    if not settings.address:
        raise error(
            ERR_SETTING,
            key=KEY,
            problem="is required with executor.kind: dask",
            hint="set it to the scheduler's address (tcp://scheduler:8786), or pass --dask",
        )
    return connect_cluster(settings.address)


@contextlib.contextmanager
def connect_cluster(address: str) -> Iterator[DaskCluster]:
    """Connect to the scheduler at `address` and wait for a worker; one clear error line
    when there is no scheduler (after `distributed.comm.timeouts.connect`) or no worker."""
    try:
        from distributed import Client
    except ImportError:
        raise error(
            ERR_NOT_AVAILABLE, key="executor.kind", what="dask (dask[distributed])"
        ) from None
    try:
        client: Any = Client(address, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise error(ERR_SCHEDULER_UNREACHABLE, key=KEY, address=address, reason=reason) from None
    try:
        try:
            client.wait_for_workers(1, timeout=WORKERS_WAIT_SECONDS)
        except TimeoutError:
            reason = f"no worker joined it within {WORKERS_WAIT_SECONDS} s"
            raise error(
                ERR_SCHEDULER_UNREACHABLE, key=KEY, address=address, reason=reason
            ) from None
        threads = sum(int(n) for n in client.nthreads().values())
        yield DaskCluster(client, address, threads)
    finally:
        client.close()


class DaskExecutor(Executor):
    """Submits to a cluster; see the module docstring. `priority`: higher runs first (the
    read-back of published chunks goes ahead of chunks not yet started)."""

    def __init__(
        self, cluster: DaskCluster, *, progress: Progress | None = None, priority: int = 0
    ) -> None:
        self._client = cluster.client
        self._priority = priority
        self._pending: set[Any] = set()
        self._topic: str | None = None
        if progress is not None:
            self._topic = f"exporter-rows-{uuid.uuid4().hex}"
            add_rows = progress.add_rows
            # Called on the client's event loop with (timestamp, [table, rows]).
            self._client.subscribe_topic(self._topic, lambda event: add_rows(*event[1]))

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        result: Future[T] = Future()
        key = f"{getattr(fn, '__name__', 'task')}-{uuid.uuid4().hex}"
        task = self._client.submit(
            _on_worker, fn, self._topic, args, kwargs, key=key, pure=False, priority=self._priority
        )
        self._pending.add(task)
        task.add_done_callback(lambda done: self._settle(done, result))
        return result

    def _settle(self, done: Any, result: Future[Any]) -> None:
        """Pass a finished Dask future's outcome on (called in a thread of the client). Its
        outcome is fetched from the scheduler, where a Ctrl-C's cancel may overtake it: a
        task cancelled meanwhile is passed on as cancelled, and an outcome that could not be
        fetched (the client's connection closing under that Ctrl-C: CommClosedError) as the
        task's failure; neither is raised into Dask's callback, which would print a
        traceback over the interrupted run's one line."""
        self._pending.discard(done)
        try:
            if done.cancelled():
                raise CancelledError
            finished = done.status == "finished"
            outcome = done.result() if finished else done.exception()
        except CancelledError:  # distributed's FutureCancelledError is one
            if result.cancel():
                result.set_running_or_notify_cancel()
            return
        except Exception as exc:  # noqa: BLE001 - the outcome could not be fetched
            # Whether the task finished (its chunk file published) or failed, the run
            # cannot tell: it counts as failed, and a re-run skips a published file.
            finished = False
            outcome = RuntimeError(
                f"its outcome could not be fetched from the cluster ({exc!r}); if it "
                "finished, its chunk file is published and a re-run keeps it"
            )
            outcome.__cause__ = exc
        if finished:
            result.set_result(outcome)
        else:
            result.set_exception(outcome)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Cancel tasks not finished (with `cancel_futures`: a Ctrl-C, an error); a task
        already running on a worker completes there, and its chunk file is published."""
        if cancel_futures and self._pending:
            self._client.cancel(list(self._pending))
        if self._topic is not None:
            with contextlib.suppress(Exception):
                self._client.unsubscribe_topic(self._topic)
            self._topic = None


_at_exit_registered = False


def _on_worker(
    fn: Callable[..., T], topic: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> T:
    """Run one task on a Dask worker, its rows reported to the run's event topic."""
    global _at_exit_registered
    if not _at_exit_registered:  # the worker process's connections, closed as it exits
        atexit.register(connections.close_connections, every_thread=True)
        _at_exit_registered = True
    sink = None
    if topic is not None:
        from distributed import get_worker

        worker = get_worker()
        sink = lambda table, rows: worker.log_event(topic, [table, rows])  # noqa: E731
    previous = set_sink(sink)
    try:
        return fn(*args, **kwargs)
    finally:
        set_sink(previous)
