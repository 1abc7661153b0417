"""Arrow record batches -> CSV lines, a whole column at a time inside Arrow (docs/FORMAT.md).

The generic batch path reads a chunk as Arrow record batches where the source's driver can
(Dialect.supports_arrow_batches; other sources read Python rows, rows.py) and formats every
common type with Arrow compute kernels: no Python object per cell. The rules are exactly
`cells.py`'s, and tests/unit/test_arrow_encode.py checks with random values that both write
the same bytes and refuse the same values.

Arrow's own text differs from BigQuery's (and PostgreSQL's) in a few places, handled here:
- doubles: Arrow's shortest digits are kept and re-laid out as PostgreSQL prints them
  (arrow_text.py); NaN, infinities and possible halfway ties go through `format_float`.
- decimals of an Arrow decimal type: Arrow writes `1.0E-9`; such cells go through Python.
- times: Arrow always writes six fractional digits, which are trimmed; zoned timestamps are
  printed as UTC wall-clock time with `+00:00` appended.
Any column of a type not handled here (binary, for one: Arrow has no base64 kernel) is
converted through Python with `BatchEncoder`, so every type is written, the rare ones slower.
Where the C extension is built, doubles and bytes are written by it instead (the rows path's
encoder, one call per column): some 7x faster than the kernels above for doubles, and than
Python's base64 for bytes, in the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from exporter.canonical.arrow_scalars import scalar
from exporter.canonical.arrow_text import float_cells, trim_fraction
from exporter.canonical.cells import MAX_FRACTION_DIGITS, SAFE_INTEGER_DIGITS
from exporter.canonical.rowhash import packed_hashed_lines
from exporter.canonical.rows import BatchEncoder
from exporter.errors import (
    ERR_BATCH_WIDTH,
    ERR_BELOW_MICROSECOND,
    ERR_OUT_OF_RANGE,
    ERR_TEXT_NOT_A_NUMBER,
    ERR_TIME_IN_DATE,
    ERR_ZONE_IN_DATETIME,
    ExporterError,
    error,
)
from exporter.model import Column, ColumnKind

# At most 38 fractional digits (BIGNUMERIC's scale) and 38 integer digits (any value of which
# BIGNUMERIC holds); any other text goes through Python, which writes or refuses it.
_PLAIN_DECIMAL = rf"^-?[0-9]{{1,{SAFE_INTEGER_DIGITS}}}(\.[0-9]{{1,{MAX_FRACTION_DIGITS}}})?$"
_DAY_ONE, _DAY_LAST = -719162, 2932896  # 0001-01-01 and 9999-12-31 as days since 1970
_US_PER_DAY = 86_400_000_000
# Separators as Arrow scalars, made once (a Python str is converted per call: arrow_scalars).
_EMPTY, _NEWLINE, _QUOTE = pa.scalar(""), pa.scalar("\n"), pa.scalar('"')
_UTC_SUFFIX = pa.scalar("+00:00")


class ArrowEncoder:
    """Turns Arrow record batches into CSV records, as `BatchEncoder` turns row batches."""

    def __init__(self, columns: Sequence[Column], null_marker: str) -> None:
        self.columns = tuple(columns)
        self.null_marker = null_marker
        self._python = BatchEncoder(self.columns, null_marker)

    def records(self, batch: pa.RecordBatch) -> pa.Array:
        """One string per row: the CSV record without its line end. Raises DataError for a
        value that cannot be written, naming the column."""
        return self.records_of(plain_columns(batch))

    def records_of(self, arrays: list[pa.Array]) -> pa.Array:
        """`records` for a batch's columns already made plain by `plain_columns`."""
        if len(arrays) != len(self.columns):
            raise error(ERR_BATCH_WIDTH, expected=len(self.columns), got=len(arrays))
        cells = [
            self._cells(position, column, arrays[position])
            for position, column in enumerate(self.columns)
        ]
        if len(cells) == 1:
            return pc.fill_null(cells[0], scalar(self.null_marker, "string"))
        # One pass joins the cells and writes the marker for NULL.
        fill = pc.JoinOptions(null_handling="replace", null_replacement=self.null_marker)
        return pc.binary_join_element_wise(*cells, scalar(",", "string"), options=fill)

    def _cells(self, position: int, column: Column, values: pa.Array) -> pa.Array:
        """The column's cells as a string array, NULL (or the marker) where the value is NULL."""
        if _in_c_first(column, values.type):
            # Doubles and bytes: the rows path's C encoder writes them some 7x faster than
            # Arrow's kernels (doubles: a dozen passes, with ties and layouts left to Python)
            # or Python's base64, the same bytes (tests/unit/test_rowtext.py); it hands any
            # value it would not write, or equal to the marker, back to the paths below.
            packed = self._python.packed_column(position, values.to_pylist())
            if packed is not None:
                data, offsets = packed
                buffers = [None, pa.py_buffer(offsets), pa.py_buffer(data)]
                return pa.Array.from_buffers(pa.string(), len(values), buffers)
        cells = _vector_cells(column, values)
        if cells is None:
            python = _python_values(column, values)
            return pa.array(self._python.encode_column(position, python), pa.string())
        if column.kind.is_text:
            # Always quoted: only a non-empty marker can be read back in a quoted cell.
            marker = scalar(self.null_marker, "string")
            if self.null_marker and pc.any(pc.equal(values, marker)).as_py():
                raise self._python.marker_error(column)
        elif pc.any(pc.equal(cells, scalar(self.null_marker, "string"))).as_py():
            raise self._python.marker_error(column)
        return cells


