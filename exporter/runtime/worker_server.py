"""The process that local worker processes fork from: multiprocessing's forkserver.

A `spawn`ed worker is a fresh interpreter that imports the task modules and the engine's
driver itself: some 0.3 CPU-s each, which on a machine of two cores is time taken from the
export (docs/BENCHMARKS.md). The forkserver is a fresh interpreter too, started once per
coordinator, that imports them once and then forks a worker per request, in milliseconds.
It holds no connection and starts no thread, so workers still never share a connection or
inherit the coordinator's memory. `start_worker_server` starts it early, so that it imports
on the core the coordinator leaves idle while it reads the catalog.

The server is started with the coordinator's module path and nothing else (PYTHONSAFEPATH,
Python 3.11 and later; its working directory is not searched), so that workers run the
coordinator's code. Its first and only preloaded module is server_init.py.

multiprocessing publishes no call to stop the server and wait for it, to learn its pid, or
to close a worker's copy of the pipe by which the server learns that the coordinator ended
(worker_init.py needs it closed: a `kill -9` of the coordinator must end the workers). They
are attributes of `multiprocessing.forkserver._forkserver` (Python 3.8 to 3.14); where one
is missing, and before Python 3.11, workers are spawned as before.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import sys
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
# How the server learns what to import (server_init.py, which must never be imported here:
# it blocks SIGINT in whatever process imports it).
MODULES_VARIABLE = "EXPORTER_WORKER_MODULES"

_wanted: list[str] = []  # every module asked for so far, for a server (re)started later
_state = {"stop_registered": False, "used": False}


def _server() -> Any:
    """multiprocessing's forkserver object, or None where the platform has none."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    from multiprocessing import forkserver

    return getattr(forkserver, "_forkserver", None)


def start_method() -> str:
    """How worker processes start here: "forkserver" where the platform has it, Python
    honours PYTHONSAFEPATH and the server has the parts this module uses; else "spawn"."""
    server = _server()
    usable = server is not None and all(hasattr(server, part) for part in _SERVER_PARTS)
    return "forkserver" if usable and sys.version_info >= (3, 11) else "spawn"


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


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in os.environ for the block (the server is started with them), then back."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_worker_server(modules: Iterable[str] = ()) -> None:
    """Start the server now, importing TASK_MODULES and `modules` (an engine's driver,
    Source.worker_modules) in the background; nothing where workers are spawned. Once
    started it serves every pool of this process with the modules it was started with (a
    module it lacks is imported by each worker that needs it); one started again (after it
    died) imports every module asked for so far. It is stopped when this process exits."""
    if start_method() != "forkserver":
        return
    from multiprocessing import forkserver, resource_tracker

    for name in (*TASK_MODULES, *modules):
        if name not in _wanted:
            _wanted.append(name)
    forkserver.set_forkserver_preload(["exporter.runtime.server_init"])
    search = [entry or os.getcwd() for entry in sys.path]
    values = {
        MODULES_VARIABLE: ",".join(_wanted),
        "PYTHONSAFEPATH": "1",
        "PYTHONPATH": os.pathsep.join(search),
    }
    # The resource tracker first: starting it unblocks SIGINT in the calling thread.
    resource_tracker.ensure_running()
    with sigint_blocked(), _environment(values):
        forkserver.ensure_running()
    if not _state["stop_registered"]:
        atexit.register(_stop_worker_server)
        _state["stop_registered"] = True


def serving() -> None:
    """A pool is about to fork workers from the server: at exit it is waited for, not
    killed (worker CPU time is then counted among this process's children's)."""
    _state["used"] = True


def server_pid() -> int | None:
    """The running server's pid, None when there is none."""
    pid = getattr(_server(), "_forkserver_pid", None)
    return pid if isinstance(pid, int) else None


def _stop_worker_server() -> None:
    """Stop the server and wait for it, at exit, so that no process of the run outlives the
    command. A server no pool used (the run failed early, or had nothing to do) is killed
    first: it would finish its imports before it noticed, delaying the exit."""
    pid = server_pid()
    if pid is not None and not _state["used"]:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    stop = getattr(_server(), "_stop", None)
    if callable(stop):
        with contextlib.suppress(OSError):
            stop()
