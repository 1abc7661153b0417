"""The bulk path's lines: CSV records formatted by the database (PostgreSQL's COPY), checked
for values equal to the null marker, given their row hash, and written to the chunk file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from exporter.errors import DataError
from exporter.hashing import hashed_lines
from exporter.model import TablePlan
from exporter.writer import CsvGzipWriter

PROGRESS_EVERY_ROWS = 20_000  # rows between progress reports


def copy_bulk(
    batches: Iterator[list[bytes]],
    writer: CsvGzipWriter,
    plan: TablePlan,
    client_hash: bool,
    report: Callable[[str, int], None],
) -> None:
    """Write a chunk's COPY lines (batches from `Source.bulk_csv`) to `writer`, each with its
    row hash when `client_hash`, telling `report(table, rows)` as it goes; DataError where a
    value equals the null marker."""
    marker = plan.file_format.null_marker
    quoted_marker = ('"' + marker.replace('"', '""') + '"').encode("utf-8")
    table = plan.table.qualified
    since_report = 0
    # Whole batches of lines through C-level calls: one `in` test per batch for the marker
    # (a per-line look only when it occurs), hashing and joining as bytes.
    for batch in batches:
        data = hashed_lines(batch) if client_hash else b"".join(batch)
        # COPY quotes any value equal to its NULL string, text or not: a quoted marker is the
        # only way a value equal to the marker can show, so it is looked for in every column.
        # Looking in the hashed lines finds every occurrence: each record is in them whole,
        # and a quoted marker ends in a quote, so it never takes in the newline cut off.
        if quoted_marker in data:
            for line in batch:
                if quoted_marker in line:
                    _check_marker(line, plan, marker)
        writer.write_bytes(data, len(batch))
        since_report += len(batch)
        if since_report >= PROGRESS_EVERY_ROWS:
            report(table, since_report)
            since_report = 0
    report(table, since_report)


def _quoted_cells(line: str) -> Iterator[tuple[str, bool]]:
    """(text, was_quoted) for each cell of one CSV record."""
    i, n = 0, len(line)
    while i <= n:
        if i < n and line[i] == '"':
            j, parts = i + 1, []
            while True:
                k = line.index('"', j)
                parts.append(line[j:k])
                if k + 1 < n and line[k + 1] == '"':
                    parts.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            yield "".join(parts), True
        else:
            k = line.find(",", i)
            k = n if k < 0 else k
            yield line[i:k], False
            i = k
        i += 1  # skip the comma


def _check_marker(line: bytes, plan: TablePlan, marker: str) -> None:
    record = line.decode("utf-8").rstrip("\n")
    for column, (text, quoted) in zip(plan.columns, _quoted_cells(record), strict=False):
        if quoted and text == marker:
            raise DataError(
                f"{plan.table}: column {column.name!r} holds a value written as {marker!r}, "
                "which is the null marker",
                hint="set export.null_marker to a string that no value equals (and delete the"
                " table's folder if some of its chunks were already written)",
            )
