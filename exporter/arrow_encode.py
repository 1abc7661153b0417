"""Arrow record batches -> CSV lines, a whole column at a time inside Arrow (docs/FORMAT.md).

The generic batch path reads a chunk as Arrow record batches where the source's driver can
(today ADBC, for PostgreSQL; other sources read Python rows, encode.py) and formats every
common type with Arrow compute kernels: no Python object per cell. The rules are exactly
`encode.py`'s, and tests/unit/test_arrow_encode.py checks with random values that both write
the same bytes and refuse the same values.

Arrow's own text differs from BigQuery's (and PostgreSQL's) in a few places, handled here:
- doubles: Arrow keeps fixed notation only up to about 1e10 and from 1e-6, writes `1e-7`,
  `nan` and `inf`. Its shortest digits are kept and re-laid out in Arrow (fixed notation in
  [1e-4, 1e15), else `d.ddde+XX` with at least two exponent digits); NaN, infinities, and
  values at or above 2**53 with fewer than 17 digits (where a halfway tie can make the two
  shortest-digit algorithms differ) go through `format_float`.
- decimals of an Arrow decimal type: Arrow writes `1.0E-9`; such cells go through Python.
- times: Arrow always writes six fractional digits, which are trimmed; zoned timestamps are
  printed as UTC wall-clock time with `+00:00` appended.
Any column of a type not handled here (binary, for one: Arrow has no base64 kernel) is
converted through Python with `BatchEncoder`, so every type is written, the rare ones slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from exporter.encode import BatchEncoder, format_float
from exporter.errors import DataError
from exporter.hashing import hex_digests
from exporter.model import Column, ColumnKind

# Fixed notation in PostgreSQL's float8out: decimal exponents in [-4, 15).
_FIXED_LOW, _FIXED_HIGH = 1e-4, 1e15
_TIE_MIN = float(2**53)  # below this no shortest-digit choice can be a halfway tie
_PLAIN_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"
_DAY_ONE, _DAY_LAST = -719162, 2932896  # 0001-01-01 and 9999-12-31 as days since 1970
_US_PER_DAY = 86_400_000_000


class ArrowEncoder:
    """Turns Arrow record batches into CSV records, as `BatchEncoder` turns row batches."""

    def __init__(self, columns: Sequence[Column], null_marker: str) -> None:
        self.columns = tuple(columns)
        self.null_marker = null_marker
        self._python = BatchEncoder(self.columns, null_marker)

    def records(self, batch: pa.RecordBatch) -> pa.Array:
        """One string per row: the CSV record without its line end. Raises DataError for a
        value that cannot be written, naming the column."""
        if batch.num_columns != len(self.columns):
            raise DataError(f"expected {len(self.columns)} columns, got {batch.num_columns}")
        cells = [
            self._cells(position, column, batch.column(position))
            for position, column in enumerate(self.columns)
        ]
        if len(cells) == 1:
            return pc.fill_null(cells[0], self.null_marker)
        # One pass joins the cells and writes the marker for NULL.
        fill = pc.JoinOptions(null_handling="replace", null_replacement=self.null_marker)
        return pc.binary_join_element_wise(*cells, ",", options=fill)

    def _cells(self, position: int, column: Column, values: pa.Array) -> pa.Array:
        """The column's cells as a string array, NULL where the value is NULL."""
        if isinstance(values.type, pa.BaseExtensionType):
            values = values.storage  # a driver's tagged type (say, decimal text): its storage
        if pa.types.is_large_string(values.type):  # 64-bit offsets
            values = values.cast(pa.string())  # a batch is far below 2 GB of text
        cells = _vector_cells(column, values)
        if cells is None:
            python = _python_values(column, values)
            return pa.array(self._python.encode_column(position, python), pa.string())
        if column.kind.is_text:
            if pc.any(pc.equal(values, self.null_marker)).as_py():
                raise self._python.marker_error(column)
        elif pc.any(pc.equal(cells, self.null_marker)).as_py():
            raise self._python.marker_error(column)
        return cells


