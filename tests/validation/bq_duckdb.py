"""Test helpers: stand in for BigQuery with DuckDB.

A table's chunk files are loaded into DuckDB typed by its schema.json, under the name its
validation.sql uses (`project`.`dataset`.`table` becomes DuckDB catalog.schema.table through
ATTACH and CREATE SCHEMA, so the SQL is run as transpiled, without rewriting). DuckDB has no
BIGNUMERIC: sqlglot turns it into DECIMAL(38, 5), so tests keep decimal sums within 33 integer
and 5 fractional digits.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
import sqlglot

from exporter.fsutil import read_json
from exporter.layout import ExportLayout
from exporter.model import TablePlan, TableRef

DUCKDB_TYPES = {
    "INT64": "BIGINT",
    "NUMERIC": "DECIMAL(38, 9)",
    "BIGNUMERIC": "DECIMAL(38, 10)",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "STRING": "VARCHAR",
    "JSON": "VARCHAR",
    "DATE": "DATE",
    "DATETIME": "TIMESTAMP",
    "TIMESTAMP": "TIMESTAMPTZ",
    "TIME": "TIME",
    "BYTES": "VARCHAR",  # base64 text; never summed
}


def quote(name: str) -> str:
    """A DuckDB quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    """A DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def table_files(
    layout: ExportLayout, table: TableRef
) -> tuple[TablePlan, list[dict[str, Any]], str]:
    """The table's plan, schema.json and validation.sql."""
    plan = TablePlan.from_json(read_json(layout.plan_file(table)))
    schema = read_json(layout.schema_file(table))
    sql = layout.validation_sql_file(table).read_text(encoding="utf-8")
    return plan, schema, sql


def target_of(sql: str) -> tuple[str, str, str]:
    """(catalog, db, table) of the table validation.sql reads."""
    parsed = sqlglot.parse_one(sql, read="bigquery")
    tables = {(t.catalog, t.db, t.name) for t in parsed.find_all(sqlglot.exp.Table)}
    tables = {t for t in tables if t[0]}  # the CTE names `actual`/`expected` have no catalog
    assert len(tables) == 1, tables
    return tables.pop()


def load_table(
    con: duckdb.DuckDBPyConnection,
    layout: ExportLayout,
    plan: TablePlan,
    schema: list[dict[str, Any]],
    target: tuple[str, str, str],
) -> str:
    """Create `target` in DuckDB from the table's chunk files; returns its quoted name."""
    catalog, db, name = target
    if catalog not in {
        row[0] for row in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()
    }:
        con.execute(f"ATTACH ':memory:' AS {quote(catalog)}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(catalog)}.{quote(db)}")
    qualified = f"{quote(catalog)}.{quote(db)}.{quote(name)}"
    columns = {f["name"]: DUCKDB_TYPES[f["type"]] for f in schema}
    ddl = ", ".join(
        f"{quote(f['name'])} {columns[f['name']]}{' NOT NULL' if f['mode'] == 'REQUIRED' else ''}"
        for f in schema
    )
    con.execute(f"CREATE OR REPLACE TABLE {qualified} ({ddl})")
    files = sorted(str(p) for p in layout.existing_chunk_files(plan.table).values())
    spec = "{" + ", ".join(f"{sql_string(n)}: {sql_string(t)}" for n, t in columns.items()) + "}"
    con.execute(
        f"INSERT INTO {qualified} SELECT * FROM read_csv([{', '.join(map(sql_string, files))}], "
        f"header = true, auto_detect = false, columns = {spec}, quote = '\"', escape = '\"', "
        f"nullstr = {sql_string(plan.file_format.null_marker)}, allow_quoted_nulls = false)"
    )
    return qualified


def run_checks(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    """Run validation.sql (BigQuery) in DuckDB; its one row as {column: value}."""
    (duck_sql,) = sqlglot.transpile(sql, read="bigquery", write="duckdb")
    cursor = con.execute(duck_sql)
    rows = cursor.fetchall()
    assert len(rows) == 1, rows
    return dict(zip([d[0] for d in cursor.description], rows[0], strict=True))


def ok_columns(row: dict[str, Any]) -> dict[str, Any]:
    """The BOOL columns of a result row."""
    return {k: v for k, v in row.items() if k.endswith("_ok")}


def dumps(row: dict[str, Any]) -> str:
    """A result row, readable in assertion messages."""
    return json.dumps(row, default=str, indent=1)
