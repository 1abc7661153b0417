"""exporter/sources/pg_copy.py: COPY rows read from libpq in batches must be exactly psycopg's
rows, end the COPY cleanly whichever side sees its end, raise the server's error as psycopg
does, and leave the connection usable when the consumer stops early: each test runs on both
loops, the C one (exporter/sources/_pgcopy.c, compiled wherever the tests run) and Python's."""

from __future__ import annotations

import selectors
import time
from typing import Any

import psycopg
import pytest

from exporter.sources import pg_copy_read
from exporter.sources.pg_copy import copy_batches
from tests.conftest import PG

C_ROW_READER = pg_copy_read.c_row_reader  # before the `loop` fixture replaces it

pytestmark = pytest.mark.postgres

# Rows of varied length, with quotes, commas and newlines inside quoted cells.
ROWS_SQL = (
    "COPY (SELECT g, repeat('x,\"' || chr(10), g % 40), NULLIF(g % 7, 0) "
    "FROM generate_series(1, {n}) g) TO STDOUT (FORMAT csv)"
)
FAILING_SQL = (
    "COPY (SELECT g, CASE WHEN g < {n} THEN g ELSE 1 / (g - g) END "
    "FROM generate_series(1, {n}) g) TO STDOUT (FORMAT csv)"
)


class _CountingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """The loop's socket waits, counted."""

    waits = 0

    def select(self, timeout: float | None = None) -> Any:
        type(self).waits += 1
        return super().select(timeout)


@pytest.fixture(params=["c", "python"], autouse=True)
def loop(request: Any, pg: Any, monkeypatch: Any) -> str:
    """Which loop `copy_batches` runs: the C one must be available for this connection."""
    if request.param == "c":
        assert pg_copy_read.c_row_reader(pg.pgconn) is not None
    else:
        monkeypatch.setattr(pg_copy_read, "c_row_reader", lambda pgconn: None)
    return str(request.param)


def _psycopg_rows(pg: Any, sql: str) -> list[bytes]:
    with pg.cursor() as cur, cur.copy(sql) as copy:
        return [bytes(row) for row in copy]


def _batched_rows(pg: Any, sql: str, batch_rows: int) -> list[list[bytes]]:
    with pg.cursor() as cur, cur.copy(sql) as copy:
        return [[bytes(r) for r in b] for b in copy_batches(copy, pg, batch_rows)]


def _usable(pg: Any) -> bool:
    return bool(pg.execute("SELECT 1").fetchone() == (1,))


@pytest.mark.parametrize("n", [0, 1, 7, 5000, 100000])
def test_batches_hold_exactly_psycopgs_rows(pg: Any, n: int, monkeypatch: Any) -> None:
    sql = ROWS_SQL.format(n=n)
    expected = _psycopg_rows(pg, sql)
    monkeypatch.setattr(pg_copy_read.selectors, "DefaultSelector", _CountingSelector)
    _CountingSelector.waits = 0
    batches = _batched_rows(pg, sql, 7)
    assert [row for batch in batches for row in batch] == expected
    assert len(expected) == n
    assert all(0 < len(batch) <= 7 for batch in batches)
    if n >= 100000:  # megabytes: more than one socket read, so the loop waited
        assert _CountingSelector.waits > 0
    assert _usable(pg)


def test_the_end_seen_by_libpq_first_is_fetched_here(pg: Any) -> None:
    """The server has sent every row, the end and the final result before the first read:
    the end of the COPY and its result then come from libpq's buffer, with no wait."""
    sql = ROWS_SQL.format(n=50)
    with pg.cursor() as cur, cur.copy(sql) as copy:
        time.sleep(0.3)  # everything is in the socket buffer
        rows = [bytes(r) for b in copy_batches(copy, pg, 1000) for r in b]
    assert len(rows) == 50
    assert pg.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert _usable(pg)


def test_a_server_error_mid_copy_is_raised_as_psycopg_raises_it(pg: Any) -> None:
    sql = FAILING_SQL.format(n=20000)
    got: list[bytes] = []
    with pytest.raises(psycopg.errors.DivisionByZero), pg.cursor() as cur, cur.copy(sql) as copy:
        for batch in copy_batches(copy, pg, 100):
            got.extend(map(bytes, batch))
    # The rows before the error, in order (the failing batch is not handed over: the chunk
    # fails anyway); never a row after it.
    assert got == [f"{g},{g}\n".encode() for g in range(1, len(got) + 1)]
    assert 19999 - 100 < len(got) < 20000
    assert _usable(pg)


