"""validation.sql for a PostgreSQL table with decimal columns, run in DuckDB on the files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from exporter.export.run import run_export
from exporter.fsutil import read_json
from exporter.layout import ExportLayout
from exporter.model import TableRef
from tests.conftest import make_config, pg_source
from tests.validation.bq_duckdb import (
    dumps,
    load_table,
    ok_columns,
    run_checks,
    table_files,
    target_of,
)

pytestmark = pytest.mark.postgres

DDL = """
CREATE TABLE {s}.money (
    id integer PRIMARY KEY, amount numeric(12,2) NOT NULL, rate numeric(20,4),
    free numeric, wide numeric(40,2), big bigint, f float8, t text, b boolean,
    d date, ts timestamp, tstz timestamptz, by bytea, j jsonb
)
"""


def test_decimal_sums_check_out(pg: Any, pg_schema: str, tmp_path: Path) -> None:
    pg.execute(DDL.format(s=f'"{pg_schema}"'))
    pg.execute(
        f'INSERT INTO "{pg_schema}".money SELECT i, i * 1.25, i / 7.0, '
        "CASE WHEN i % 3 = 0 THEN NULL ELSE i * 1000000000000.12345 END, i * 10.5, "
        "9000000000000000000 - i, i / 3.0, 'r' || i, i % 2 = 0, DATE '2024-01-01' + i, "
        "TIMESTAMP '2024-01-01 00:00:00.5' + i * INTERVAL '1 minute', "
        "TIMESTAMPTZ '2024-01-01 00:00:00+02' + i * INTERVAL '1 second', "
        "decode(md5(i::text), 'hex'), jsonb_build_object('i', i) "
        "FROM generate_series(1, 500) AS i"
    )
    config = make_config(pg_source(), tmp_path / "out", schemas=[pg_schema], use_client_hash=False)
    assert run_export(config, inline=True, show_progress=False).ok
    layout = ExportLayout(tmp_path / "out")
    table = TableRef(pg_schema, "money")
    plan, schema, sql = table_files(layout, table)
    types = {f["name"]: f["type"] for f in schema}
    assert types["amount"] == "NUMERIC" and types["rate"] == "NUMERIC"
    assert types["free"] == types["wide"] == "BIGNUMERIC" and types["big"] == "INT64"
    assert types["tstz"] == "TIMESTAMP" and types["ts"] == "DATETIME" and types["j"] == "JSON"
    assert {f["name"]: f["mode"] for f in schema}["amount"] == "REQUIRED"

    con = duckdb.connect()
    name = load_table(con, layout, plan, schema, target_of(sql))
    row = run_checks(con, sql)
    assert row["all_checks_ok"] is True, dumps(row)
    assert len(ok_columns(row)) == 2 + 6  # all, row_count, id amount rate free wide big
    con.execute(f"UPDATE {name} SET amount = amount + 0.01 WHERE id = 7")
    row = run_checks(con, sql)
    assert row["sum_amount_ok"] is False and row["sum_rate_ok"] is True, dumps(row)

    meta = read_json(layout.metadata_file(table))
    count, amount = pg.execute(
        f'SELECT COUNT(*), SUM(amount)::text FROM "{pg_schema}".money'
    ).fetchone()
    assert meta["source_row_count"] == count == meta["exported_row_count"] == 500
    sums = {s["column"]: s for s in meta["column_sums"]}
    assert sums["amount"]["source"] == amount == sums["amount"]["exported"]
    assert meta["row_hash"]["requested"] == "database"
    assert meta["row_hash"]["computed"] == "database"
    assert all(c["path"] == "bulk" for c in meta["chunks"])
