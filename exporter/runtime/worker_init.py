"""What a spawned worker process does first, before it imports anything heavy.

This module imports only the standard library, so that a worker process reaches its signal
set-up within milliseconds of starting: a Ctrl-C (sent to the whole process group) or a
`kill -9` of the coordinator that arrives while the worker is still importing drivers must
neither print a traceback nor leave an orphan. The exporter's own modules are imported after.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import signal
import sys
from typing import Any

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent(parent_pid: int | None) -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass
    # The death signal only covers a parent dying from now on: one that died while this
    # process was still starting has left it with another parent already. It must not live
    # on (it would wait forever for tasks, holding its pipes open).
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def init_worker(queue: Any, debug: bool, parent_pid: int | None = None) -> None:
    """The pool's initializer: die with the coordinator (`parent_pid`), leave Ctrl-C to it,
    then set up logging, progress reports and the closing of connections at exit."""
    _die_with_parent(parent_pid)
    # Ctrl-C goes to the whole process group: the coordinator decides, workers carry on.
    # The pool starts workers with SIGINT blocked (executors.py); ignored now, it can be let in.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
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
