"""Oracle's batch path writes what its rows path writes, byte for byte, and keeps the same
sums, for random values of every type (hypothesis).

One table holds a column of each kind of Oracle type. Each generated row is what the table
stores; a stand-in driver then hands it out twice, as python-oracledb does:
- to the rows path as Python rows through the output type handler (a NUMBER's Decimal made
  from the driver's digits, an empty LOB as None beside its NOT NULL flag), read by
  OracleConn.stream and written by read_paths.write_row_batches (BatchEncoder);
- to the batch path as data frames of the requested schema (decimal128 filled at the
  column's scale, TO_CHAR's 'TM9' text without a leading zero, timestamps in microseconds,
  an empty LOB as NULL beside its flag), read by OracleSource.arrow_batches and written by
  read_paths.write_arrow_batches (ArrowEncoder).
Both must write the same file bytes and sums, or both refuse the chunk.
"""

from __future__ import annotations

import datetime as dt
from decimal import Context, Decimal
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.errors import DataError
from exporter.export.read_paths import write_arrow_batches, write_row_batches
from exporter.model import (
    Column,
    ColumnKind,
    TablePlan,
    TableRef,
)
from exporter.sources.oracle_arrow import requested_schema
from exporter.sources.oracle_conn import OracleConn
from exporter.sources.oracle_sql import OracleDialect
from exporter.sources.oracle_types import ChunkQuery
from tests.oracle.test_arrow_offline import _Frame, _Raw
from tests.oracle.test_offline import _FetchRaw, _oracle_source
from tests.plans import whole_plan

DIALECT = OracleDialect()
EMPTY = object()  # an EMPTY_CLOB() / EMPTY_BLOB()
_WIDE = Context(prec=200)


def _col(name: str, native: str, precision: int | None = None, scale: int | None = None) -> Column:
    kind = DIALECT.column_kind(native, precision, scale)
    return Column(name, native, kind, precision=precision, scale=scale)


def _decimals(places: int, digits: int) -> st.SearchStrategy[Decimal]:
    """NUMBER(digits, places) values, tiny ones (exponents in Arrow's text) included."""
    # Made from integers: hypothesis' own decimals round to 28 digits.
    top = 10**digits - 1
    return st.one_of(st.integers(-top, top), st.integers(-(10**6), 10**6)).map(
        lambda i: _scaled(i, -places)
    )


def _scaled(digits: int, exponent: int) -> Decimal:
    """digits x 10**exponent, exactly (Decimal.scaleb rounds to the context's 28 digits)."""
    return Decimal(f"{digits}E{exponent}")


# Unconstrained NUMBER and FLOAT: up to 38 significant digits at any exponent, so values
# with more than 38 fractional digits (refused by both paths) and 60-digit integers too.
FREE = st.builds(_scaled, st.integers(-(10**38) + 1, 10**38 - 1), st.integers(-41, 22))
TIMES = {"min_value": dt.datetime(1, 1, 1), "max_value": dt.datetime(9999, 12, 31, 23, 59, 59)}
TEXT = st.text(min_size=1)  # Oracle stores '' as NULL

COLUMNS: tuple[tuple[Column, st.SearchStrategy[Any]], ...] = (
    (_col("N", "NUMBER", 12, 4), _decimals(4, 12)),
    (_col("W", "NUMBER", 38, 0), _decimals(0, 38)),
    (_col("S", "NUMBER", 20, 12), _decimals(12, 20)),
    (_col("Q", "NUMBER", 38, 38), _decimals(38, 38)),
    (_col("I", "NUMBER", 18, 0), st.integers(-(10**18) + 1, 10**18 - 1)),
    (_col("F", "NUMBER"), FREE),
    (_col("FL", "FLOAT"), FREE),
    (_col("NEG", "NUMBER", 5, -2), st.integers(-999, 999).map(lambda i: Decimal(i * 100))),
    (_col("BD", "BINARY_DOUBLE"), st.floats()),
    (_col("BF", "BINARY_FLOAT"), st.floats(width=32)),
    (_col("D", "DATE"), st.datetimes(**TIMES).map(lambda v: v.replace(microsecond=0))),
    (_col("TS", "TIMESTAMP(9)"), st.datetimes(**TIMES)),
    (_col("TZ", "TIMESTAMP(6) WITH TIME ZONE"), st.datetimes(**TIMES)),  # UTC, in SQL
    (_col("V", "VARCHAR2"), TEXT),
    (_col("NV", "NVARCHAR2"), TEXT),
    (_col("C", "CLOB"), st.one_of(st.just(EMPTY), TEXT)),
    (_col("NC", "NCLOB"), st.one_of(st.just(EMPTY), TEXT)),
    (_col("B", "BLOB"), st.one_of(st.just(EMPTY), st.binary(min_size=1))),
    (_col("R", "RAW"), st.binary(min_size=1)),
    (_col("BO", "BOOLEAN"), st.booleans()),
    (_col("IDS", "INTERVAL DAY(2) TO SECOND(6)"), TEXT),  # TO_CHAR's text on both paths
    (_col("J", "JSON"), TEXT),
    (_col("X", "XMLTYPE"), TEXT),
    (
        _col("RID", "ROWID"),
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef+/0123", min_size=18, max_size=18),
    ),
)
PLAN_COLUMNS = tuple(c for c, _ in COLUMNS)
ROWS = st.lists(st.tuples(*(st.one_of(st.none(), values) for _, values in COLUMNS)), max_size=12)


