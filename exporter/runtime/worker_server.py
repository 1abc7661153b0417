"""The process that local worker processes fork from: multiprocessing's forkserver.

A `spawn`ed worker is a fresh interpreter that imports the task modules and the engine's
driver itself: some 0.3 CPU-s each, which on a machine of two cores is time taken from the
export (docs/BENCHMARKS.md). The forkserver is a fresh interpreter too, started once per
coordinator, that imports them once and then forks a worker per request, in milliseconds.
It holds no connection and starts no thread, so workers still never share a connection or
inherit the coordinator's memory. `start_worker_server` starts it early, so that it imports
on the core the coordinator leaves idle while it reads the catalog.

multiprocessing publishes no call to stop the server and wait for it, to learn its pid, or
to close a worker's copy of the pipe by which the server learns that the coordinator ended
(worker_init.py needs all three: a `kill -9` of the coordinator must end the workers). They
are attributes of `multiprocessing.forkserver._forkserver`, with the same names from Python
3.4 to 3.14; where one is missing, workers are spawned as before.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import signal
from collections.abc import Iterable, Iterator
from typing import Any

# What every worker imports, whatever its task: loaded once by the server.
TASK_MODULES = (
    "exporter.runtime.connections",
    "exporter.runtime.progress",
    "exporter.export.task",
    "exporter.validation.readers",
    "exporter.compare.task",
)
_SERVER_PARTS = ("_forkserver_pid", "_forkserver_alive_fd", "_stop")

_stop_registered = False


def _server() -> Any:
    """multiprocessing's forkserver object, or None where the platform has none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    from multiprocessing import forkserver

    return getattr(forkserver, "_forkserver", None)


def start_method() -> str:
    """How worker processes start here: "forkserver" where the platform has it and its server
    has the parts this module uses, else "spawn"."""
    server = _server()
    usable = server is not None and all(hasattr(server, part) for part in _SERVER_PARTS)
    return "forkserver" if usable else "spawn"


@contextlib.contextmanager
def sigint_blocked() -> Iterator[None]:
    """SIGINT held back in this thread (a Ctrl-C arriving meanwhile is delivered after)."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def start_worker_server(modules: Iterable[str] = ()) -> None:
    """Start the server now, importing TASK_MODULES and `modules` (an engine's driver,
    Source.worker_modules) in the background; nothing where workers are spawned. Once
    started it serves every pool of this process with the modules it was started with (a
    module it lacks is imported by each worker that needs it), and it is stopped and waited
    for when this process exits."""
    global _stop_registered
    if start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload([*TASK_MODULES, *modules])
    # The server forks every worker, which inherits its signal mask: SIGINT stays blocked in
    # all of them until worker_init has set it aside (the server itself ignores SIGINT).
    with sigint_blocked():
        forkserver.ensure_running()
    if not _stop_registered:
        atexit.register(_stop_worker_server)
        _stop_registered = True


def server_pid() -> int | None:
    """The running server's pid, None when there is none."""
    pid = getattr(_server(), "_forkserver_pid", None)
    return pid if isinstance(pid, int) else None


def _stop_worker_server() -> None:
    """Stop the server and wait for it, at exit: no process of the run outlives the command,
    and the workers' CPU time is counted among this process's children's (the server waited
    for them). Left alone, it would end by itself a moment later."""
    stop = getattr(_server(), "_stop", None)
    if callable(stop):
        with contextlib.suppress(OSError):
            stop()
