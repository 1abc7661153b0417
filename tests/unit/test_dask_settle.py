"""exporter/runtime/dask_executor.py: a Dask future's outcome passed on to the run's own
future, including a task whose cancel (a Ctrl-C) overtakes the fetch of its result: it must
end cancelled, never raise into Dask's callback, which prints a traceback."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest

pytest.importorskip("distributed")

from distributed.client import FutureCancelledError  # noqa: E402
from distributed.comm.core import CommClosedError  # noqa: E402

from exporter.runtime.dask_executor import DaskExecutor  # noqa: E402


class _DaskFuture:
    """What _settle reads of a distributed Future."""

    def __init__(self, status: str, result: Any = None, raises: BaseException | None = None):
        self.status = status
        self._result = result
        self._raises = raises

    def cancelled(self) -> bool:
        return self.status == "cancelled"

    def result(self) -> Any:
        if self._raises is not None:
            raise self._raises
        return self._result

    def exception(self) -> BaseException | None:
        # Raised, not returned, where fetching the outcome itself fails.
        if isinstance(self._raises, (FutureCancelledError, CommClosedError)):
            raise self._raises
        return self._raises


def _settled(done: _DaskFuture) -> Future[Any]:
    executor = DaskExecutor.__new__(DaskExecutor)  # no cluster: _settle reads only `done`
    executor._pending = {done}
    result: Future[Any] = Future()
    executor._settle(done, result)
    assert done not in executor._pending
    return result


def test_a_finished_task_passes_its_result_on() -> None:
    assert _settled(_DaskFuture("finished", result=7)).result() == 7


def test_a_failed_task_passes_its_error_on() -> None:
    failure = ValueError("the chunk failed")
    assert _settled(_DaskFuture("error", raises=failure)).exception() is failure


def test_a_cancelled_task_ends_cancelled() -> None:
    assert _settled(_DaskFuture("cancelled")).cancelled()


@pytest.mark.parametrize("status", ["finished", "error"])
def test_a_cancel_that_overtakes_the_outcome_ends_cancelled_without_raising(status: str) -> None:
    """The status read "finished" (or "error"), then the scheduler cancelled the key before
    its outcome was fetched: distributed raises FutureCancelledError from result()."""
    overtaken = _DaskFuture(status, raises=FutureCancelledError("k", reason="unknown"))
    assert _settled(overtaken).cancelled()


@pytest.mark.parametrize("status", ["finished", "error"])
def test_an_outcome_that_cannot_be_fetched_is_the_task_s_failure_without_raising(
    status: str,
) -> None:
    """A Ctrl-C closes the client while a finished task's result is being fetched:
    distributed raises CommClosedError from result() (seen in tests/postgres/test_dask.py's
    Ctrl-C test, where it printed a traceback under the run's one line)."""
    lost = CommClosedError("in <TCP (closed) ConnectionPool.gather>: Stream is closed")
    failure = _settled(_DaskFuture(status, raises=lost)).exception()
    assert isinstance(failure, RuntimeError) and failure.__cause__ is lost
    assert "Stream is closed" in str(failure) and "re-run" in str(failure)