def test_stopping_early_cancels_the_copy_and_leaves_the_connection_usable(pg: Any) -> None:
    sql = ROWS_SQL.format(n=200000)
    with pytest.raises(RuntimeError), pg.cursor() as cur, cur.copy(sql) as copy:
        for _batch in copy_batches(copy, pg, 100):
            raise RuntimeError("the consumer failed")
    assert _usable(pg)
    assert pg.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_a_terminated_backend_is_reported_with_the_servers_error(pg: Any) -> None:
    """The server sends its FATAL error, then closes the connection: the error is what must
    be reported (AdminShutdown, 57P01), not the closed socket that follows it."""
    import threading

    sql = (
        "COPY (SELECT g, pg_sleep(CASE WHEN g = 20 THEN 30 ELSE 0 END) "
        "FROM generate_series(1, 40) g) TO STDOUT (FORMAT csv)"
    )
    pid = pg.info.backend_pid
    with psycopg.connect(**PG, autocommit=True) as killer:
        timer = threading.Timer(
            0.5, lambda: killer.execute("SELECT pg_terminate_backend(%s)", (pid,))
        )
        timer.start()
        try:
            with pytest.raises(psycopg.errors.AdminShutdown), pg.cursor() as cur:
                with cur.copy(sql) as copy:
                    for _batch in copy_batches(copy, pg, 100):
                        pass
        finally:
            timer.join()


def test_the_c_loop_reports_libpqs_error_as_psycopg_does(pg: Any) -> None:
    """Outside a COPY, PQgetCopyData fails (-2, "no COPY in progress"): the C loop returns
    that, and `copy_batches` raises psycopg's OperationalError with libpq's message."""
    reader = C_ROW_READER(pg.pgconn)
    assert reader is not None
    status, rows = reader(10)
    assert (status, rows) == (-2, [])
    assert "no COPY in progress" in pg.pgconn.get_error_message()
    with pytest.raises(psycopg.OperationalError, match="no COPY in progress"):
        # `copy` is only held open by the caller; the loop reads through `reader`.
        list(copy_batches(None, pg, 10, reader))


def test_a_pgconn_that_does_not_answer_as_the_connection_is_refused(
    pg: Any, monkeypatch: Any
) -> None:
    """The functions found are checked against the connection before use: where libpq's
    PQbackendPID gives another process id than psycopg's, or none (0), or the library is
    not the version psycopg reports, the C loop is not used."""
    found = pg_copy_read._libpq_functions()
    assert found is not None
    get_copy_data, freemem, backend_pid, lib_version = found
    assert backend_pid(pg.pgconn.pgconn_ptr) == pg.info.backend_pid
    assert lib_version() == psycopg.pq.version()
    for pid, version in ((lambda _ptr: -1, lib_version), (lambda _ptr: 0, lib_version)):
        monkeypatch.setattr(
            pg_copy_read,
            "_libpq_functions",
            lambda p=pid, v=version: (get_copy_data, freemem, p, v),
        )
        assert C_ROW_READER(pg.pgconn) is None
    monkeypatch.setattr(
        pg_copy_read,
        "_libpq_functions",
        lambda: (get_copy_data, freemem, backend_pid, lambda: lib_version() - 1),
    )
    assert C_ROW_READER(pg.pgconn) is None


def test_the_c_reader_refuses_a_connection_closed_meanwhile(pg: Any) -> None:
    reader = C_ROW_READER(pg.pgconn)
    assert reader is not None
    pg.close()
    with pytest.raises(psycopg.OperationalError, match="closed"):
        reader(10)


def _low_water(pg: Any) -> int:
    """The connection's socket's SO_RCVLOWAT, read through a second descriptor."""
    import os
    import socket

    with socket.socket(fileno=os.dup(pg.pgconn.socket)) as sock:
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT)


