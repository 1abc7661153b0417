"""Oracle's batch path (`fetch_path: batch`): a chunk read with python-oracledb's
`Connection.fetch_df_batches` as Arrow record batches of the types asked for
(`requested_schema`), then made what canonical/arrow.py's ArrowEncoder takes.

The mapping: column -> SQL (OracleDialect.batch_expression) and Arrow type (`arrow_type`),
each row citing python-oracledb's https://python-oracledb.readthedocs.io/en/latest/
user_guide/dataframes.html, "Supported Explicit Type Mapping" (DM below: the Arrow types a
database type may be fetched as; "an error will occur if the database type or the data
cannot be represented in the requested schema type"). fetch_df_batches and its
requested_schema (3.4.0): api_manual/connection.html. The driver's source shows the error:
a NUMBER with more digits or fractional digits than the decimal type raises DPY-4042, never
rounded (src/oracledb/impl/base/converters.pyx, convert_number_to_arrow_decimal), one beyond
int64 DPY-4036, a type the schema cannot take DPY-3038 (metadata.pyx, check_convert_to_arrow).

- NUMBER(p<=18, 0) as int64, NUMBER(p, s) with 0 <= s <= p <= 38 as decimal128(p, s) (DM:
  DB_TYPE_NUMBER -> INT64, DECIMAL128(p, s)). Arrow's text of a decimal pads to the scale
  (1.50) and has exponents below 1e-6: made the driver's own digits (1.5), as the rows path
  writes them (`decimal_text`).
- Any other NUMBER and FLOAT(b) as TO_CHAR(..., 'TM9') text, every digit (DM: DB_TYPE_VARCHAR
  -> LARGE_STRING), which Oracle writes without the zero before a fraction (.5): put back
  (`number_text`). No Arrow decimal holds every NUMBER (40 digits, exponents to 125;
  decimal256(76, 38) would refuse 1e38, which the rows path writes), and decimal256 needs a
  driver newer than 4.0.
- DATE, TIMESTAMP(n), and zoned timestamps (SYS_EXTRACT_UTC in SQL) as timestamp("us") (DM:
  DB_TYPE_DATE, DB_TYPE_TIMESTAMP -> TIMESTAMP). The driver keeps microseconds on both paths
  (decoders.pyx, decode_date), and its nanosecond unit would overflow an int64 outside the
  years 1677-2262.
- BINARY_FLOAT and BINARY_DOUBLE as float64, widened exactly (DM: DB_TYPE_BINARY_FLOAT,
  DB_TYPE_BINARY_DOUBLE -> DOUBLE); BOOLEAN as bool (DM: DB_TYPE_BOOLEAN -> BOOLEAN).
- VARCHAR2, CHAR, NVARCHAR2, NCHAR, LONG, CLOB, NCLOB as large_string (DM: DB_TYPE_VARCHAR,
  _CHAR, _NVARCHAR, _NCHAR, _LONG, _CLOB, _NCLOB -> LARGE_STRING); XMLTYPE, JSON, intervals,
  ROWID and UROWID, which no row of DM names, made text (a CLOB or a VARCHAR2) in SQL.
- RAW, LONG RAW and BLOB as large_binary (DM: DB_TYPE_RAW, _LONG_RAW, _BLOB -> LARGE_BINARY).
  LOBs arrive inline, and an empty one as NULL: `restore_empty` puts it back where the chunk
  query's flag column says the LOB is not NULL (oracle_types.ChunkQuery).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from exporter.canonical.arrow_scalars import scalar
from exporter.errors import ERR_VALUE_NOT_WRITABLE, error
from exporter.model import Column, ColumnKind
from exporter.sources.oracle_types import ChunkQuery, ChunkSelect, batch_number
from exporter.sources.query import Query

BATCH_ROWS = 10_000
"""Rows per data frame (fetch_df_batches' `size`, also its arraysize and prefetchrows) where
none is given: the default of `export.fetch_rows`, which sets it. Tables of large LOBs are
read with less memory on the rows path."""

_PLAIN_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"


def arrow_type(column: Column) -> pa.DataType:
    """The Arrow type the batch path asks the driver for, for a column read by
    OracleDialect.batch_expression (module docstring: the mapping and its references)."""
    number = batch_number(column)
    if number == "int64":
        return pa.int64()
    if number == "decimal128":
        return pa.decimal128(column.precision, column.scale)
    if number == "text":
        return pa.large_string()
    kind = column.kind
    if kind is ColumnKind.FLOAT:
        return pa.float64()
    if kind in (ColumnKind.DATETIME, ColumnKind.TIMESTAMP):
        return pa.timestamp("us")
    if kind is ColumnKind.BOOLEAN:
        return pa.bool_()
    if kind is ColumnKind.BYTES:
        return pa.large_binary()
    if kind.is_text:
        return pa.large_string()
    raise ValueError(f"no Arrow type for {column.name} ({column.native_type}, {kind.value})")


def _lobs(query: ChunkSelect) -> tuple[tuple[int, str | bytes], ...]:
    return query.lobs if isinstance(query, ChunkQuery) else ()


def requested_schema(query: ChunkSelect) -> pa.Schema:
    """One field per select-list item of `query.batch_sql`: the columns, then a LOB's flag
    (CASE WHEN ... THEN 1 END, a NUMBER) as int64. The driver names the frame's columns after
    these fields."""
    fields = [pa.field(c.name, arrow_type(c)) for c in query.columns]
    for position, _ in _lobs(query):
        fields.append(pa.field(f"{query.columns[position].name} IS NOT NULL", pa.int64()))
    return pa.schema(fields)


def fetch_batches(raw: Any, query: Query, size: int = BATCH_ROWS) -> Generator[Any, None, None]:
    """The chunk of `query` (OracleDialect.select_chunk's) as record batches the ArrowEncoder
    takes, from a python-oracledb connection `raw` (its session already at the chunk's
    snapshot, or the query reading AS OF it). Closing the iterator closes the driver's."""
    if not isinstance(query, ChunkSelect):
        raise TypeError("the batch path reads a chunk's query (OracleDialect.select_chunk)")
    schema = requested_schema(query)
    frames = iter(
        raw.fetch_df_batches(
            statement=query.batch_sql,
            parameters=dict(query.params),
            size=size,
            requested_schema=schema,
        )
    )
    try:
        for frame in frames:
            # A python-oracledb DataFrame is an Arrow PyCapsule stream (dataframes.html,
            # "Creating PyArrow Tables").
            for batch in pa.table(frame).to_batches():
                if batch.num_rows:
                    _check_types(batch, schema, query)
                    yield encoder_batch(batch, query)
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def _check_types(batch: pa.RecordBatch, schema: pa.Schema, query: ChunkSelect) -> None:
    """Refuse a batch whose types are not those asked for: the ArrowEncoder would write it
    in its own way (a double for a NUMBER, say), where it must raise."""
    owners = [*query.columns, *(query.columns[position] for position, _ in _lobs(query))]
    for column, got, wanted in zip(owners, batch.schema, schema, strict=True):
        if got.type != wanted.type:
            raise error(
                ERR_VALUE_NOT_WRITABLE,
                column=column.name,
                native_type=column.native_type,
                value_type=str(got.type),
                kind=column.kind.value,
                why=f": the driver returned it where {wanted.type} was requested",
            )


def encoder_batch(batch: pa.RecordBatch, query: ChunkSelect) -> pa.RecordBatch:
    """A fetched batch as the ArrowEncoder and the sums take it: the exported columns only,
    empty LOBs restored where their flags say NOT NULL, numbers as the driver's own text."""
    width = len(query.columns)
    arrays = [batch.column(i) for i in range(width)]
    for flag, (position, empty) in enumerate(_lobs(query), start=width):
        arrays[position] = restore_empty(arrays[position], batch.column(flag), empty)
    for i, column in enumerate(query.columns):
        if column.kind is ColumnKind.DECIMAL:
            values = arrays[i]
            decimal = pa.types.is_decimal(values.type)
            arrays[i] = decimal_text(values) if decimal else number_text(values)
    return pa.RecordBatch.from_arrays(arrays, names=[c.name for c in query.columns])


def restore_empty(values: pa.Array, flag: pa.Array, empty: str | bytes) -> pa.Array:
    """`values` with `empty` ('' or b'') where a value is NULL but its flag is not: an
    EMPTY_CLOB() or EMPTY_BLOB() that the driver read inline as NULL."""
    emptied = pc.and_(pc.is_null(values), pc.is_valid(flag))
    if not pc.any(emptied).as_py():
        return values
    blank = scalar(empty, "string" if isinstance(empty, str) else "binary")
    return pc.if_else(emptied, blank.cast(values.type), values)


def number_text(values: pa.Array) -> pa.Array:
    """TO_CHAR's text of NUMBERs with the leading zero put back (.5 -> 0.5, -.5 -> -0.5),
    as the driver writes a NUMBER's digits on the rows path. The ArrowEncoder would write
    the same through Python, cell by cell: this keeps the column inside Arrow."""
    return pc.replace_substring_regex(values, r"^(-?)\.", r"\10.")


def decimal_text(values: pa.Array) -> pa.Array:
    """A decimal array as the driver's text of each NUMBER: every digit, no exponent, no
    trailing fractional zero (Oracle keeps none: NUMBER(10, 2) holds 1.50 as 1.5)."""
    # Arrow writes a zero at a scale above 6 as 0E-<scale>, any other value below 1e-6 with
    # an exponent (1.000E-7): the zeros here, the others in Python, exactly.
    text = pc.replace_substring_regex(pc.cast(values, pa.string()), r"^0E-[0-9]+$", "0")
    plain = pc.match_substring_regex(text, _PLAIN_DECIMAL)
    if pc.all(plain).as_py() is False:
        odd = pc.fill_null(pc.invert(plain), scalar(False, "bool_"))
        fixed = [format(v, "f") for v in values.filter(odd).to_pylist()]
        text = pc.replace_with_mask(text, odd, pa.array(fixed, pa.string()))
    text = pc.replace_substring_regex(text, r"^(-?[0-9]+\.[0-9]*[1-9])0+$", r"\1")
    return pc.replace_substring_regex(text, r"^(-?[0-9]+)\.0+$", r"\1")
