"""Reading written chunk files back: row counts and numeric sums from what is on disk.

What is on disk is what BigQuery loads, so validation counts and sums the files themselves.
NULL cells are recognised by the null marker; numeric cells never equal it (the writer
fails a table whose values would be written as the marker).

Parsing is Arrow's streaming CSV reader (C++, a block at a time, so memory stays flat):
every field of every record is parsed (quoted newlines allowed, blank lines not skipped: a
blank line is a damaged record, not nothing), but only the numeric columns are converted, as
text with no NULL recognition, and summed exactly, mostly inside Arrow; the bytes of the
whole file are checked as UTF-8 as they are read.
https://arrow.apache.org/docs/python/generated/pyarrow.csv.open_csv.html
"""

from __future__ import annotations

import csv
import io
import struct
from dataclasses import dataclass
from decimal import InvalidOperation
from typing import IO, Any

from isal import igzip

from exporter.canonical.arrow_scalars import scalar
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
from exporter.validation.sums import ColumnSums, arrow_exact_sum, arrow_exact_type

READ_BLOCK_BYTES = 1 << 20  # CSV bytes parsed per batch: memory flat whatever the chunk size
MAX_RECORD_BYTES = 256 << 20  # blocks grow to this for long records (BigQuery's limit: 100 MB)


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


class _Utf8Checked(io.RawIOBase):
    """A reader that passes bytes through and raises UnicodeDecodeError at the first block
    holding a byte sequence that is not UTF-8 (BigQuery refuses such a file). The CSV reader
    converts only the numeric columns, so this is what checks the text of the others. Arrow
    validates each block where it lies (a binary-to-string cast that copies nothing); a
    character split between two blocks is checked with the next."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._carry = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        block = self._carry + data if self._carry else data
        cut = len(block) if not data else _complete_utf8_end(block)
        self._check(block[:cut] if cut < len(block) else block)
        self._carry = block[cut:]
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    @staticmethod
    def _check(block: bytes) -> None:
        import pyarrow as pa

        if not block:
            return
        offsets = pa.py_buffer(struct.pack("<ii", 0, len(block)))
        as_binary = pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(block)])
        try:
            as_binary.cast(pa.string())
        except pa.ArrowInvalid:
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "invalid UTF-8 in the file") from None


def _complete_utf8_end(block: bytes) -> int:
    """The length of `block` without a multi-byte character cut off at its end."""
    for back in range(1, min(4, len(block)) + 1):
        byte = block[-back]
        if byte < 0x80:
            return len(block)  # ASCII: nothing is cut (stray continuation bytes fail later)
        if byte >= 0xC0:  # the lead byte of the last character
            width = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(block) if width <= back else len(block) - back
    return len(block)


def _batches(
    raw: IO[bytes] | io.RawIOBase, width: int, wanted: list[int], bad_rows: list[Any], block: int
) -> Any:
    """Batches of the `wanted` columns (as text; at least one column, for the row count).
    Every field of every record is still parsed, so a record with a wrong field count or
    broken quoting fails; only the other columns' text is never copied out."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(width)]
    include = [names[i] for i in wanted] or names[:1]

    def invalid(row: Any) -> str:
        bad_rows.append(row)  # reported without its text: it is the user's data
        return "error"

    return pacsv.open_csv(
        raw,
        # One thread: validation already runs one reader process per core.
        read_options=pacsv.ReadOptions(column_names=names, block_size=block, use_threads=False),
        parse_options=pacsv.ParseOptions(
            newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=invalid
        ),
        convert_options=pacsv.ConvertOptions(
            include_columns=include,
            column_types={n: pa.string() for n in include},
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


def _add_column(
    sums: ColumnSums,
    position: int,
    name: str,
    is_float: bool,
    exact_type: Any,
    cells: Any,
    marker: str,
) -> None:
    """Add one batch's cells of a numeric column. Exact columns of a known scale are parsed
    and summed inside Arrow (`arrow_exact_sum`: 64-bit integers in two exact halves, others
    in 76-digit decimals), doubles are parsed by Arrow and summed exactly across batches
    (`ColumnSums.add_arrow_floats`); any batch Arrow refuses (NaN in a decimal, a cell that is not
    a number) goes through Python, which names the problem."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if exact_type is not None or is_float:
        present = pc.filter(cells, pc.not_equal(cells, scalar(marker, "string")))
        try:
            if is_float:
                # Arrow parses doubles correctly rounded (and NaN, Infinity), as float() does.
                sums.add_arrow_floats(name, pc.cast(present, pa.float64()))
            else:
                sums.add_exact(name, arrow_exact_sum(present, exact_type))
            return
        except pa.ArrowInvalid:
            pass
    sums.add_texts(position, name, filter(marker.__ne__, cells.to_pylist()), is_float)


def read_chunk_figures(path: StorePath, plan: TablePlan) -> FileFigures:
    """Count the records of a chunk file and sum its numeric columns exactly.

    Raises ValidationFailed when the file is not a complete gzip stream, is not valid CSV
    or UTF-8, its header does not name the plan's columns, or a numeric cell is not a number.
    A record longer than Arrow's block (large text or bytes) makes the file be read again
    with larger blocks, up to MAX_RECORD_BYTES.
    """
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
    columns = plan.columns
    expected = [c.name for c in columns] + ([ROW_HASH_COLUMN] if plan.file_format.row_hash else [])
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
            header = _header(raw)
            if header != expected:
                raise _header_mismatch(path, header, expected)
            if not raw.peek(1):
                return FileFigures(0, sums.exact_json(), sums.float_json())
            wanted = [i for i, *_ in numeric]
            checked = _Utf8Checked(raw)
            for batch in _batches(checked, len(expected), wanted, bad_rows, block):
                rows += batch.num_rows
                for at, (i, name, is_float, exact_type) in enumerate(numeric):
                    try:
                        column = batch.column(at)
                        _add_column(sums, i, name, is_float, exact_type, column, marker)
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