def _marks_while_waiting(pg: Any, monkeypatch: Any) -> list[int]:
    """The socket's mark as each wait of the loop sees it (recorded by its selector)."""
    marks: list[int] = []

    class Recording(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
        def select(self, timeout: float | None = None) -> Any:
            marks.append(_low_water(pg))
            return super().select(timeout)

    monkeypatch.setattr(pg_copy_read.selectors, "DefaultSelector", Recording)
    return marks


def test_the_low_water_mark_is_raised_only_while_the_loop_waits(pg: Any, monkeypatch: Any) -> None:
    """Each wait sees pg_copy_read's mark (TCP here); between batches, and after a COPY that
    ends, that the server fails or that the consumer leaves, it is 1: psycopg never waits
    with it raised (it would wait for a quarter megabyte that never comes)."""
    marks = _marks_while_waiting(pg, monkeypatch)
    between: list[int] = []
    # Pauses in the stream: whichever reader, it finds the socket empty and waits.
    pausing = (
        "COPY (SELECT g, repeat('x', 100), CASE WHEN g % 10000 = 0 THEN pg_sleep(0.05) END "
        "FROM generate_series(1, 50000) g) TO STDOUT (FORMAT csv)"
    )
    with pg.cursor() as cur, cur.copy(pausing) as copy:
        for _batch in copy_batches(copy, pg, 100):
            between.append(_low_water(pg))
    assert marks and set(marks) == {pg_copy_read.LOW_WATER_BYTES}
    assert set(between) == {1}
    assert _low_water(pg) == 1
    with pytest.raises(psycopg.errors.DivisionByZero), pg.cursor() as cur:
        with cur.copy(FAILING_SQL.format(n=20000)) as copy:
            for _batch in copy_batches(copy, pg, 100):
                pass
    assert _low_water(pg) == 1
    with pytest.raises(RuntimeError), pg.cursor() as cur, cur.copy(ROWS_SQL.format(n=1000)) as copy:
        for _batch in copy_batches(copy, pg, 10):
            raise RuntimeError("the consumer failed")
    assert _low_water(pg) == 1
    assert _usable(pg)


def test_a_copy_left_with_its_generator_held_is_cancelled_without_hanging(pg: Any) -> None:
    """A caller that keeps the paused generator while psycopg's `Copy` block exits: psycopg
    cancels the COPY and waits for the server's small reply, which a raised mark would
    have held back for ever. Run on a thread so that a hang fails the test."""
    import threading

    outcome: list[BaseException | None] = []

    def leave_early() -> None:
        try:
            with pg.cursor() as cur, cur.copy(ROWS_SQL.format(n=200000)) as copy:
                held = copy_batches(copy, pg, 100)
                next(held)
                raise RuntimeError("the consumer failed")
        except BaseException as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=leave_early, daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), "psycopg's cancel hung on the socket"
    assert isinstance(outcome[0], RuntimeError)
    assert _usable(pg)


def test_rows_slower_than_the_mark_still_arrive_whole(pg: Any) -> None:
    """A source that sends a few bytes at a time never reaches the mark: each wait ends at
    its timeout and the rows come through, each whole, the last one included."""
    sql = "COPY (SELECT g, pg_sleep(0.02) FROM generate_series(1, 15) g) TO STDOUT (FORMAT csv)"
    rows = [bytes(r) for b in _batched_rows(pg, sql, 4) for r in b]
    assert rows == [f'{g},""\n'.encode() for g in range(1, 16)]  # pg_sleep's void: ""
    assert _usable(pg)


def test_a_receive_buffer_smaller_than_the_mark_lowers_the_mark(pg: Any, monkeypatch: Any) -> None:
    """Where the socket's receive buffer is fixed below the mark (SO_RCVBUF set by hand
    locks it), the mark is kept to a quarter of the buffer, so that waits end on data, not
    on the timeout; the rows are the same."""
    import os
    import socket

    sql = ROWS_SQL.format(n=20000)
    expected = _psycopg_rows(pg, sql)
    with socket.socket(fileno=os.dup(pg.pgconn.socket)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        buffer = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    marks = _marks_while_waiting(pg, monkeypatch)
    got: list[bytes] = []
    with pg.cursor() as cur, cur.copy(sql) as copy:
        for batch in copy_batches(copy, pg, 500):
            got.extend(map(bytes, batch))
    assert got == expected
    assert buffer < 4 * pg_copy_read.LOW_WATER_BYTES
    assert set(marks) <= {buffer // 4}  # a reader slower than the server may never wait
    with pg_copy_read.SocketWait(pg.pgconn) as socket_wait:
        assert socket_wait.mark == buffer // 4
    assert _low_water(pg) == 1
