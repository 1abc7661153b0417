"""What a worker process does first, before it imports anything heavy.

This module imports only the standard library, so that a worker process reaches its signal
set-up within milliseconds of starting: a Ctrl-C (sent to the whole process group) or a
`kill -9` of the coordinator that arrives while the worker is still importing drivers must
neither print a traceback nor leave an orphan. The exporter's own modules are imported after
(but for fsutil in a forked worker, whose server has loaded it already).
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import signal
import sys
import time
from typing import Any

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent(coordinator: int | None) -> None:
    """Ask the kernel to kill this process when its parent dies; exit at once if the
    `coordinator` already has. The parent is the coordinator, which spawned this process,
    or the forkserver it started (worker_server.py), which forked it and ends when the
    coordinator does, once this process has let go of its pipe."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass
    forked = _let_go_of_the_server()
    if coordinator is None:
        return
    # The death signal only covers a parent dying from now on: a coordinator that died
    # while this process was still starting has left a spawned one with another parent
    # already, and a forked one (whose server outlived the coordinator only for as long as
    # this process held its pipe) with a coordinator gone. It must not live on: it would
    # wait forever for tasks, holding its pipes open.
    if os.getppid() == coordinator:
        return
    if forked:
        # Already loaded by the server (export/task.py imports it): no import here.
        from exporter.fsutil import pid_alive

        if pid_alive(coordinator):
            return
    os._exit(1)


def _let_go_of_the_server() -> bool:
    """Close this worker's copy of the pipe that tells the forkserver its coordinator has
    ended; whether this process was forked by the server (a spawned one holds none).
    multiprocessing gives one to every process the server forks, so that it could start
    processes of its own; workers never do. Kept open, it would keep the server alive after
    a `kill -9` of the coordinator, and with it every worker (whose death signal is tied to
    the server) until the end of its chunk."""
    forkserver = sys.modules.get("multiprocessing.forkserver")
    server = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if not isinstance(fd, int):
        return False
    try:
        os.close(fd)
    except OSError:
        pass
    server._forkserver_alive_fd = None  # type: ignore[union-attr]
    return True


def _take_environment(environ: dict[str, str] | None) -> None:
    """The coordinator's environment as it is now: a forked worker has the server's, as it
    was when the server started (a spawned one has the coordinator's already)."""
    if environ is None or environ == os.environ:
        return
    zone = os.environ.get("TZ")
    os.environ.clear()
    os.environ.update(environ)
    if hasattr(time, "tzset") and os.environ.get("TZ") != zone:
        time.tzset()  # the local time zone follows TZ only when told


def init_worker(
    queue: Any,
    debug: bool,
    coordinator: int | None = None,
    environ: dict[str, str] | None = None,
) -> None:
    """The pool's initializer: die with the `coordinator` (its pid), leave Ctrl-C to it,
    take its environment, then set up logging, progress reports and the closing of
    connections at exit."""
    _die_with_parent(coordinator)
    # Ctrl-C goes to the whole process group: the coordinator decides, workers carry on.
    # The pool starts workers with SIGINT blocked (executors.py); ignored now, it can be let in.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _take_environment(environ)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)-5s [worker] %(message)s",
    )
    # The heavier part, once the signals are set.
    from exporter.runtime import connections, progress

    # Close the cached connections while the interpreter is whole: left to garbage
    # collection at shutdown, a driver's finaliser can fail noisily (some do).
    atexit.register(connections.close_connections, every_thread=True)
    if queue is not None:
        progress.set_sink(lambda table, rows: queue.put((table, rows)))