def _in_c_first(column: Column, arrow_type: pa.DataType) -> bool:
    """Whether the column's cells are written by the C encoder when it is built."""
    if column.kind is ColumnKind.FLOAT:
        return bool(pa.types.is_float64(arrow_type) or pa.types.is_float32(arrow_type))
    if column.kind is ColumnKind.BYTES:
        binary = pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type)
        return bool(binary or pa.types.is_fixed_size_binary(arrow_type))
    return False


def plain_columns(batch: pa.RecordBatch) -> list[pa.Array]:
    """The batch's columns as the encoder and the sums take them: a driver's tagged
    (extension) type as its storage (ADBC gives PostgreSQL's numeric as tagged decimal text),
    64-bit-offset strings as ordinary strings (a batch is far below 2 GB of text)."""
    arrays = []
    for values in batch.columns:
        if isinstance(values.type, pa.BaseExtensionType):
            values = values.storage
        if pa.types.is_large_string(values.type):
            values = values.cast(pa.string())
        arrays.append(values)
    return arrays


def record_lines(records: pa.Array, with_hash: bool) -> bytes | memoryview:
    """The UTF-8 lines of `records` (from `ArrowEncoder.records`), each followed by
    `,<row_hash>` when `with_hash`, and by a newline. Without hashes, a view of Arrow's own
    buffer; with them, bytes that `hashing.packed_hashed_lines` builds from Arrow's buffers
    (records, commas, hashes and newlines in one pass)."""
    if with_hash:
        if records.null_count:  # the encoder writes NULL cells as the marker: never happens
            raise ValueError("a record to hash is NULL")
        if not (pa.types.is_string(records.type) or pa.types.is_binary(records.type)):
            records = records.cast(pa.binary())  # int32 offsets, as packed_hashed_lines reads
        _validity, offsets, data = records.buffers()
        return packed_hashed_lines(data or b"", offsets, records.offset, len(records))
    lines = pc.binary_join_element_wise(records, _EMPTY, _NEWLINE)  # record + "\n" + ""
    _validity, offsets, data = lines.buffers()
    if data is None or len(lines) == 0:
        return b""
    bounds = memoryview(offsets).cast("i")  # int32 offsets of a string array
    return memoryview(data)[bounds[lines.offset] : bounds[lines.offset + len(lines)]]


def _vector_cells(column: Column, values: pa.Array) -> pa.Array | None:
    """Arrow-computed cells for `values`, or None where this type is converted in Python."""
    kind, kind_type = column.kind, values.type
    if kind.is_text:
        if not (pa.types.is_string(kind_type) or pa.types.is_large_string(kind_type)):
            return None
        doubled = pc.replace_substring(values, '"', '""')
        return pc.binary_join_element_wise(_QUOTE, doubled, _QUOTE, _EMPTY)
    if kind is ColumnKind.INTEGER and pa.types.is_integer(kind_type):
        return pc.cast(values, pa.string())
    if kind is ColumnKind.BOOLEAN and pa.types.is_boolean(kind_type):
        return pc.cast(values, pa.string())  # true / false
    if kind is ColumnKind.DECIMAL:
        return _decimal_cells(values)
    if kind is ColumnKind.FLOAT and pa.types.is_floating(kind_type):
        return float_cells(pc.cast(values, pa.float64()))  # float32 widens exactly
    if kind is ColumnKind.DATE and pa.types.is_date(kind_type):
        try:
            days = pc.cast(values, pa.date32())
        except pa.ArrowInvalid:  # a date64 holding a time of day
            raise _column_error(ERR_TIME_IN_DATE, column) from None
        _check_years(column, pc.cast(days, pa.int32()), _DAY_ONE, _DAY_LAST)
        return pc.cast(days, pa.string())
    if kind in (ColumnKind.DATETIME, ColumnKind.TIMESTAMP) and pa.types.is_timestamp(kind_type):
        return _timestamp_cells(column, values)
    if kind is ColumnKind.TIME and pa.types.is_time(kind_type):
        return _time_cells(column, values)
    return None


