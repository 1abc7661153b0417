"""exporter/sources/pg_copy.py: COPY rows read from libpq in batches must be exactly psycopg's
rows, end the COPY cleanly whichever side sees its end, raise the server's error as psycopg
does, and leave the connection usable when the consumer stops early."""

from __future__ import annotations

import selectors
import time
from typing import Any

import psycopg
import pytest

from exporter.sources import pg_copy
from exporter.sources.pg_copy import copy_batches
from tests.conftest import PG

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
    monkeypatch.setattr(pg_copy.selectors, "DefaultSelector", _CountingSelector)
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
