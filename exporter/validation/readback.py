"""Reading written chunk files back: row counts and numeric sums from what is on disk.

What is on disk is what BigQuery loads, so validation counts and sums the files themselves.
NULL cells are recognised by the null marker; numeric cells never equal it (the writer
fails a table whose values would be written as the marker).

Every field of every record is parsed (quoted newlines allowed; a blank line is a damaged
record, not nothing) and the numeric columns are summed exactly; the bytes of the whole file
are checked as UTF-8 as they are read, a block at a time, so memory stays flat. Two readers
give the same figures: the C scanner (`readback_scan.py`, where the extension was built),
which also refuses what the writer never writes (a quote inside an unquoted field, a
carriage return outside quotes, a quoted number), and Arrow's CSV reader
(`readback_arrow.py`) otherwise.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import InvalidOperation
from pathlib import Path
from typing import IO, Any

from isal import igzip

from exporter.canonical.rowhash import ROW_HASH_COLUMN
from exporter.errors import (
    ERR_CELL_NOT_A_NUMBER,
    ERR_FIELD_COUNT,
    ERR_FILE_UNREADABLE,
    ERR_HEADER_MISMATCH,
    ERR_RECORD_TOO_LONG,
    ExporterError,
    ValidationFailed,
    error,
)
from exporter.model import ColumnKind, TablePlan
from exporter.storage import StorePath, open_read
from exporter.validation import readback_scan
from exporter.validation.follow import FollowedFile
from exporter.validation.gunzip import open_threaded
from exporter.validation.readback_arrow import add_arrow_column, arrow_batches
from exporter.validation.sums import ColumnSums, arrow_exact_type
from exporter.validation.utf8_check import Utf8Checked

READ_BLOCK_BYTES = 1 << 20  # CSV bytes parsed per batch: memory flat whatever the chunk size
MAX_RECORD_BYTES = readback_scan.MAX_RECORD_BYTES  # Arrow's blocks grow to this for long records


@dataclass(frozen=True)
class FileFigures:
    """Rows and sums of one chunk file."""

    rows: int
    sums: dict[str, str]
    float_sums: dict[str, float]


def _header(raw: IO[bytes]) -> list[str]:
    """The header record, read line by line up to a newline outside quotes (a quoted column
    name may hold one), leaving `raw` at the first data record."""
    line = b""
    while True:
        part = raw.readline(READ_BLOCK_BYTES + 1)
        line += part
        # (A damaged file whose quotes never balance stops after 1 MiB: no header is longer.)
        if not part or line.count(b'"') % 2 == 0 or len(line) > READ_BLOCK_BYTES:
            break
    return next(csv.reader([line.decode("utf-8").rstrip("\r\n")]), [])


def read_chunk_figures(path: StorePath, plan: TablePlan) -> FileFigures:
    """Count the records of a chunk file and sum its numeric columns exactly.

    Raises ValidationFailed when the file is not a complete gzip stream, is not valid CSV
    or UTF-8, its header does not name the plan's columns, or a numeric cell is not a number.
    With Arrow's reader, a record longer than its block (large text or bytes) makes the file
    be read again with larger blocks, up to MAX_RECORD_BYTES.
    """
    if readback_scan.can_scan(plan.file_format.null_marker):
        return _scanned_figures(path, plan)
    block = READ_BLOCK_BYTES
    while True:
        try:
            return _read_figures(path, plan, block)
        except _RecordTooLong:
            if block >= MAX_RECORD_BYTES:
                raise error(
                    ERR_RECORD_TOO_LONG, path=path, limit_mib=MAX_RECORD_BYTES >> 20
                ) from None
            block *= 4


def _checked_header(raw: IO[bytes], path: StorePath, plan: TablePlan) -> int:
    """Read the header record and check it names the plan's columns; returns their count."""
    hashed = plan.file_format.row_hash
    expected = [c.name for c in plan.columns] + ([ROW_HASH_COLUMN] if hashed else [])
    header = _header(raw)
    if header != expected:
        raise _header_mismatch(path, header, expected)
    return len(expected)


def follow_chunk_figures(path: Path, plan: TablePlan) -> FileFigures:
    """read_chunk_figures of a chunk file being written: its temp file is read as it grows,
    to the end of the file published (validation/follow.py). Raises NotFollowed when it
    cannot be followed (then read it once published), and what read_chunk_figures raises."""
    return _scanned_figures(path, plan, FollowedFile(path))