def _python_values(column: Column, values: pa.Array) -> list[Any]:
    """The values as the row path's drivers give them (numeric text becomes a Decimal)."""
    python: list[Any] = values.to_pylist()
    if column.kind is ColumnKind.DECIMAL and pa.types.is_string(values.type):
        try:
            return [None if v is None else Decimal(v) for v in python]
        except InvalidOperation:
            raise _column_error(ERR_TEXT_NOT_A_NUMBER, column) from None
    return python


def _decimal_cells(values: pa.Array) -> pa.Array | None:
    """Every digit, never an exponent. PostgreSQL's numeric arrives as its own text; an Arrow
    decimal is cast to text, which Arrow writes with an exponent below 1e-6 (`1.0E-9`)."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        text = values
    elif pa.types.is_decimal(values.type) or pa.types.is_integer(values.type):
        text = pc.cast(values, pa.string())
    else:
        return None
    plain = pc.match_substring_regex(text, _PLAIN_DECIMAL)
    # NaN, infinities, exponent forms, more than 38 fractional or integer digits: Python
    # (which writes exponent forms, and integer parts up to BIGNUMERIC's maximum).
    return text if pc.all(plain).as_py() is not False else None


def _timestamp_cells(column: Column, values: pa.Array) -> pa.Array:
    zone = values.type.tz
    if column.kind is ColumnKind.DATETIME and zone is not None:
        raise _column_error(ERR_ZONE_IN_DATETIME, column)
    try:
        micros = pc.cast(values, pa.timestamp("us", zone))  # refuses to drop nanoseconds
    except pa.ArrowInvalid:
        raise _sub_microsecond(column) from None
    last = (_DAY_LAST + 1) * _US_PER_DAY - 1
    _check_years(column, pc.cast(micros, pa.int64()), _DAY_ONE * _US_PER_DAY, last)
    # Arrow stores instants in UTC whatever the zone: viewed without a zone, they print as
    # UTC wall-clock time, without the costly per-value zone lookup of a zoned cast.
    text = trim_fraction(pc.cast(micros.view(pa.timestamp("us")), pa.string()))
    if column.kind is ColumnKind.DATETIME:
        return text
    # A TIMESTAMP value without a zone is UTC already (dialects convert in SQL), as in cells.py.
    return pc.binary_join_element_wise(text, _UTC_SUFFIX, _EMPTY)


def _time_cells(column: Column, values: pa.Array) -> pa.Array:
    try:
        micros = pc.cast(values, pa.time64("us"))
    except pa.ArrowInvalid:
        raise _sub_microsecond(column) from None
    # PostgreSQL's time holds 24:00:00, which Arrow would print as garbage: refused, as
    # BigQuery's TIME ends at 23:59:59.999999 (and Python's time, on the row path).
    _check_range(column, pc.cast(micros, pa.int64()), 0, _US_PER_DAY - 1, "outside the day")
    return trim_fraction(pc.cast(micros, pa.string()))


def _column_error(number: int, column: Column, what: str = "") -> ExporterError:
    return error(number, column=column.name, native_type=column.native_type, what=what)


def _sub_microsecond(column: Column) -> ExporterError:
    return _column_error(ERR_BELOW_MICROSECOND, column)


def _check_years(column: Column, numbers: pa.Array, low: int, high: int) -> None:
    """Refuse values outside years 1-9999 (BigQuery's range), as the other paths do."""
    _check_range(column, numbers, low, high, "outside years 1-9999")


def _check_range(column: Column, numbers: pa.Array, low: int, high: int, what: str) -> None:
    bounds: dict[str, Any] = pc.min_max(numbers).as_py()
    if bounds["min"] is None:
        return
    if bounds["min"] < low or bounds["max"] > high:
        raise _column_error(ERR_OUT_OF_RANGE, column, what=what)
