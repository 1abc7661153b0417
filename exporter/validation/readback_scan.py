"""The read-back's pass over a chunk file in C (`validation/_csvscan.c`), where it was built.

One pass over the decompressed bytes checks them as UTF-8, counts the records, checks each
record's fields and each numeric cell against what the writer writes, and sums the numeric
columns exactly, without the GIL, while isal's reader thread decompresses the next block.
pyarrow is not loaded, and no Python object is made per block but the block itself.

Where the extension was not built, `validation/readback.py` reads the file with Arrow's CSV
reader, which gives the same figures (tests/unit/test_readback_scan.py compares them).
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import IO

from exporter.errors import (
    ERR_CELL_NOT_A_NUMBER,
    ERR_FIELD_COUNT,
    ERR_FILE_UNREADABLE,
    ERR_RECORD_TOO_LONG,
    ExporterError,
    error,
)
from exporter.model import Column, ColumnKind
from exporter.storage import StorePath
from exporter.validation.sums import EXACT, ColumnSums, fixed_scale

try:
    from exporter.validation._csvscan import ScanError, Scanner

    C_SCAN = True
except ImportError:  # no C compiler at install: readback.py reads with Arrow
    C_SCAN = False

_EXACT, _FLOAT = 1, 2
SCAN_BLOCK_BYTES = 1 << 20
MAX_RECORD_BYTES = 256 << 20  # a longer record fails the file (BigQuery's limit: 100 MB)
_MARKER_MAX_BYTES = 255  # the numeric cell bytes the scanner keeps (CELL_MAX in _csvscan.c)


def can_scan(marker: str) -> bool:
    """Whether the C scanner reads files of this null marker (built, and a marker it can
    compare: any sensible one; a longer one is read by Arrow)."""
    return C_SCAN and len(marker.encode("utf-8")) <= _MARKER_MAX_BYTES


def implementation() -> str:
    """Which code reads chunk files back here, for `check` to show."""
    if C_SCAN:
        return "C extension exporter.validation._csvscan (one pass, no GIL)"
    return (
        "Arrow's CSV reader (the C extension exporter.validation._csvscan is not built,"
        " about a third slower: reinstall with a C compiler and the Python headers)"
    )


def scan_figures(
    raw: IO[bytes], columns: tuple[Column, ...], width: int, marker: str, path: StorePath
) -> tuple[int, ColumnSums]:
    """Records and sums of the data records left in `raw` (the header already read).
    Raises ExporterError (validation's) for a damaged record or cell or bytes that are not
    UTF-8, and what the gzip reader raises for a damaged stream."""
    modes = {
        i: _FLOAT if c.kind is ColumnKind.FLOAT else _EXACT
        for i, c in enumerate(columns)
        if c.kind.is_exact_number or c.kind is ColumnKind.FLOAT
    }
    scanner = Scanner(width, modes, marker.encode("utf-8"), max_record=MAX_RECORD_BYTES)
    sums = ColumnSums(columns)
    try:
        while block := raw.read(SCAN_BLOCK_BYTES):
            scanner.feed(block)
            _add_texts(scanner.texts(), columns, sums)
        scanner.finish()  # may end a last record without its line break
        _add_texts(scanner.texts(), columns, sums)
    except ScanError as exc:
        raise _scan_error(exc, columns, width, path) from None
    exact, floats = scanner.sums()
    for i, parts in exact.items():
        if parts:
            sums.add_exact(columns[i].name, _exact_total(parts, columns[i]))
    for i, (numerator, flags) in floats.items():
        sums.floats[columns[i].name].add_scaled(numerator, flags)
    return scanner.rows, sums


def _exact_total(parts: list[tuple[int, int]], column: Column) -> Decimal:
    """The sum of (fractional digits, integer) parts, as the Arrow reader's sum would read:
    at the column's scale where it has one (a NUMERIC(10, 2) sums to `3.50`), else at the
    most fractional digits of its values, as Decimal addition keeps them."""
    scale = fixed_scale(column)
    with decimal.localcontext(EXACT):  # no rounding: the parts may hold 40 and more digits
        total = sum((Decimal(f"{n}e-{digits}") for digits, n in parts), Decimal(0))
        return total + Decimal(f"0e-{scale}") if scale is not None else total


def _add_texts(texts: dict[int, list[str]], columns: tuple[Column, ...], sums: ColumnSums) -> None:
    """Cells the scanner left to Python (NaN, more than 38 digits): checked by it already."""
    for i, cells in texts.items():
        sums.add_texts(i, columns[i].name, cells, False)


def _scan_error(
    exc: ScanError, columns: tuple[Column, ...], width: int, path: StorePath
) -> ExporterError:
    kind, rows, detail = exc.args
    if kind == "fields":
        return error(ERR_FIELD_COUNT, path=path, rows=rows, actual=detail, expected=width)
    if kind == "number":
        return error(ERR_CELL_NOT_A_NUMBER, path=path, column=columns[detail].name)
    if kind == "too_long":
        return error(ERR_RECORD_TOO_LONG, path=path, limit_mib=detail >> 20)
    if kind == "utf8":
        return error(ERR_FILE_UNREADABLE, path=path, reason=detail)
    return error(ERR_FILE_UNREADABLE, path=path, reason=f"record {rows + 1}: {detail}")