def _scanned_figures(
    path: StorePath, plan: TablePlan, followed: FollowedFile | None = None
) -> FileFigures:
    """read_chunk_figures by the C scanner, isal decompressing on a thread of its own."""
    marker = plan.file_format.null_marker
    try:
        # A store's file is read in blocks, never whole.
        handle = open_read(path) if followed is None else followed
        with handle, open_threaded(handle) as raw:
            try:
                width = _checked_header(raw, path, plan)
                scanned = readback_scan.scan_figures(raw, plan.columns, width, marker, path)
            except BaseException:
                if followed is not None:  # closing `raw` waits for its thread, which may be
                    followed.stop()  # waiting for the writer: no longer
                raise
    except ValidationFailed:
        raise
    except (EOFError, OSError, ValueError, csv.Error) as exc:  # UnicodeDecodeError included
        raise _unreadable(path, exc, 0, []) from None
    rows, sums = scanned
    return FileFigures(rows, sums.exact_json(), sums.float_json())


class _RecordTooLong(Exception):
    """A record straddles more than two of Arrow's blocks."""


def _header_mismatch(path: StorePath, header: list[str], expected: list[str]) -> ExporterError:
    # Names only the position of the first difference: a damaged header line may be user
    # data (a lost header shows the first record), which never goes into a message.
    pairs = enumerate(zip(header, expected, strict=False))
    where = next((i for i, (a, b) in pairs if a != b), None)
    if where is None:
        detail = f"{len(header)} fields, expected {len(expected)}"
    else:
        detail = f"field {where + 1} is not {expected[where]!r}"
    return error(ERR_HEADER_MISMATCH, path=path, detail=detail)


def _read_figures(path: StorePath, plan: TablePlan, block: int) -> FileFigures:
    """read_chunk_figures by Arrow's CSV reader, with `block` bytes a batch."""
    columns = plan.columns
    marker = plan.file_format.null_marker
    sums = ColumnSums(columns)
    # Imported here: pyarrow costs ~50 MB of RSS, which processes that never read back
    # (the coordinator of an export without validation) should not pay.
    import pyarrow as pa

    numeric = [
        (i, c.name, c.kind is ColumnKind.FLOAT, arrow_exact_type(c))
        for i, c in enumerate(columns)
        if c.kind.is_exact_number or c.kind is ColumnKind.FLOAT
    ]
    rows = 0
    bad_rows: list[Any] = []
    try:
        handle = open_read(path)  # a store's file is read in blocks, never whole
        with handle, igzip.open(handle, "rb") as raw:  # type: ignore[no-untyped-call]
            width = _checked_header(raw, path, plan)
            if not raw.peek(1):
                return FileFigures(0, sums.exact_json(), sums.float_json())
            wanted = [i for i, *_ in numeric]
            checked = Utf8Checked(raw)
            for batch in arrow_batches(checked, width, wanted, bad_rows, block):
                rows += batch.num_rows
                for at, (i, name, is_float, exact_type) in enumerate(numeric):
                    try:
                        column = batch.column(at)
                        add_arrow_column(sums, i, name, is_float, exact_type, column, marker)
                    except (ValueError, InvalidOperation, OverflowError):
                        raise error(ERR_CELL_NOT_A_NUMBER, path=path, column=name) from None
    except ValidationFailed:
        raise
    except pa.ArrowInvalid as exc:
        if "straddl" in str(exc):  # "straddling object straddles two block boundaries"
            raise _RecordTooLong from None
        raise _unreadable(path, exc, rows, bad_rows) from None
    except (EOFError, OSError, pa.ArrowException, UnicodeDecodeError, csv.Error) as exc:
        raise _unreadable(path, exc, rows, bad_rows) from None
    return FileFigures(rows, sums.exact_json(), sums.float_json())


def _unreadable(
    path: StorePath, exc: BaseException, rows: int, bad_rows: list[Any]
) -> ExporterError:
    if bad_rows:
        bad = bad_rows[0]
        return error(
            ERR_FIELD_COUNT,
            path=path,
            rows=rows,
            actual=bad.actual_columns,
            expected=bad.expected_columns,
        )
    # Arrow's parse errors quote the record they stopped at: keep only the first line.
    reason = str(exc).split(":", 2)[:2] if isinstance(exc, ValueError) else [str(exc)]
    return error(ERR_FILE_UNREADABLE, path=path, reason=":".join(reason)[:120])
