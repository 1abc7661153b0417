"""exporter/runtime/worker_init.py: a worker whose coordinator died while it was still starting
exits at once instead of living on as an orphan (the death signal covers later deaths only)."""

from __future__ import annotations

import subprocess
import sys

CHECK = (
    "import os, sys\n"
    "from exporter.runtime.worker_init import _die_with_parent\n"
    "_die_with_parent(int(sys.argv[1]) if sys.argv[1] != 'parent' else os.getppid())\n"
    "print('alive')\n"
)


def test_a_worker_lives_on_while_its_parent_does() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK, "parent"], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "alive\n")


def test_a_worker_whose_parent_is_already_gone_exits() -> None:
    # A pid that is not this process's parent stands for a coordinator that died before
    # the worker reached its set-up (it has been re-parented since).
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(2**22 + 12345)], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (1, "")
