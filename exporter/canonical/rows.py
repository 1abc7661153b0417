"""Batches of Python rows -> CSV records (the row read path), by two encoders that write the
same bytes:

- the C extension `_rowtext` (`_rowtext.c`): one call per batch, every value of the common
  types encoded in C, the rest through cells.py's per-value functions. Used where it was built
  and passes its self-test at import; `implementation()` says which encoder runs.
- Python, the reference and the fallback: a column whose values all have the expected type
  takes a C-level fast path (columns.py) that produces the same text, any other the checked
  per-cell functions, which name the offending value. The extension hands every batch it
  does not write to it (a value cells.py refuses, a lone surrogate, a value equal to the null
  marker), so errors are always this encoder's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Protocol

from exporter.canonical.cells import cell_function, empty_cell, format_float, marker_error
from exporter.canonical.columns import column_cells
from exporter.canonical.rowhash import csv_lines, packed_hashed_lines
from exporter.errors import ExporterError
from exporter.model import Column, ColumnKind

# Converter codes of the extension, one per column (the enum at the top of _rowtext.c); a kind
# without one has every value converted by its cell function, text kinds flagged.
_CODES = {
    ColumnKind.INTEGER: 1,
    ColumnKind.DECIMAL: 2,
    ColumnKind.FLOAT: 3,
    ColumnKind.BOOLEAN: 4,
    ColumnKind.STRING: 5,
    ColumnKind.JSON: 6,
    ColumnKind.DATE: 7,
    ColumnKind.DATETIME: 8,
    ColumnKind.TIMESTAMP: 9,
    ColumnKind.TIME: 10,
    ColumnKind.BYTES: 11,
}
_TEXT_FLAG = 0x80
# What the extension returns: str records, bytes lines, or packed records and offsets.
_RECORDS, _LINES, _PACKED, _BY_ROWS = 0, 1, 2, 4


class _Encode(Protocol):
    """What rows.py takes from the C extension (its stub: `_rowtext.pyi`)."""

    def __call__(
        self, values: Any, codes: bytes, cells: tuple[Any, ...], marker: str, mode: int, /
    ) -> Any: ...


def _code(kind: ColumnKind) -> int:
    return _CODES.get(kind, _TEXT_FLAG if kind.is_text else 0)


class BatchEncoder:
    """Turns batches of rows into CSV records (without line ends) or into the lines of a
    file (UTF-8, with row hashes when asked): in C where the extension is built, else a
    whole column at a time in Python (`columns.column_cells` where the column qualifies,
    else the checked per-cell functions)."""

    def __init__(self, columns: Sequence[Column], null_marker: str) -> None:
        self.columns = tuple(columns)
        self.null_marker = null_marker
        self._cells = tuple(cell_function(c) for c in self.columns)
        self._codes = bytes(_code(c.kind) for c in self.columns)

    def encode(self, rows: Sequence[Sequence[object]]) -> list[str]:
        """CSV records for `rows`; raises DataError for a value that cannot be written."""
        return self.encode_columns(list(zip(*rows, strict=False))) if rows else []

    def encode_columns(self, columns: Sequence[Sequence[object]]) -> list[str]:
        """CSV records for a batch given column by column (`zip(*rows)`)."""
        if not columns or not columns[0]:
            return []
        records = self._in_c(columns, _RECORDS)
        return records if records is not None else self._python_records(columns)

    def lines(self, columns: Sequence[Sequence[object]], with_hash: bool) -> bytes:
        """The UTF-8 lines of a batch given column by column: each record followed by
        `,<row_hash>` when `with_hash`, and by a newline. The bytes of
        `rowhash.csv_lines(self.encode_columns(columns), with_hash)`, without a Python
        object per record where the extension is built."""
        return self._lines(columns, with_hash, 0)

    def row_lines(self, rows: Sequence[Sequence[object]], with_hash: bool) -> bytes:
        """`lines` for a batch given row by row, as drivers return it (no transposition)."""
        return self._lines(rows, with_hash, _BY_ROWS)

    def encode_column(self, position: int, values: Sequence[object]) -> list[str]:
        """The cells of one column (the marker for NULL), for callers that hold columns."""
        return self._column(self.columns[position], self._cells[position], values)

    def packed_column(self, position: int, values: Sequence[object]) -> tuple[bytes, bytes] | None:
        """The cells of one column (the marker for NULL) by the C extension: their UTF-8 back
        to back and count + 1 int32 offsets; None where it is not built or hands the values
        to the Python encoder (`encode_column` then writes them or says what is wrong)."""
        if not values:
            return None
        one = (self._codes[position : position + 1], (self._cells[position],), self.null_marker)
        packed: tuple[bytes, bytes] | None = self._in_c([values], _PACKED, one)
        return packed

    def marker_error(self, column: Column) -> ExporterError:
        """The error for a value of `column` that would be written as the null marker."""
        return marker_error(column.name, self.null_marker)

    def _lines(self, values: Sequence[Sequence[object]], with_hash: bool, by_rows: int) -> bytes:
        if not values or (not by_rows and not values[0]):
            return b""
        if with_hash:
            packed = self._in_c(values, _PACKED | by_rows)
            if packed is not None:
                data, offsets = packed
                return packed_hashed_lines(data, offsets, 0, len(offsets) // 4 - 1)
        else:
            data = self._in_c(values, _LINES | by_rows)
            if data is not None:
                return bytes(data)
        columns = list(zip(*values, strict=False)) if by_rows else values
        return csv_lines(self._python_records(columns), with_hash)

    def _in_c(
        self, values: Sequence[Sequence[object]], mode: int, layout: tuple[Any, ...] = ()
    ) -> Any:
        """What the extension makes of the batch (of the columns `layout` describes, codes,
        cells and marker: by default all); None where it is not built or hands the batch
        to the Python encoder."""
        if _c_encode is None:
            return None
        codes, cells, marker = layout or (self._codes, self._cells, self.null_marker)
        try:
            return _c_encode(values, codes, cells, marker, mode)
        except Exception:  # a cell function refused a value: the Python encoder says which
            return None

    def _python_records(self, columns: Sequence[Sequence[object]]) -> list[str]:
        encoded = [
            self._column(column, cell, values)
            for column, cell, values in zip(self.columns, self._cells, columns, strict=True)
        ]
        return list(map(",".join, zip(*encoded, strict=True)))

    def _column(
        self, column: Column, cell: Callable[[Any], str], values: Sequence[object]
    ) -> list[str]:
        marker = self.null_marker
        # Text is always quoted: only a non-empty marker can be read back in a quoted cell.
        if column.kind.is_text and marker and marker in values:
            raise marker_error(column.name, marker)
        nulls = values.count(None)
        present = [v for v in values if v is not None] if nulls else values
        cells = column_cells(column.kind, present, format_float)
        if cells is None:
            cells = list(map(cell, present))
        # A non-text cell can equal the marker too (marker '' and an empty BYTES value,
        # or a marker such as "0"), which would load as NULL: quoted where that tells it
        # apart (cells.empty_cell), else refused.
        if not column.kind.is_text and marker in cells:
            empty = empty_cell(column.kind, marker)
            if empty is None:
                raise marker_error(column.name, marker)
            cells = [empty if cell == marker else cell for cell in cells]
        if nulls:
            filled = iter(cells)
            cells = [marker if v is None else next(filled) for v in values]
        return cells


def implementation() -> str:
    """Which encoder turns Python rows into CSV records here, for `check` to show."""
    if _c_encode is not None:
        return "C extension exporter.canonical._rowtext (row values encoded in C)"
    return (
        "Python (the C extension exporter.canonical._rowtext is not built, several times"
        " slower: reinstall with a C compiler and the Python headers, e.g. delete .venv and"
        " run ./run.sh again)"
    )


_ZONE = dt.timezone(dt.timedelta(hours=-3, minutes=-30, seconds=-7, microseconds=-11))
# One column of each kind, and values that take every branch of the extension: each type it
# encodes itself, the ones it leaves to the cell functions (an exponent Decimal, a JSON dict,
# the double 1e23 whose repr digits are a tie), NULL, and a timestamp crossing a year.
_PROBE: dict[ColumnKind, list[Any]] = {
    ColumnKind.INTEGER: [0, -(2**63), 2**70, None],
    ColumnKind.DECIMAL: [Decimal("-0.000"), Decimal("1E+3"), 7, Decimal("123.4500")],
    ColumnKind.FLOAT: [-0.0, 1e23, 5e-324, float("nan"), 1.5e15, 0.0001, -1e-05, 2.0**60],
    ColumnKind.BOOLEAN: [True, False, 0, None],
    ColumnKind.STRING: ["", 'a"b,c\r\n', "é日😀", None],
    ColumnKind.JSON: ['{"a": 1}', {"k": [1, "é"]}],
    ColumnKind.DATE: [dt.date(1, 1, 1), dt.date(9999, 12, 31)],
    ColumnKind.DATETIME: [dt.datetime(2024, 2, 29, 3, 4, 5, 600), dt.datetime(1, 1, 1)],
    ColumnKind.TIMESTAMP: [
        dt.datetime(2000, 12, 31, 22, 0, 0, 999999, tzinfo=_ZONE),
        dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 1, 2, 3, 4, 5, 120000),
    ],
    ColumnKind.TIME: [dt.time(0), dt.time(23, 59, 59, 999999), dt.time(1, 2, 3, 450000)],
    ColumnKind.BYTES: [b"", b"\x00\xff", b"abcd", None],
}


def _load_c_encode() -> _Encode | None:
    """The extension's encoder if it was built and writes the Python encoder's bytes for the
    probe in every mode; None otherwise, and the Python encoder is used."""
    try:
        from exporter.canonical import _rowtext
    except ImportError:  # not compiled: a platform without a C compiler at install time
        return None
    kinds = list(_PROBE)
    height = max(map(len, _PROBE.values()))
    columns = [tuple(_PROBE[k] + [None] * (height - len(_PROBE[k]))) for k in kinds]
    encoder = BatchEncoder([Column(k.value, k.value, k) for k in kinds], "\\N")
    want = encoder._python_records(columns)
    args = (encoder._codes, encoder._cells, encoder.null_marker)
    try:
        packed, offsets = _rowtext.encode(columns, *args, _PACKED)
        ok = (
            _rowtext.encode(columns, *args, _RECORDS) == want
            and _rowtext.encode(list(zip(*columns, strict=True)), *args, _LINES | _BY_ROWS)
            == csv_lines(want, False)
            and packed_hashed_lines(packed, offsets, 0, height) == csv_lines(want, True)
        )
    except Exception:  # any failure means: do not trust it
        ok = False
    return _rowtext.encode if ok else None


_c_encode = _load_c_encode()
