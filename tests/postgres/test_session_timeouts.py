"""Timeouts a DBA set on the export's role do not cut the export short (postgres_sql.py's
SESSION_TIMEOUTS, as pg_dump turns them off): a statement_timeout shorter than a chunk's read,
an idle_in_transaction_session_timeout (or, on 17+, a transaction_timeout) shorter than the
run, which would otherwise end the coordinator's session holding the run's snapshot and fail
every chunk after it ("invalid snapshot identifier"), and an idle_session_timeout shorter than
the time a kept connection waits between its uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from exporter.export.run import run_export
from exporter.sources import get_source
from exporter.sources.dialect import Query
from tests.conftest import PG, make_config, pg_source

pytestmark = pytest.mark.postgres

# Far shorter than a chunk's read, or than the time the pool takes to start after the run's
# snapshot is exported: without the fix, the export fails on either.
ROLE_TIMEOUTS = {
    "statement_timeout": "1ms",
    "lock_timeout": "1ms",
    "idle_in_transaction_session_timeout": "100ms",
    "idle_session_timeout": "100ms",
}
# PostgreSQL 17+: a transaction's whole length (the run's snapshot is held in one).
TRANSACTION_TIMEOUT = {"transaction_timeout": "200ms"}
_ROWS = 60_000


def _role_timeouts(pg: Any) -> dict[str, str]:
    """The timeouts the role gets on this server."""
    newer = pg.info.server_version >= 170000
    return {**ROLE_TIMEOUTS, **(TRANSACTION_TIMEOUT if newer else {})}


@pytest.fixture()
def strict_role(pg: Any, pg_schema: str) -> Iterator[str]:
    """A login role, with the timeouts above, that may read pg_schema's table `t`."""
    role = f"exp_timeouts_{uuid.uuid4().hex[:8]}"
    pg.execute(f'CREATE TABLE "{pg_schema}".t (id int PRIMARY KEY, pad text)')
    pg.execute(
        f"INSERT INTO \"{pg_schema}\".t SELECT g, repeat('x', 100) "
        f"FROM generate_series(1, {_ROWS}) g"
    )
    pg.execute(f'CREATE ROLE "{role}" LOGIN')
    for name, value in _role_timeouts(pg).items():
        pg.execute(f"ALTER ROLE \"{role}\" SET {name} = '{value}'")
    pg.execute(f'GRANT USAGE ON SCHEMA "{pg_schema}" TO "{role}"')
    pg.execute(f'GRANT SELECT ON "{pg_schema}".t TO "{role}"')
    try:
        yield role
    finally:
        pg.execute(f'DROP OWNED BY "{role}"')
        pg.execute(f'DROP ROLE "{role}"')


def test_the_roles_timeouts_are_off_in_the_exporters_sessions(pg: Any, strict_role: str) -> None:
    timeouts = _role_timeouts(pg)
    with psycopg.connect(**{**PG, "user": strict_role}) as plain:  # the role's own settings
        shown = {name: plain.execute(f"SHOW {name}").fetchone()[0] for name in timeouts}
    assert shown == timeouts
    source = get_source(make_config({**pg_source(), "user": strict_role}, Path("/x")).source)
    conn = source.open()
    try:
        for name in timeouts:
            assert conn.fetch_all(Query(f"SHOW {name}")) == [("0",)], name
    finally:
        conn.close()


@pytest.mark.parametrize(
    "kept",
    [
        "statement_timeout",
        "idle_in_transaction_session_timeout",
        "idle_session_timeout",
        "transaction_timeout",
    ],
)
@pytest.mark.parametrize("fetch_path", ["auto", "batch", "rows"])
def test_an_export_outlives_the_roles_timeouts(
    pg: Any, strict_role: str, pg_schema: str, tmp_path: Path, fetch_path: str, kept: str
) -> None:
    if kept not in _role_timeouts(pg):
        pytest.skip(f"{kept} is new in PostgreSQL 17; this server is older")
    for name in set(_role_timeouts(pg)) - {kept}:  # one timeout at a time
        pg.execute(f'ALTER ROLE "{strict_role}" RESET {name}')
    config = make_config(
        {**pg_source(), "user": strict_role},
        tmp_path / "out",
        schemas=[pg_schema],
        workers=1,
        fetch_path=fetch_path,
        chunk_threshold_gb=0.0005,  # several chunks, read one after another by the one worker
        chunk_size_mb=2,
    )
    run = run_export(config, show_progress=False)
    (result,) = run.results
    assert len(result.stats) > 1
    assert (result.status, result.rows, result.errors) == ("SUCCEEDED", _ROWS, [])
