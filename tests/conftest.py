"""Shared fixtures: PostgreSQL connection and throwaway schemas, config builders.

PostgreSQL tests skip only when no server answers *and* CI is unset; under CI a missing
server fails the run (tests/postgres are part of the contract).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exporter.config import ExportConfig, parse_config

# EXPORTER_TEST_PG_PORT runs the PostgreSQL tests against another server on this host (say,
# another major version on 5433); user postgres, trust auth and a database `test`, as on 5432.
PG = {
    "host": "127.0.0.1",
    "port": int(os.environ.get("EXPORTER_TEST_PG_PORT") or 5432),
    "user": "postgres",
    "dbname": "test",
}


def _pg_connect() -> Any:
    import psycopg

    return psycopg.connect(**PG, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def pg_available() -> None:
    """Skip (or, under CI, fail) when the PostgreSQL server does not answer."""
    where = f"{PG['host']}:{PG['port']}"
    try:
        _pg_connect().close()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PostgreSQL at {where} does not answer: {exc}")
        pytest.skip(f"no PostgreSQL server at {where} ({exc}); CI is unset")


@pytest.fixture()
def pg(pg_available: None) -> Iterator[Any]:
    """An autocommit psycopg connection to the test database."""
    conn = _pg_connect()
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture()
def pg_schema(pg: Any) -> Iterator[str]:
    """A fresh schema with a random name, dropped afterwards."""
    name = f"exp_test_{uuid.uuid4().hex[:10]}"
    pg.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield name
    finally:
        pg.execute(f'DROP SCHEMA "{name}" CASCADE')


def make_config(source: dict[str, Any], output_dir: Path, **export: Any) -> ExportConfig:
    """An ExportConfig for tests (validated like a real config file)."""
    return parse_config({"source": source, "export": {"output_dir": str(output_dir), **export}})


def pg_source() -> dict[str, Any]:
    """The `source:` block of the test PostgreSQL server."""
    return {
        "engine": "postgresql",
        "host": PG["host"],
        "port": PG["port"],
        "database": PG["dbname"],
        "user": PG["user"],
    }
