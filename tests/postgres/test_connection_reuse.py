"""A worker keeps its connection for the next chunk only while it is usable: a chunk that
failed on our side (bad data, a full disk) may have left the connection dead (the backend
lost while the COPY was being cancelled) or inside a transaction."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest

from exporter.config.loader import parse_config
from exporter.export import task
from exporter.export.run import run_export
from exporter.runtime import connections
from exporter.sources import get_source
from exporter.sources.dialect import Query
from tests.conftest import PG, make_config, pg_source

pytestmark = pytest.mark.postgres


def _source() -> Any:
    config = parse_config({"source": pg_source(), "export": {"output_dir": "/nonexistent"}})
    return get_source(config.source)


def test_postgres_connection_is_reusable_only_when_open_and_idle(pg_available: None) -> None:
    conn = _source().open()
    try:
        assert conn.reusable()
        conn.raw.execute("BEGIN")
        assert not conn.reusable()  # a transaction left open
        conn.raw.execute("ROLLBACK")
        assert conn.reusable()
        with psycopg.connect(**PG, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (conn.raw.info.backend_pid,))
        with pytest.raises(psycopg.OperationalError):
            conn.fetch_all(Query("SELECT 1"))
        assert not conn.reusable()  # the backend is gone
    finally:
        conn.close()


def test_a_worker_drops_a_connection_that_is_not_reusable(pg_available: None) -> None:
    source = _source()
    conn = source.open()
    connections._cache[(threading.get_ident(), "key")] = (source, conn)  # this thread's
    try:
        connections.drop_if_broken(conn)
        assert connections._cache, "a usable connection is kept for the next chunk"
        conn.raw.execute("BEGIN")
        connections.drop_if_broken(conn)
        assert not connections._cache
        assert conn.raw.closed
    finally:
        connections.close_connections()


def test_a_server_lost_mid_arrow_stream_is_a_source_error(pg: Any) -> None:
    """ADBC reports a connection lost mid-stream as a plain OSError: it must come out as the
    source's error (connection lost), never as the output disk's."""
    from exporter.errors import SourceError

    source = _source()
    conn = source.open()
    query = Query("SELECT g, repeat('x', 200) FROM generate_series(1, 2000000) AS g")
    batches = source.arrow_batches(conn, query, None, 10_000)
    assert batches is not None
    try:
        next(batches)
        pid = pg.execute(
            "SELECT pid FROM pg_stat_activity WHERE query LIKE 'COPY%%generate_series%%' "
            "AND pid <> pg_backend_pid()"
        ).fetchone()[0]
        pg.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with pytest.raises(SourceError) as caught:
            for _batch in batches:
                pass
        assert caught.value.db_code == "08006"
    finally:
        batches.close()
        conn.close()


def test_a_rows_chunk_failing_midway_leaves_its_connection_idle(
    pg: Any, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many small batches, the bad value in a middle one: the prefetching thread is ahead
    # (export/prefetch.py) when the encoder refuses it; the cursor and the transaction must
    # still be closed before the worker looks at its connection.
    pg.execute(f'CREATE TABLE "{pg_schema}".bad (id int, t text)')
    pg.execute(
        f"""INSERT INTO "{pg_schema}".bad SELECT i, CASE WHEN i = 60 THEN E'\\\\N' ELSE 'x' END
        FROM generate_series(1, 200) i"""
    )
    seen: list[bool] = []
    keep = task.drop_if_broken

    def spy(conn: Any) -> None:
        seen.append(conn.reusable())
        keep(conn)

    monkeypatch.setattr(task, "drop_if_broken", spy)
    config = make_config(
        pg_source(), tmp_path / "out", schemas=[pg_schema], fetch_path="rows", fetch_rows=5
    )
    (result,) = run_export(config, inline=True, show_progress=False).results
    assert result.status == "FAILED" and "null marker" in result.errors[0]
    assert seen == [True]
    assert not [t for t in threading.enumerate() if t.name == "prefetch"]


def test_connections_probe_their_peer_when_idle(pg_available: None) -> None:
    """TCP keepalives (pg_conn.KEEPALIVES) on psycopg's socket, and in ADBC's URI: a
    firewall that drops idle connections must not end the run's snapshot."""
    import os
    import socket

    from psycopg.conninfo import conninfo_to_dict

    from exporter.sources.pg_conn import KEEPALIVES, adbc_uri

    source = _source()
    conn = source.open()
    try:
        if conn.raw.info.host.startswith("/"):
            pytest.skip("a Unix-domain socket has no TCP keepalives")
        with socket.socket(fileno=os.dup(conn.raw.pgconn.socket)) as sock:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            tcp = socket.IPPROTO_TCP
            got = (
                sock.getsockopt(tcp, socket.TCP_KEEPIDLE),
                sock.getsockopt(tcp, socket.TCP_KEEPINTVL),
                sock.getsockopt(tcp, socket.TCP_KEEPCNT),
            )
        want = ("keepalives_idle", "keepalives_interval", "keepalives_count")
        assert got == tuple(int(KEEPALIVES[name]) for name in want)
    finally:
        conn.close()
    params = conninfo_to_dict(adbc_uri(source.config))
    assert {name: str(params[name]) for name in KEEPALIVES} == KEEPALIVES
