"""PostgreSQL's SQL for the comparison form against the Python reference (canonical/digest.py),
value by value and digest by digest: where they agree, a PostgreSQL table and a copy in an
engine whose form is computed in Python (SQLite) compare equal."""

from __future__ import annotations

from typing import Any

import pytest

from exporter.canonical.digest import compare_cell, compare_record, digest60
from exporter.config.loader import parse_config
from exporter.model import Column, ColumnKind, TableRef
from exporter.sources import get_source
from exporter.sources.dialect import Query
from tests.conftest import pg_source

pytestmark = pytest.mark.postgres

VALUES: dict[tuple[str, ColumnKind], list[str | None]] = {
    ("numeric", ColumnKind.DECIMAL): [
        "0", "-0.000", "1.50", "100", "0.00000000000000000001", "-12.300", "NaN",
        "123456789012345678901234567890.1234567890", "99999999999999999999999999999999999999",
    ],
    ("numeric(12,4)", ColumnKind.DECIMAL): ["3.0000", "-0.0001", "12345678.9"],
    ("bigint", ColumnKind.INTEGER): ["0", "-9223372036854775808", "9223372036854775807"],
    ("float8", ColumnKind.FLOAT): [
        "0.1", "-0", "1e300", "5e-324", "NaN", "Infinity", "-Infinity", "123456789.125",
        "1e15", "1e16", "0.0001", "0.00001", "1e23",
    ],
    ("real", ColumnKind.FLOAT): ["0.1", "3.4028235e38", "-1e-40"],
    ("boolean", ColumnKind.BOOLEAN): ["true", "false"],
    ("date", ColumnKind.DATE): ["0001-01-01", "2024-02-29", "9999-12-31"],
    ("timestamp", ColumnKind.DATETIME): [
        "0001-01-01 00:00:00", "2024-01-02 03:04:05.000006", "9999-12-31 23:59:59.999999",
    ],
    ("timestamptz", ColumnKind.TIMESTAMP): [
        "2024-01-02 03:04:05.5+05:30", "2024-07-01 00:00:00-07", "0002-01-01 00:00:00+00",
    ],
    ("time", ColumnKind.TIME): ["00:00:00", "23:59:59.999999", "12:00:00.1"],
    ("bytea", ColumnKind.BYTES): ["", "\\x00ff", "\\x" + "ab" * 300],
    ("text", ColumnKind.STRING): [
        "", 'a "b", c', "line\nbreak\r\n", "ünïcödé 😀", "back\\slash \\N", "  spaces  ",
    ],
}  # fmt: skip


def _as_read(native: str, expression: str) -> str:
    """The value as the comparison form sees it: a real is its widened double (psycopg would
    hand over the shortest digits of the float4 instead, 0.1 for 0.10000000149011612)."""
    return f"CAST({expression} AS float8)" if native == "real" else expression


def _source() -> Any:
    config = parse_config({"source": pg_source(), "export": {"output_dir": "/nonexistent"}})
    return get_source(config.source)


@pytest.mark.parametrize(("native", "kind"), list(VALUES), ids=lambda v: str(v))
def test_sql_cells_equal_the_python_reference(
    pg_available: None, native: str, kind: ColumnKind
) -> None:
    source = _source()
    column = Column("v", native, kind)
    cell = source.dialect.compare_cell(column)
    with source.session() as conn:
        for text in [*VALUES[(native, kind)], None]:
            value_sql = _as_read(native, "v")
            sql = f"SELECT {value_sql}, {cell} FROM (SELECT CAST(%(t)s AS {native}) AS v) AS s"
            ((value, from_sql),) = conn.fetch_all(Query(sql, {"t": text}))
            assert from_sql == compare_cell(kind, value), (native, text)


def test_sql_digests_equal_the_python_reference(pg_available: None) -> None:
    source = _source()
    columns = [Column(f"c{i}", native, kind) for i, (native, kind) in enumerate(VALUES)]
    digest, params = source.dialect.row_digest(columns)
    width = max(len(v) for v in VALUES.values())
    rows = []
    for j in range(width + 1):  # the last row: every value NULL
        values = [v[j] if j < len(v) else None for v in VALUES.values()]
        rows.append(values)
    selects = ", ".join(
        f"CAST(%(v{i})s AS {c.native_type}) AS {c.name}" for i, c in enumerate(columns)
    )
    with source.session() as conn:
        for values in rows:
            bound = {f"v{i}": value for i, value in enumerate(values)}
            values_sql = ", ".join(_as_read(c.native_type, c.name) for c in columns)
            sql = f"SELECT {values_sql}, {digest} FROM (SELECT {selects}) AS s"
            (row,) = conn.fetch_all(Query(sql, {**bound, **params}))
            kinds = [c.kind for c in columns]
            assert row[-1] == digest60(compare_record(kinds, list(row[:-1])))


def test_a_table_ref_is_quoted_in_the_sample(pg_available: None) -> None:
    query = _source().dialect.sample_keys(
        TableRef("a b", "C"), [Column("k", "int8", ColumnKind.INTEGER)], 1.0
    )
    assert '"a b"."C"' in query.sql and query.params == {"percent": 1.0, "seed": 42}