def _plan(marker: str, row_hash: bool) -> TablePlan:
    table = TableRef("S", "ALL_TYPES")
    return whole_plan(PLAN_COLUMNS, table=table, marker=marker, row_hash=row_hash, size_bytes=1)


def driver_digits(value: Decimal | int) -> str:
    """A NUMBER's text as python-oracledb decodes it (impl/base/decoders.pyx, decode_number):
    every digit, no exponent, no trailing fractional zero, `0.` before a fraction."""
    number = Decimal(value)
    return "0" if number == 0 else format(_WIDE.normalize(number), "f")


def tm9(value: Decimal) -> str:
    """TO_CHAR(value, 'TM9'): the digits without the zero before a fraction (.5), in
    scientific notation beyond 64 characters (SQL Language Reference, Format Models)."""
    text = driver_digits(value)
    if len(text) > 64:
        return format(_WIDE.normalize(Decimal(text)), "E")
    return text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text


def _row_value(column: Column, stored: Any) -> Any:
    """What the rows path gets from the driver for a stored value."""
    if stored is EMPTY:
        return None
    if column.kind is ColumnKind.DECIMAL and stored is not None:
        return Decimal(driver_digits(stored))
    return stored


def _arrow_value(column: Column, stored: Any, arrow: pa.DataType) -> Any:
    """What the batch path gets from the driver for a stored value, before pa.array."""
    if stored is None or stored is EMPTY:
        return None
    if pa.types.is_large_string(arrow) and column.kind is ColumnKind.DECIMAL:
        return tm9(Decimal(stored))
    return stored


def _driver_rows(rows: list[tuple[Any, ...]], query: ChunkQuery) -> list[tuple[Any, ...]]:
    flags = [tuple(None if r[p] is None else 1 for p, _ in query.lobs) for r in rows]
    return [
        tuple(_row_value(c, v) for c, v in zip(PLAN_COLUMNS, row, strict=True)) + flag
        for row, flag in zip(rows, flags, strict=True)
    ]


def _driver_frames(rows: list[tuple[Any, ...]], query: ChunkQuery, size: int) -> list[Any]:
    schema = requested_schema(query)
    frames = []
    for start in range(0, max(len(rows), 1), size):
        part = rows[start : start + size]
        arrays = [
            pa.array([_arrow_value(c, r[i], f.type) for r in part], f.type)
            for i, (c, f) in enumerate(zip(PLAN_COLUMNS, schema, strict=False))
        ]
        arrays += [
            pa.array([None if r[p] is None else 1 for r in part], pa.int64()) for p, _ in query.lobs
        ]
        frames.append(_Frame(pa.Table.from_arrays(arrays, schema=schema)))
    return frames


class _Writer:
    """CsvGzipWriter's write_bytes, kept in memory."""

    def __init__(self) -> None:
        self.data = b""
        self.rows = 0

    def write_bytes(self, data: Any, rows: int) -> None:
        self.data += bytes(data)
        self.rows += rows


def _outcome(write: Any) -> tuple[Any, ...]:
    writer = _Writer()
    try:
        sums = write(writer)
    except DataError as exc:
        return ("refused", exc.code)
    # Sums as numbers: a sum taken inside Arrow keeps the column's scale (0E-38 is 0).
    exact = {name: Decimal(total) for name, total in sums.exact_json().items()}
    floats = {name: repr(total) for name, total in sums.float_json().items()}
    return writer.data, writer.rows, exact, floats


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=ROWS,
    marker=st.sampled_from(["", "\\N"]),
    row_hash=st.booleans(),
    size=st.integers(1, 5),
)
def test_the_batch_path_writes_what_the_rows_path_writes(
    rows: list[tuple[Any, ...]], marker: str, row_hash: bool, size: int
) -> None:
    plan = _plan(marker, row_hash)
    chunk = plan.chunks[0]
    query = DIALECT.select_chunk(plan, chunk)
    assert isinstance(query, ChunkQuery)

    streamed = OracleConn(_FetchRaw(_driver_rows(rows, query))).stream(query, size)
    by_rows = _outcome(lambda w: write_row_batches(streamed, w, plan, chunk))
    raw = _Raw(_driver_frames(rows, query, size))
    batches = _oracle_source().arrow_batches(OracleConn(raw), query, None, 10_000)
    by_batches = _outcome(lambda w: write_arrow_batches(batches, w, plan, chunk))

    assert by_batches == by_rows


def test_the_stand_in_driver_writes_numbers_as_python_oracledb_and_oracle_do() -> None:
    assert [driver_digits(Decimal(v)) for v in ("1.50", "100", "-0.010", "1E+2", "0E-9")] == [
        "1.5",
        "100",
        "-0.01",
        "100",
        "0",
    ]
    assert [tm9(Decimal(v)) for v in ("0.5", "-0.5", "12.5", "0")] == [".5", "-.5", "12.5", "0"]
    assert tm9(Decimal("1.5E+70")) == "1.5E+70"
