"""runtime/worker_server.py and the pools built on it: workers fork from one server that has
imported their modules, yet start in the coordinator's environment and working directory of
the moment the pool opens; the server is stopped and waited for when the coordinator exits;
where the server lacks what the module needs, workers are spawned as before. (A `kill -9` of
the coordinator ending its workers: tests/sqlite/test_resume_edges.py.)"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
from multiprocessing import forkserver
from pathlib import Path

import pytest

from exporter.runtime import worker_server
from exporter.runtime.executors import open_executor

needs_server = pytest.mark.skipif(
    worker_server.start_method() != "forkserver",
    reason="this platform has no forkserver: its workers are spawned",
)


def _facts() -> tuple[int, str, str | None, bool]:
    """What a worker sees: its parent, its directory, one variable, a preloaded module."""
    return (
        os.getppid(),
        os.getcwd(),
        os.environ.get("EXPORTER_TEST_WORKER_ENV"),
        "exporter.export.task" in sys.modules,
    )


@needs_server
def test_workers_fork_from_the_server_with_the_task_modules_loaded() -> None:
    worker_server.start_worker_server()
    with open_executor("process", 1) as pool:
        parent, _, _, preloaded = pool.submit(_facts).result(timeout=60)
    assert parent == worker_server.server_pid() != os.getpid()
    # This test module does not import it: the worker has it from the server.
    assert preloaded


def test_a_worker_starts_in_the_environment_and_directory_of_the_pools_opening(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    worker_server.start_worker_server()  # before the changes: it must not keep its own
    monkeypatch.setenv("EXPORTER_TEST_WORKER_ENV", "set after the server started")
    monkeypatch.chdir(tmp_path)
    with open_executor("process", 1) as pool:
        _, cwd, value, _ = pool.submit(_facts).result(timeout=60)
    assert (cwd, value) == (str(tmp_path), "set after the server started")


def test_without_the_servers_parts_workers_are_spawned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forkserver, "_forkserver", object(), raising=False)
    assert worker_server.start_method() == "spawn"
    worker_server.start_worker_server()  # does nothing
    with open_executor("process", 1) as pool:
        parent, _, _, _ = pool.submit(_facts).result(timeout=60)
    assert parent == os.getpid()


SCRIPT = textwrap.dedent(
    """
    import os, time
    from exporter.runtime.executors import open_executor
    from exporter.runtime.worker_server import server_pid, start_worker_server

    def burn():
        start = time.process_time()
        while time.process_time() - start < 0.8:
            pass

    if __name__ == "__main__":
        start_worker_server()
        with open_executor("process", 1) as pool:
            pool.submit(burn).result()
        print(server_pid())
    """
)


@needs_server
def test_the_server_is_waited_for_at_exit_with_its_workers_cpu_time(tmp_path: Path) -> None:
    script = tmp_path / "coordinator.py"
    script.write_text(SCRIPT, encoding="utf-8")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Gone, reaped by the coordinator before it exited: nothing of the run outlives it.
    with pytest.raises(ProcessLookupError):
        os.kill(int(done.stdout.strip()), 0)
    # The worker's 0.8 CPU-s reached this process through the server and the coordinator,
    # each having waited for its children (a server left to end alone takes them along).
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu >= 0.75


SIGNALS_SCRIPT = textwrap.dedent(
    """
    from exporter.runtime.worker_server import server_pid, start_worker_server

    start_worker_server()
    with open(f"/proc/{server_pid()}/status") as status:
        print(next(line for line in status if line.startswith("SigBlk:")).split()[1])
    """
)


@needs_server
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="no /proc to read masks from")
def test_a_fresh_server_holds_sigint_blocked_for_the_workers_it_forks(tmp_path: Path) -> None:
    # In a new process, where the resource tracker is not running yet: starting it unblocks
    # SIGINT in the calling thread, which once let the server start with SIGINT open.
    script = tmp_path / "coordinator.py"
    script.write_text(SIGNALS_SCRIPT, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    assert int(done.stdout.strip(), 16) & (1 << (signal.SIGINT - 1))


PATH_SCRIPT = textwrap.dedent(
    """
    import sys
    from exporter.runtime.executors import open_executor
    from exporter.runtime.worker_server import start_worker_server

    def where():
        return sys.modules["exporter"].__file__

    if __name__ == "__main__":
        start_worker_server()
        with open_executor("process", 1) as pool:
            print(pool.submit(where).result())
    """
)


@needs_server
def test_workers_run_the_coordinators_code_not_a_copy_in_the_working_directory(
    tmp_path: Path,
) -> None:
    script = tmp_path / "bin" / "coordinator.py"
    script.parent.mkdir()
    script.write_text(PATH_SCRIPT, encoding="utf-8")
    elsewhere = tmp_path / "cwd"
    (elsewhere / "exporter").mkdir(parents=True)
    (elsewhere / "exporter" / "__init__.py").write_text("", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    import exporter

    assert done.stdout.strip() == exporter.__file__


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="no /proc to read masks from")
def test_the_coordinators_modules_leave_its_sigint_open() -> None:
    # server_init blocks SIGINT on import: only the server may import it.
    check = (
        "import exporter.cli, exporter.runtime.executors, exporter.runtime.worker_server\n"
        "print(next(l for l in open('/proc/self/status') if l.startswith('SigBlk:')).split()[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=True
    )
    assert not int(done.stdout.strip(), 16) & (1 << (signal.SIGINT - 1))
