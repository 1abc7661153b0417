"""What the forkserver runs first (worker_server.py): the one module it is told to preload.

It blocks SIGINT in the server, so that every worker it forks starts with SIGINT blocked
until worker_init has set it aside (the server ignores SIGINT itself once it serves). Then
it imports the modules the coordinator named in EXPORTER_WORKER_MODULES. One that fails to
import is passed over: the worker that needs it raises that error in its task, as a spawned
worker would, instead of the server dying (the forkserver itself survives an ImportError
only). Imported by the server alone: it blocks SIGINT in whatever process imports it.
"""

from __future__ import annotations

import importlib
import os
import signal

from exporter.runtime.worker_server import MODULES_VARIABLE

if hasattr(signal, "pthread_sigmask"):
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

for _name in filter(None, os.environ.get(MODULES_VARIABLE, "").split(",")):
    try:
        importlib.import_module(_name)
    except Exception:  # noqa: BLE001, S110 - raised again by the worker that needs it
        pass
