"""The rows path's PostgreSQL reader (exporter/sources/pg_rows.py): every row once, in order,
in batches of at most `batch_rows`, whether streamed (libpq 17+) or through the server-side
cursor kept for older libpq; and a reader closed midway ends its query, so that the
transaction can be rolled back, as after a chunk that failed on our side."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from exporter.sources import pg_rows
from exporter.sources.dialect import Query

pytestmark = pytest.mark.postgres

_ROWS = 2500
_QUERY = Query(
    "SELECT g, repeat('x', g %% 7), g::numeric / 8 FROM generate_series(1, %(n)s) AS g ORDER BY g",
    {"n": _ROWS},
)


@pytest.fixture(params=["streamed", "cursor"])
def reader_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "streamed" and not pg_rows.chunked_rows_available():
        pytest.skip("psycopg's libpq is older than 17: only the cursor reader runs here")
    if request.param == "cursor":
        monkeypatch.setattr(pg_rows, "chunked_rows_available", lambda: False)
    return str(request.param)


def test_every_row_comes_once_in_order_in_bounded_batches(pg: Any, reader_kind: str) -> None:
    with pg.transaction():
        batches = list(pg_rows.row_batches(pg, _QUERY, 1000))
    assert [len(b) for b in batches] == [1000, 1000, 500]
    rows = [row for batch in batches for row in batch]
    assert [r[0] for r in rows] == list(range(1, _ROWS + 1))
    assert rows[12] == (13, "xxxxxx", pytest.approx(13 / 8))


def test_the_streamed_query_gets_no_parallel_plan_as_under_a_cursor(pg: Any) -> None:
    if not pg_rows.chunked_rows_available():
        pytest.skip("psycopg's libpq is older than 17: only the cursor reader runs here")
    shown = "SELECT current_setting('max_parallel_workers_per_gather') FROM generate_series(1, 3)"
    with pg.transaction():
        (batch,) = pg_rows.row_batches(pg, Query(shown), 10)
        assert batch == [("0",)] * 3
    assert pg.execute("SHOW max_parallel_workers_per_gather").fetchone() != ("0",)  # local


class _ChunkFailed(Exception):
    """Stands for a failure on our side midway through a chunk (bad data, a full disk)."""


def test_a_reader_closed_midway_ends_its_query(pg: Any, reader_kind: str) -> None:
    from psycopg.pq import TransactionStatus

    endless = Query("SELECT g FROM generate_series(1, %(n)s) AS g", {"n": 200_000})
    with pytest.raises(_ChunkFailed), pg.transaction():
        batches = pg_rows.row_batches(pg, endless, 100)
        with contextlib.closing(batches):
            assert len(next(batches)) == 100
        # The query is over (cancelled, or its cursor closed), not left running.
        assert pg.info.transaction_status != TransactionStatus.ACTIVE
        raise _ChunkFailed
    assert pg.info.transaction_status == TransactionStatus.IDLE
    assert pg.execute("SELECT count(*) FROM generate_series(1, 5)").fetchone() == (5,)


@pytest.mark.parametrize("built_with", ["build", "run"])
def test_no_stream_where_psycopg_was_built_or_runs_with_an_older_libpq(
    monkeypatch: pytest.MonkeyPatch, built_with: str
) -> None:
    import psycopg
    from psycopg import pq

    if not pg_rows.chunked_rows_available():
        pytest.skip("psycopg's libpq is older than 17 here")
    monkeypatch.setattr(psycopg.capabilities, "_cache", {})  # psycopg caches its verdicts
    if built_with == "build":  # a psycopg compiled against libpq 16, run with libpq 17+
        monkeypatch.setattr(pq, "__build_version__", 160004)
    else:
        monkeypatch.setattr(pq, "version", lambda: 160004)
    assert not pg_rows.chunked_rows_available()
