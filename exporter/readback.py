"""Reading written chunk files back: row counts and numeric sums from what is on disk.

What is on disk is what BigQuery loads, so validation counts and sums the files themselves.
NULL cells are recognised by the null marker; numeric cells never equal it (the writer
fails a table whose text values equal the marker, and numbers cannot).
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter
from pathlib import Path

from isal import igzip

from exporter.errors import ValidationFailed
from exporter.hashing import ROW_HASH_COLUMN
from exporter.model import ColumnKind, TablePlan
from exporter.sums import ColumnSums

READ_BATCH_ROWS = 5_000  # parsed rows held at once: memory flat whatever the chunk size


@dataclass(frozen=True)
class FileFigures:
    """Rows and sums of one chunk file."""

    rows: int
    sums: dict[str, str]
    float_sums: dict[str, float]


def _records(path: Path) -> Iterator[list[str]]:
    raw = igzip.open(path, "rb")  # type: ignore[no-untyped-call]
    with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        yield from csv.reader(text, strict=True)


def read_chunk_figures(path: Path, plan: TablePlan) -> FileFigures:
    """Count the records of a chunk file and sum its numeric columns exactly.

    Raises ValidationFailed when the file is not a complete gzip stream, is not valid CSV,
    or its header does not name the plan's columns.
    """
    columns = plan.columns
    expected = [c.name for c in columns] + ([ROW_HASH_COLUMN] if plan.file_format.row_hash else [])
    marker = plan.file_format.null_marker
    sums = ColumnSums(columns)
    numeric = [
        (i, c.name, c.kind is ColumnKind.FLOAT)
        for i, c in enumerate(columns)
        if c.kind.is_exact_number or c.kind is ColumnKind.FLOAT
    ]
    rows = 0
    try:
        records = _records(path)
        header = next(records, None)
        if header != expected:
            raise ValidationFailed(f"{path}: header {header} does not match the plan's columns")
        width = len(expected)
        # Whole batches through C-level calls (islice, map(len), itemgetter): the read-back
        # runs over every byte that was written, so no Python frame per record.
        while batch := list(islice(records, READ_BATCH_ROWS)):
            if set(map(len, batch)) != {width}:
                bad = next(n for n, r in enumerate(batch) if len(r) != width)
                raise ValidationFailed(
                    f"{path}: record {rows + bad + 1} has {len(batch[bad])} fields, "
                    f"expected {width}"
                )
            rows += len(batch)
            _add(sums, numeric, batch, marker)
    except (EOFError, OSError, zlib.error, gzip.BadGzipFile, csv.Error, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            f"{path}: unreadable ({exc})",
            hint="delete the file and re-run to export the chunk again",
        ) from None
    return FileFigures(rows, sums.exact_json(), sums.float_json())


def _add(
    sums: ColumnSums, numeric: list[tuple[int, str, bool]], batch: list[list[str]], marker: str
) -> None:
    for i, name, is_float in numeric:
        sums.add_texts(i, name, filter(marker.__ne__, map(itemgetter(i), batch)), is_float)