def record_lines(records: pa.Array, with_hash: bool) -> bytes | memoryview:
    """The UTF-8 lines of `records` (from `ArrowEncoder.records`), each followed by
    `,<row_hash>` when `with_hash`, and by a newline: a view of Arrow's own buffer. Only the
    MD5 of each record is computed per row in Python; the lines are assembled by Arrow."""
    if with_hash:
        digests = hex_digests(records.cast(pa.binary()).to_pylist())
        hexes = pa.Array.from_buffers(
            pa.binary(32), len(records), [None, pa.py_buffer(digests)]
        ).cast(pa.string())
        records = pc.binary_join_element_wise(records, hexes, ",")
    lines = pc.binary_join_element_wise(records, "", "\n")  # record + "\n" + ""
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
        return pc.binary_join_element_wise('"', doubled, '"', "")
    if kind is ColumnKind.INTEGER and pa.types.is_integer(kind_type):
        return pc.cast(values, pa.string())
    if kind is ColumnKind.BOOLEAN and pa.types.is_boolean(kind_type):
        return pc.cast(values, pa.string())  # true / false
    if kind is ColumnKind.DECIMAL:
        return _decimal_cells(values)
    if kind is ColumnKind.FLOAT and pa.types.is_floating(kind_type):
        return _float_cells(pc.cast(values, pa.float64()))  # float32 widens exactly
    if kind is ColumnKind.DATE and pa.types.is_date(kind_type):
        try:
            days = pc.cast(values, pa.date32())
        except pa.ArrowInvalid:  # a date64 holding a time of day
            raise DataError(
                f"column {column.name!r} ({column.native_type}) holds a time of day in a date",
                hint="cast the column to a date, or export it as a timestamp",
            ) from None
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
            raise DataError(
                f"column {column.name!r} ({column.native_type}) holds text that is not a number"
            ) from None
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
    # NaN, infinities and exponent forms: Python (which refuses NaN and infinities).
    return text if pc.all(plain).as_py() is not False else None


def _float_cells(values: pa.Array) -> pa.Array:
    text = pc.cast(values, pa.string())
    size = pc.abs(values)
    has_exponent = pc.match_substring(text, "e")
    fixed_here = pc.and_(pc.greater_equal(size, _FIXED_LOW), pc.less(size, _FIXED_HIGH))
    # Arrow switches to exponent form from about 1e10 up: such values are shifted back below.
    shift = pc.and_(pc.and_(fixed_here, has_exponent), pc.greater_equal(size, 1.0))
    same_layout = pc.or_(
        pc.and_(fixed_here, pc.invert(has_exponent)),
        pc.and_(pc.invert(fixed_here), has_exponent),
    )
    # From 2**53 up the two algorithms can differ only where fewer than 17 digits suffice
    # (a halfway tie): 17 significant digits are the same in both.
    tie_free = pc.or_(
        pc.less(size, _TIE_MIN), pc.match_substring_regex(text, r"^-?[0-9]\.[0-9]{16}e\+")
    )
    # Zero is "0" or "-0" in both; NaN compares false everywhere, so it is never kept.
    kept = pc.or_(pc.and_(pc.or_(same_layout, shift), tie_free), pc.equal(size, 0.0))
    kept = pc.or_kleene(kept, pc.is_null(values))  # NULL stays NULL
    padded = pc.fill_null(pc.and_(has_exponent, pc.less(size, _FIXED_LOW)), False)
    if pc.any(padded).as_py():  # 1e-7 -> 1e-07, on those rows only (a regex costs)
        small = pc.replace_substring_regex(pc.filter(text, padded), r"e-([0-9])$", r"e-0\1")
        text = pc.replace_with_mask(text, padded, small)
    if pc.any(shift).as_py():
        text = _exponent_to_fixed(text, pc.fill_null(shift, False))
    # Below 1e-4 Arrow still writes fixed notation down to 1e-6: written here as exponents.
    tiny = pc.and_(pc.greater(size, 0.0), pc.less(size, _FIXED_LOW))
    unshift = pc.fill_null(pc.and_(tiny, pc.invert(has_exponent)), False)
    if pc.any(unshift).as_py():
        text, converted = _fixed_to_exponent(text, unshift)
        kept = pc.or_(kept, converted)
    redo = pc.invert(pc.fill_null(kept, True))
    if not pc.any(redo).as_py():
        return text
    slow = pc.filter(values, redo).to_pylist()
    return pc.replace_with_mask(text, redo, pa.array(list(map(format_float, slow)), pa.string()))


def _fixed_to_exponent(text: pa.Array, rows: pa.Array) -> tuple[pa.Array, pa.Array]:
    """`0.0000123` -> `1.23e-05` and `0.00000123` -> `1.23e-06` for the `rows`; also returns
    which rows were converted (any other layout is left to Python)."""
    part = pc.filter(text, rows)
    out, matched = part, pc.is_null(part)  # all false: the strings hold no NULL
    for zeros in (4, 5):
        pattern = f"^(-?)0\\.0{{{zeros}}}([1-9])([0-9]*)$"
        hit = pc.match_substring_regex(part, pattern)
        written = pc.replace_substring_regex(part, pattern, f"\\1\\2.\\3e-{zeros + 1:02d}")
        out, matched = pc.if_else(hit, written, out), pc.or_(matched, hit)
    out = pc.replace_substring(out, ".e", "e")  # one digit: `1.e-05` -> `1e-05`
    return pc.replace_with_mask(text, rows, out), pc.replace_with_mask(rows, rows, matched)


