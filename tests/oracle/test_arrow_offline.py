"""Oracle's batch path (exporter/sources/oracle_arrow.py) without a server.

- Every Oracle type: the SQL the batch path reads it with and the Arrow type it asks
  python-oracledb for, which must be one the driver can fetch that select item as
  (user_guide/dataframes.html, "Supported Explicit Type Mapping", copied below).
- The fetched batches made what the ArrowEncoder takes, from hand-built batches of the types
  the driver builds (src/oracledb/impl/base/converters.pyx): empty LOBs put back where their
  flag says NOT NULL, decimals and TO_CHAR's text written as the driver's own digits.
- OracleSource.arrow_batches against a stand-in connection: the statement, bound values,
  size and requested schema handed to fetch_df_batches, inside the chunk's snapshot.
- Which read path each fetch_path takes: `auto` stays on Python rows for Oracle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest

from exporter.errors import DataError
from exporter.export.task import _read_path
from exporter.model import Chunk, ChunkBounds, Column, ColumnKind, TablePlan
from exporter.sources.oracle_arrow import (
    BATCH_ROWS,
    arrow_type,
    decimal_text,
    encoder_batch,
    number_text,
    requested_schema,
    restore_empty,
)
from exporter.sources.oracle_conn import OracleConn
from exporter.sources.oracle_sql import OracleDialect
from exporter.sources.oracle_types import BUILT_IN_TYPES, ChunkQuery, ChunkSelect, base_type
from exporter.sources.postgres_sql import PostgresDialect
from tests.oracle.test_offline import _oracle_source
from tests.plans import whole_plan

DIALECT = OracleDialect()
WHOLE = Chunk(0, ChunkBounds("whole"))


def _is_number(t: pa.DataType) -> bool:
    return pa.types.is_decimal(t) or pa.types.is_integer(t) or t in (pa.float64(), pa.float32())


def _is_binary(t: pa.DataType) -> bool:
    return pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)


def _is_datetime(t: pa.DataType) -> bool:
    return pa.types.is_date32(t) or pa.types.is_date64(t) or pa.types.is_timestamp(t)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


# python-oracledb's table: the database type of a select item -> the Arrow types it may be
# fetched as; any other pairing raises DPY-3038 (impl/base/metadata.pyx,
# check_convert_to_arrow). ROWID, UROWID, INTERVAL, XMLTYPE and JSON are in no row of it.
DRIVER_MAPPING: dict[str, Callable[[pa.DataType], bool]] = {
    "NUMBER": _is_number,
    **dict.fromkeys(("BLOB", "LONG_RAW", "RAW"), _is_binary),
    "BOOLEAN": pa.types.is_boolean,
    **dict.fromkeys(("DATE", "TIMESTAMP", "TIMESTAMP_LTZ", "TIMESTAMP_TZ"), _is_datetime),
    **dict.fromkeys(("BINARY_DOUBLE", "BINARY_FLOAT"), lambda t: t in (pa.float64(), pa.float32())),
    **dict.fromkeys(("CHAR", "CLOB", "LONG", "NCHAR", "NCLOB", "NVARCHAR", "VARCHAR"), _is_text),
}

TO_CHAR = "TO_CHAR(\"C\", 'TM9')"
STRING, BINARY, MICROS = pa.large_string(), pa.large_binary(), pa.timestamp("us")
# native type, precision, scale -> the batch path's SQL, the database type of that select
# item (python-oracledb's DB_TYPE_ name), and the Arrow type asked for.
MAPPING = [
    ("NUMBER", 10, 0, '"C"', "NUMBER", pa.int64()),
    ("NUMBER", 18, 0, '"C"', "NUMBER", pa.int64()),
    ("NUMBER", 19, 0, '"C"', "NUMBER", pa.decimal128(19, 0)),
    ("NUMBER", 10, 2, '"C"', "NUMBER", pa.decimal128(10, 2)),
    ("NUMBER", 38, 10, '"C"', "NUMBER", pa.decimal128(38, 10)),
    ("NUMBER", 38, 38, '"C"', "NUMBER", pa.decimal128(38, 38)),
    ("NUMBER", 3, 5, TO_CHAR, "VARCHAR", STRING),  # a scale above the precision
    ("NUMBER", 5, -2, TO_CHAR, "VARCHAR", STRING),  # a negative scale
    ("NUMBER", None, None, TO_CHAR, "VARCHAR", STRING),  # unconstrained
    ("NUMBER", None, 0, TO_CHAR, "VARCHAR", STRING),  # NUMBER(*, 0), INTEGER
    ("FLOAT", None, None, TO_CHAR, "VARCHAR", STRING),
    ("BINARY_FLOAT", None, None, '"C"', "BINARY_FLOAT", pa.float64()),
    ("BINARY_DOUBLE", None, None, '"C"', "BINARY_DOUBLE", pa.float64()),
    ("DATE", None, None, '"C"', "DATE", MICROS),
    ("TIMESTAMP(0)", None, None, '"C"', "TIMESTAMP", MICROS),
    ("TIMESTAMP(6)", None, None, '"C"', "TIMESTAMP", MICROS),
    ("TIMESTAMP(9)", None, None, '"C"', "TIMESTAMP", MICROS),
    ("TIMESTAMP(6) WITH TIME ZONE", None, None, 'SYS_EXTRACT_UTC("C")', "TIMESTAMP", MICROS),
    (
        "TIMESTAMP(3) WITH LOCAL TIME ZONE",
        None,
        None,
        'SYS_EXTRACT_UTC(CAST("C" AS TIMESTAMP WITH TIME ZONE))',
        "TIMESTAMP",
        MICROS,
    ),
    ("VARCHAR2", None, None, '"C"', "VARCHAR", STRING),
    ("CHAR", None, None, '"C"', "CHAR", STRING),
    ("NVARCHAR2", None, None, '"C"', "NVARCHAR", STRING),
    ("NCHAR", None, None, '"C"', "NCHAR", STRING),
    ("LONG", None, None, '"C"', "LONG", STRING),
    ("CLOB", None, None, '"C"', "CLOB", STRING),
    ("NCLOB", None, None, '"C"', "NCLOB", STRING),
    ("XMLTYPE", None, None, 'XMLSERIALIZE(CONTENT "C" AS CLOB)', "CLOB", STRING),
    ("JSON", None, None, 'JSON_SERIALIZE("C" RETURNING CLOB)', "CLOB", STRING),
    ("INTERVAL YEAR(2) TO MONTH", None, None, 'TO_CHAR("C")', "VARCHAR", STRING),
    ("INTERVAL DAY(2) TO SECOND(6)", None, None, 'TO_CHAR("C")', "VARCHAR", STRING),
    ("ROWID", None, None, 'CAST("C" AS VARCHAR2(4000))', "VARCHAR", STRING),
    ("UROWID", None, None, 'CAST("C" AS VARCHAR2(4000))', "VARCHAR", STRING),
    ("RAW", None, None, '"C"', "RAW", BINARY),
    ("LONG RAW", None, None, '"C"', "LONG_RAW", BINARY),
    ("BLOB", None, None, '"C"', "BLOB", BINARY),
    ("BOOLEAN", None, None, '"C"', "BOOLEAN", pa.bool_()),
]


def _column(native: str, precision: int | None = None, scale: int | None = None) -> Column:
    kind = DIALECT.column_kind(native, precision, scale)
    return Column("C", native, kind, precision=precision, scale=scale)


def _plan(columns: tuple[Column, ...], **extra: Any) -> TablePlan:
    return whole_plan(columns, marker="", row_hash=False, size_bytes=1, **extra)


@pytest.mark.parametrize(
    ("native", "precision", "scale", "sql", "db_type", "wanted"),
    MAPPING,
    ids=[f"{m[0]}({m[1]},{m[2]})" for m in MAPPING],
)
def test_each_type_is_read_as_an_arrow_type_the_driver_can_fetch_it_as(
    native: str,
    precision: int | None,
    scale: int | None,
    sql: str,
    db_type: str,
    wanted: pa.DataType,
) -> None:
    column = _column(native, precision, scale)
    assert DIALECT.batch_expression(column) == sql
    assert arrow_type(column) == wanted
    assert DRIVER_MAPPING[db_type](wanted), (db_type, wanted)


def test_the_mapping_covers_every_type_the_exporter_reads() -> None:
    assert {base_type(native) for native, *_ in MAPPING} == BUILT_IN_TYPES


def test_only_numbers_and_rowids_are_read_differently_from_the_rows_path() -> None:
    for native, precision, scale, sql, _, _ in MAPPING:
        column = _column(native, precision, scale)
        same = DIALECT.read_expression(column) == sql
        assert same is not (sql == TO_CHAR or "ROWID" in native), native


LOB_COLUMNS = (
    Column("ID", "NUMBER", ColumnKind.INTEGER, False, 10, 0),
    Column("C", "CLOB", ColumnKind.STRING),
    Column("B", "BLOB", ColumnKind.BYTES),
    Column("F", "NUMBER", ColumnKind.DECIMAL),
    Column("P", "NUMBER", ColumnKind.DECIMAL, precision=10, scale=2),
    Column("R", "ROWID", ColumnKind.STRING),
    Column("N", "NCLOB", ColumnKind.STRING),
)
LOB_PLAN = _plan(LOB_COLUMNS)


def test_the_chunk_query_carries_the_batch_statement_of_the_same_rows() -> None:
    query = DIALECT.select_chunk(LOB_PLAN, WHOLE)
    assert isinstance(query, ChunkQuery) and query.columns == LOB_COLUMNS
    flags = (
        'CASE WHEN "C" IS NOT NULL THEN 1 END, CASE WHEN "B" IS NOT NULL THEN 1 END, '
        'CASE WHEN "N" IS NOT NULL THEN 1 END'
    )
    assert query.sql == f'SELECT "ID", "C", "B", "F", "P", "R", "N", {flags} FROM "S"."T"'
    assert query.batch_sql == (
        'SELECT "ID", "C", "B", TO_CHAR("F", \'TM9\'), "P", CAST("R" AS VARCHAR2(4000)), '
        f'"N", {flags} FROM "S"."T"'
    )
    plain = DIALECT.select_chunk(_plan(LOB_COLUMNS[:1]), WHOLE)  # no LOB: no flags
    assert isinstance(plain, ChunkSelect) and not isinstance(plain, ChunkQuery)
    assert plain.batch_sql == plain.sql == 'SELECT "ID" FROM "S"."T"'


def test_a_pinned_snapshot_is_read_as_of_its_scn_on_the_batch_path_too() -> None:
    pinned = _plan(LOB_COLUMNS, snapshot="8123456789012", snapshot_in_query=True)
    chunk = Chunk(1, ChunkBounds("physical", "AAAR3s", None))
    query = DIALECT.select_chunk(pinned, chunk)
    assert isinstance(query, ChunkSelect)
    assert query.params["snapshot_scn"] == 8123456789012  # one set of values for both
    for sql in (query.sql, query.batch_sql):
        assert ' FROM "S"."T" AS OF SCN :snapshot_scn WHERE ROWID >= CHARTOROWID(:' in sql


def test_the_requested_schema_has_the_columns_then_each_lob_flag_as_int64() -> None:
    query = DIALECT.select_chunk(LOB_PLAN, WHOLE)
    assert isinstance(query, ChunkSelect)
    schema = requested_schema(query)
    assert schema.types == [
        pa.int64(),
        STRING,
        BINARY,
        STRING,
        pa.decimal128(10, 2),
        STRING,
        STRING,
        pa.int64(),
        pa.int64(),
        pa.int64(),
    ]
    assert schema.names[:7] == [c.name for c in LOB_COLUMNS]


# -- the fetched batches, as the ArrowEncoder takes them ----------------------------------


@pytest.mark.parametrize(
    ("precision", "scale", "values", "texts"),
    [
        (
            10,
            2,
            ["1.5", "100", "0", "-0.01", None, "12345678.9", "-99999999.99"],
            ["1.5", "100", "0", "-0.01", None, "12345678.9", "-99999999.99"],
        ),
        # Arrow writes these in exponent form (1.0000E-7, 0E-12): the driver's digits
        (
            20,
            12,
            ["0.0000001", "-0.000000001234", "0", "0.000001", "0.000000000001", "1"],
            ["0.0000001", "-0.000000001234", "0", "0.000001", "0.000000000001", "1"],
        ),
        (38, 0, [str(10**38 - 1), str(-(10**38) + 1)], [str(10**38 - 1), str(-(10**38) + 1)]),
        (38, 38, ["0." + "0" * 37 + "1", "-0.1"], ["0." + "0" * 37 + "1", "-0.1"]),
    ],
)
def test_decimals_are_written_as_the_driver_writes_each_number(
    precision: int, scale: int, values: list[str | None], texts: list[str | None]
) -> None:
    # The driver fills a decimal128(p, s) at its scale: 1.5 in NUMBER(10, 2) is 150e-2.
    array = pa.array(
        [None if v is None else Decimal(v) for v in values], pa.decimal128(precision, scale)
    )
    assert decimal_text(array).to_pylist() == texts


def test_to_char_text_gets_its_leading_zero_back() -> None:
    texts = [".5", "-.5", "0", "12", "-.0000001", None, "1.5E+125", "10.25"]
    array = pa.array(texts, pa.large_string())
    assert number_text(array).to_pylist() == [
        "0.5",
        "-0.5",
        "0",
        "12",
        "-0.0000001",
        None,
        "1.5E+125",  # beyond 64 characters TM9 writes an exponent: Python writes it whole
        "10.25",
    ]


def test_an_empty_lob_is_put_back_only_where_its_flag_says_not_null() -> None:
    flags = pa.array([1, None, 1, 1], pa.int64())
    texts = pa.array([None, None, "x", None], pa.large_string())
    assert restore_empty(texts, flags, "").to_pylist() == ["", None, "x", ""]
    blobs = pa.array([None, None, b"\x00", b"a"], pa.large_binary())
    restored = restore_empty(blobs, flags, b"")
    assert restored.type == BINARY and restored.to_pylist() == [b"", None, b"\x00", b"a"]
    untouched = pa.array(["a", None], pa.large_string())
    assert restore_empty(untouched, pa.array([1, None], pa.int64()), "") is untouched


def _driver_batch(rows: list[tuple[Any, ...]], query: ChunkSelect) -> pa.RecordBatch:
    """A record batch as python-oracledb builds it for `query`'s requested schema."""
    schema = requested_schema(query)
    columns = list(zip(*rows, strict=True))
    arrays = [pa.array(list(c), f.type) for c, f in zip(columns, schema, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


LOB_ROWS: list[tuple[Any, ...]] = [
    # ID, C, B, F (TO_CHAR), P, R, N, then the flags of C, B, N
    (1, None, None, ".5", Decimal("1.50"), "AAAR3sAAEAAAACXAAA", None, 1, 1, 1),
    (2, None, None, None, None, None, None, None, None, None),
    (3, "x", b"\x00\xff", "-12", Decimal("-0.01"), None, "é", 1, 1, 1),
    (4, None, b"a", "0", Decimal(0), None, None, 1, 1, None),
]


def test_a_fetched_batch_loses_its_flags_and_gets_its_empty_lobs_and_digits() -> None:
    query = DIALECT.select_chunk(LOB_PLAN, WHOLE)
    assert isinstance(query, ChunkSelect)
    batch = encoder_batch(_driver_batch(LOB_ROWS, query), query)
    assert batch.schema.names == [c.name for c in LOB_COLUMNS]
    assert batch.to_pylist() == [
        dict(ID=1, C="", B=b"", F="0.5", P="1.5", R="AAAR3sAAEAAAACXAAA", N=""),
        dict(ID=2, C=None, B=None, F=None, P=None, R=None, N=None),
        dict(ID=3, C="x", B=b"\x00\xff", F="-12", P="-0.01", R=None, N="é"),
        dict(ID=4, C="", B=b"a", F="0", P="0", R=None, N=None),
    ]


# -- OracleSource.arrow_batches against a stand-in python-oracledb connection --------------


class _Frame:
    """A stand-in for python-oracledb's DataFrame: only the Arrow PyCapsule stream."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


class _Cursor:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def callproc(self, name: str, args: object = None) -> None:
        self.log.append(name)


class _Raw:
    """Answers fetch_df_batches with `frames` (a generator, as the driver's is) and logs
    the session's flashback calls around it."""

    def __init__(self, frames: list[Any]) -> None:
        self.frames = frames
        self.calls: list[dict[str, Any]] = []
        self.log: list[str] = []

    def fetch_df_batches(self, **kwargs: Any) -> Iterator[Any]:
        self.calls.append(kwargs)
        self.log.append("fetch")
        try:
            yield from self.frames
            self.log.append("done")
        finally:
            self.log.append("closed")

    def cursor(self) -> _Cursor:
        return _Cursor(self.log)

    def is_healthy(self) -> bool:
        return True


def _frames(query: ChunkSelect) -> list[Any]:
    table = pa.Table.from_batches([_driver_batch(LOB_ROWS, query)])
    empty = table.schema.empty_table()  # the driver ends with an empty frame
    return [_Frame(table.slice(0, 3)), table.slice(3).to_batches()[0], _Frame(empty)]


ENABLE, DISABLE = "DBMS_FLASHBACK.ENABLE_AT_SYSTEM_CHANGE_NUMBER", "DBMS_FLASHBACK.DISABLE"


def test_arrow_batches_hand_the_driver_the_batch_statement_inside_the_snapshot() -> None:
    query = DIALECT.select_chunk(LOB_PLAN, Chunk(0, ChunkBounds("physical", "AAAR3s", None)))
    assert isinstance(query, ChunkSelect)
    raw = _Raw(_frames(query))
    conn = OracleConn(raw)

    batches = list(_oracle_source().arrow_batches(conn, query, "42", 3))

    (call,) = raw.calls
    assert call == {
        "statement": query.batch_sql,
        "parameters": dict(query.params),
        "size": 3,  # export.fetch_rows
        "requested_schema": requested_schema(query),
    }
    assert call["parameters"] and call["statement"] != query.sql
    assert raw.log == [ENABLE, "fetch", "done", "closed", DISABLE]
    assert [b.num_rows for b in batches] == [3, 1]
    assert pa.Table.from_batches(batches).column("C").to_pylist() == ["", None, "x", ""]
    assert not conn.in_flashback


def test_closing_arrow_batches_early_closes_the_driver_before_the_session_returns() -> None:
    query = DIALECT.select_chunk(LOB_PLAN, WHOLE)
    assert isinstance(query, ChunkSelect)
    raw = _Raw(_frames(query))
    batches = _oracle_source().arrow_batches(OracleConn(raw), query, "42", BATCH_ROWS)
    next(batches)
    batches.close()
    assert raw.log == [ENABLE, "fetch", "closed", DISABLE]


def test_a_query_read_as_of_its_scn_flashes_no_session_back() -> None:
    pinned = _plan(LOB_COLUMNS, snapshot="8123456789012", snapshot_in_query=True)
    query = DIALECT.select_chunk(pinned, WHOLE)
    assert isinstance(query, ChunkSelect)
    raw = _Raw(_frames(query))
    assert len(list(_oracle_source().arrow_batches(OracleConn(raw), query, None, BATCH_ROWS))) == 2
    assert raw.log == ["fetch", "done", "closed"]
    assert raw.calls[0]["parameters"] == {"snapshot_scn": 8123456789012}
    assert "AS OF SCN :snapshot_scn" in raw.calls[0]["statement"]


def test_a_batch_of_other_types_than_asked_for_fails_naming_the_column() -> None:
    query = DIALECT.select_chunk(_plan(LOB_COLUMNS[3:5]), WHOLE)
    assert isinstance(query, ChunkSelect)
    # P arrives as a double: written as it is it could be a rounded number.
    wrong = pa.table({"F": pa.array(["1"], STRING), "P": pa.array([1.5], pa.float64())})
    with pytest.raises(DataError) as caught:
        list(_oracle_source().arrow_batches(OracleConn(_Raw([wrong])), query, None, BATCH_ROWS))
    line = caught.value.one_line()
    assert "'P'" in line and "double" in line and "decimal128(10, 2)" in line


# -- which read path a chunk takes ---------------------------------------------------------


def _abilities(arrow: bool, by_default: bool) -> SimpleNamespace:
    """A dialect without bulk CSV, as _read_path reads it."""
    return SimpleNamespace(
        supports_bulk_csv=False, supports_arrow_batches=arrow, arrow_by_default=by_default
    )


@pytest.mark.parametrize(
    ("dialect", "wanted", "path"),
    [
        (OracleDialect(), "auto", "rows"),  # until the live suite has passed on a server
        (OracleDialect(), "batch", "arrow"),
        (OracleDialect(), "rows", "rows"),
        (PostgresDialect(), "auto", "bulk"),
        (PostgresDialect(), "batch", "arrow"),
        (PostgresDialect(), "rows", "rows"),
        (_abilities(arrow=True, by_default=True), "auto", "arrow"),  # proved: taken by auto
        (_abilities(arrow=False, by_default=False), "batch", "rows"),  # no Arrow: rows
    ],
)
def test_each_fetch_path_takes_its_read_path(dialect: Any, wanted: str, path: str) -> None:
    task = SimpleNamespace(options=SimpleNamespace(fetch_path=wanted))
    assert _read_path(SimpleNamespace(dialect=dialect), task) == path  # type: ignore[arg-type]


def test_the_batch_path_is_offered_but_not_taken_by_default_for_oracle() -> None:
    assert OracleDialect.supports_arrow_batches and not OracleDialect.arrow_by_default
    assert PostgresDialect.arrow_by_default
