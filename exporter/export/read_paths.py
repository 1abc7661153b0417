"""The three ways a chunk's rows reach its file, one loop each, all writing the same bytes:

- bulk: CSV lines the database formatted itself, checked for values equal to the null
  marker and given their row hashes (the fastest, where the engine has one);
- arrow: Arrow record batches from the driver, encoded inside Arrow (canonical/arrow.py);
- rows: Python rows from the driver, encoded a whole column at a time (canonical/rows.py).

The arrow and rows loops also keep the exact sums of the numeric columns, which validation
compares with the files (the bulk path's figures come from reading its files back).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Sequence
from typing import Any

from exporter.canonical.cells import marker_error
from exporter.canonical.probe import holds
from exporter.canonical.rowhash import hashed_lines
from exporter.canonical.rows import BatchEncoder
from exporter.errors import DataError
from exporter.export.prefetch import Prefetched
from exporter.export.writer import CsvGzipWriter
from exporter.model import Chunk, TablePlan
from exporter.runtime.progress import report_rows
from exporter.sources.values import BulkLines
from exporter.validation.sums import ColumnSums

PROGRESS_EVERY_ROWS = 20_000  # rows between progress reports of the bulk path


def write_bulk_lines(
    bulk: BulkLines, writer: CsvGzipWriter, plan: TablePlan, client_hash: bool
) -> None:
    """Write a chunk's database-formatted lines to `writer`, each with its row hash when
    `client_hash`; DataError where a value equals the null marker."""
    table = plan.table.qualified
    probe = bulk.marker_probe
    since_report = 0
    # Whole batches of lines through C-level calls: one test per batch for the marker (a
    # per-line look only when it occurs), hashing and joining as bytes. Every line is in the
    # joined data whole, so the test on the data misses no line that holds the probe.
    for batch in bulk.batches:
        data = hashed_lines(batch) if client_hash else b"".join(batch)
        if holds(data, probe):
            for line in batch:
                position = bulk.marker_column(line) if probe in line else None
                if position is not None:
                    column, marker = plan.columns[position].name, plan.file_format.null_marker
                    raise marker_error(column, marker).within(str(plan.table))
        writer.write_bytes(data, len(batch))
        since_report += len(batch)
        if since_report >= PROGRESS_EVERY_ROWS:
            report_rows(table, since_report)
            since_report = 0
    report_rows(table, since_report)


def write_row_batches(
    batches: Iterator[Sequence[tuple[Any, ...]]],
    writer: CsvGzipWriter,
    plan: TablePlan,
    chunk: Chunk,
) -> ColumnSums:
    """Encode batches of Python rows into `writer`; returns the numeric columns' sums.

    The next batch is fetched by a thread while this one is encoded (export/prefetch.py);
    the thread has stopped when this returns or raises, so the caller may close `batches`."""
    encoder = BatchEncoder(plan.columns, plan.file_format.null_marker)
    sums = ColumnSums(plan.columns)
    table, with_hash = plan.table.qualified, plan.file_format.row_hash
    with _cyclic_gc_paused(), Prefetched(batches) as ahead:
        for batch in ahead:
            # Lines straight from the rows, and sums of the numeric columns only: no
            # transposition of the whole batch.
            try:
                lines = encoder.row_lines(batch, with_hash)
            except DataError as exc:
                raise exc.within(f"{table} chunk {chunk.index}") from None
            writer.write_bytes(lines, len(batch))
            sums.add_rows(batch)
            report_rows(table, len(batch))
    return sums


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the loop: a driver's batch is thousands of row
    tuples, which trigger a collection every 700 allocations and survive into the older
    generations (some 13 % of the path's samples, docs/BENCHMARKS.md); they hold no cycles
    and are freed by reference counting. Back on afterwards unless it was off already."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def write_arrow_batches(
    batches: Iterator[Any], writer: CsvGzipWriter, plan: TablePlan, chunk: Chunk
) -> ColumnSums:
    """Encode Arrow record batches into `writer`; returns the numeric columns' sums.

    The next batch is read by a thread while this one is encoded, as on the rows path: the
    drivers' batch readers read without the GIL."""
    # Imported here: pyarrow costs a process some 50 MB, which bulk-path workers never need.
    from exporter.canonical.arrow import ArrowEncoder, plain_columns, record_lines

    encoder = ArrowEncoder(plan.columns, plan.file_format.null_marker)
    sums = ColumnSums(plan.columns)
    table = plan.table.qualified
    with Prefetched(batches) as ahead:
        for batch in ahead:
            columns = plain_columns(batch)  # once, for the encoder and the sums
            try:
                records = encoder.records_of(columns)
            except DataError as exc:
                raise exc.within(f"{table} chunk {chunk.index}") from None
            lines = record_lines(records, plan.file_format.row_hash)
            writer.write_bytes(lines, batch.num_rows)
            sums.add_arrow_columns(columns)
            report_rows(table, batch.num_rows)
    return sums