def _exponent_to_fixed(text: pa.Array, rows: pa.Array) -> pa.Array:
    """`4.2336845476229316e+12` -> `4233684547622.9316` for the `rows` (positive exponents):
    the digits padded with zeros, the point put back after exponent + 1 of them, trimmed."""
    part = pc.filter(text, rows)
    exponents = pc.cast(pc.extract_regex(part, r"e\+(?P<e>[0-9]+)$").field("e"), pa.int32())
    shifted = part
    for exponent in pc.unique(exponents).to_pylist():
        these = pc.equal(exponents, exponent)
        digits = pc.replace_substring_regex(
            pc.filter(part, these),
            r"^(-?)([0-9])\.?([0-9]*)e\+[0-9]+$",
            r"\1\2\3" + "0" * (exponent + 1),
        )
        pointed = pc.replace_substring_regex(
            digits, f"^(-?[0-9]{{{exponent + 1}}})([0-9]*)$", r"\1.\2"
        )
        shifted = pc.replace_with_mask(shifted, these, _trim_fraction(pointed))
    return pc.replace_with_mask(text, rows, shifted)


def _timestamp_cells(column: Column, values: pa.Array) -> pa.Array:
    zone = values.type.tz
    if column.kind is ColumnKind.DATETIME and zone is not None:
        raise DataError(
            f"column {column.name!r} ({column.native_type}) holds values with a time zone",
            hint="cast the column to a timestamp without time zone in the source",
        )
    try:
        micros = pc.cast(values, pa.timestamp("us", zone))  # refuses to drop nanoseconds
    except pa.ArrowInvalid:
        raise _sub_microsecond(column) from None
    last = (_DAY_LAST + 1) * _US_PER_DAY - 1
    _check_years(column, pc.cast(micros, pa.int64()), _DAY_ONE * _US_PER_DAY, last)
    # Arrow stores instants in UTC whatever the zone: viewed without a zone, they print as
    # UTC wall-clock time, without the costly per-value zone lookup of a zoned cast.
    text = _trim_fraction(pc.cast(micros.view(pa.timestamp("us")), pa.string()))
    if column.kind is ColumnKind.DATETIME:
        return text
    # A TIMESTAMP value without a zone is UTC already (dialects convert in SQL), as in encode.py.
    return pc.binary_join_element_wise(text, "+00:00", "")


def _time_cells(column: Column, values: pa.Array) -> pa.Array:
    try:
        micros = pc.cast(values, pa.time64("us"))
    except pa.ArrowInvalid:
        raise _sub_microsecond(column) from None
    # PostgreSQL's time holds 24:00:00, which Arrow would print as garbage: refused, as
    # BigQuery's TIME ends at 23:59:59.999999 (and Python's time, on the row path).
    _check_range(column, pc.cast(micros, pa.int64()), 0, _US_PER_DAY - 1, "outside the day")
    return _trim_fraction(pc.cast(micros, pa.string()))


def _sub_microsecond(column: Column) -> DataError:
    return DataError(
        f"column {column.name!r} ({column.native_type}) holds a value that microseconds "
        "cannot express (a fraction of a microsecond, or a year far outside 1-9999)",
        hint="round the column to microseconds in the source (e.g. CAST AS TIMESTAMP(6))",
    )


def _trim_fraction(text: pa.Array) -> pa.Array:
    """`03:04:05.120000` -> `03:04:05.12`, `03:04:05.000000` -> `03:04:05`. Every value must
    have a point (Arrow writes six fractional digits), which stops the trimming of zeros."""
    return pc.ascii_rtrim(pc.ascii_rtrim(text, characters="0"), characters=".")


def _check_years(column: Column, numbers: pa.Array, low: int, high: int) -> None:
    """Refuse values outside years 1-9999 (BigQuery's range), as the other paths do."""
    _check_range(column, numbers, low, high, "outside years 1-9999")


def _check_range(column: Column, numbers: pa.Array, low: int, high: int, what: str) -> None:
    bounds: dict[str, Any] = pc.min_max(numbers).as_py()
    if bounds["min"] is None:
        return
    if bounds["min"] < low or bounds["max"] > high:
        raise DataError(
            f"column {column.name!r} ({column.native_type}) holds a value {what}, "
            "which BigQuery cannot hold",
            hint="filter or fix such values in the source (infinities, dates before year 1, "
            "times of 24:00:00)",
        )
