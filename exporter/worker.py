"""One chunk: query, encode, write, measure, publish. Runs in a worker process (or inline).

`export_chunk` is a module-level function on a plain, picklable `ChunkTask`, so any executor
can run it. Each process keeps its connection to each source (and whatever the source opens
beside it, such as the PostgreSQL source's ADBC connection) and reuses it across chunks.
The statistics sidecar is written before the chunk file is published: a published chunk file
therefore always has its figures beside it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exporter.bulk_lines import copy_bulk
from exporter.encode import BatchEncoder, header_record
from exporter.errors import DataError, ExporterError, OutputError
from exporter.fsutil import write_json
from exporter.hashing import ROW_HASH_COLUMN, csv_lines
from exporter.layout import ExportLayout
from exporter.model import Chunk, ChunkOutcome, ChunkStats, ReadPath, TablePlan
from exporter.plain_settings import PlainSettings
from exporter.sources import get_source
from exporter.sources.base import BulkOptions, DbConn, Source
from exporter.sums import ColumnSums
from exporter.writer import CsvGzipWriter

if TYPE_CHECKING:  # only a type here: pydantic's models are slow to import in a worker
    from exporter.config.models import FetchPath

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriteOptions:
    """Run-wide settings a worker needs besides the plan."""

    compression_level: int | None
    fetch_rows: int
    client_hash: bool
    fetch_path: FetchPath


@dataclass(frozen=True)
class ChunkTask:
    """Everything one chunk needs; plain data, so it pickles to a spawned process."""

    source: PlainSettings  # the validated source config, as plain data
    plan: TablePlan
    chunk: Chunk
    root: str
    options: WriteOptions
    snapshot: str | None = None


ProgressFn = Callable[[str, int], None]
_progress: ProgressFn | None = None
_connections: dict[str, tuple[Source, DbConn]] = {}


def set_progress(callback: ProgressFn | None) -> None:
    """Where workers report rows as they go: callback(table, rows_since_last_report)."""
    global _progress
    _progress = callback


def close_connections() -> None:
    """Close this process's cached connections."""
    while _connections:
        _key, (_source, conn) = _connections.popitem()
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closing a broken connection is best effort
            pass


def _connection(config: PlainSettings) -> tuple[Source, DbConn]:
    key = config.cache_key()
    cached = _connections.get(key)
    if cached is not None and not _still_usable(cached[1]):
        close_connections()  # e.g. an Oracle session left in flashback mode
    if key not in _connections:
        source = get_source(config)
        _connections[key] = (source, source.open())
    return _connections[key]


def _still_usable(conn: DbConn) -> bool:
    try:
        return conn.reusable()
    except Exception:  # noqa: BLE001 - a connection that cannot say is not reused
        return False


def _drop_if_broken(conn: DbConn | None) -> None:
    """After a chunk failed on our side (bad data, a full disk), the source may have failed
    too, e.g. the connection lost while a COPY was being cancelled: the next chunk must not
    inherit a dead connection."""
    if conn is None or not _still_usable(conn):
        close_connections()


def _report(table: str, rows: int) -> None:
    if _progress is not None and rows:
        _progress(table, rows)


def export_chunk(task: ChunkTask) -> ChunkOutcome:
    """Write one chunk file unless it exists; never raises for a chunk's own failure."""
    plan, chunk = task.plan, task.chunk
    layout = ExportLayout(Path(task.root))
    final = layout.chunk_file(plan.table, chunk.index)
    if final.exists():
        return ChunkOutcome(plan.table, chunk.index, skipped=True)
    source: Source | None = None
    conn: DbConn | None = None
    try:
        source, conn = _connection(task.source)
        stats = _write_chunk(source, conn, task, layout, final)
        return ChunkOutcome(plan.table, chunk.index, stats=stats)
    except ExporterError as exc:
        _drop_if_broken(conn)
        return ChunkOutcome(plan.table, chunk.index, error=exc.one_line(), error_code=exc.code)
    except OSError as exc:  # the output side: disk full, permissions (drivers raise their own)
        _drop_if_broken(conn)
        failure = OutputError(
            f"{final}: {exc.strerror or exc}",
            hint="free disk space or fix export.output_dir's permissions, then re-run to resume",
        )
        return ChunkOutcome(
            plan.table, chunk.index, error=failure.one_line(), error_code=failure.code
        )
    except Exception as exc:
        # The connection may be unusable after a driver error: drop it, reconnect next time.
        close_connections()
        err = source.explain_error(exc) if source else ExporterError(str(exc))
        log.debug("chunk %s/%d failed", plan.table, chunk.index, exc_info=True)
        return ChunkOutcome(plan.table, chunk.index, error=err.one_line(), error_code=err.code)


def _write_chunk(
    source: Source, conn: DbConn, task: ChunkTask, layout: ExportLayout, final: Path
) -> ChunkStats:
    plan, chunk, opts = task.plan, task.chunk, task.options
    fmt = plan.file_format
    names = [c.name for c in plan.columns] + ([ROW_HASH_COLUMN] if fmt.row_hash else [])
    started = time.monotonic()
    with CsvGzipWriter(final, header_record(names), level=opts.compression_level) as writer:
        bulk = arrow = None
        in_db = fmt.row_hash and not opts.client_hash and source.dialect.supports_db_row_hash
        if opts.fetch_path == "auto":
            bulk = source.bulk_csv(conn, plan, chunk, BulkOptions(fmt.null_marker, in_db))
        if bulk is None and opts.fetch_path != "rows":
            query = source.dialect.select_chunk(plan, chunk)
            arrow = source.arrow_batches(conn, query, task.snapshot)
        sums: ColumnSums | None = None
        path: ReadPath
        # Closing a generator early ends the driver's query even when a check raises
        # midway; left suspended it would hold the connection and block ROLLBACK. It is
        # closed before the transaction ends (`with` exits right to left).
        if bulk is not None:
            client_hash = fmt.row_hash and not in_db
            with source.chunk_transaction(conn, task.snapshot), contextlib.closing(bulk):
                copy_bulk(bulk, writer, plan, client_hash, _report)
            path = "bulk"
        elif arrow is not None:
            with contextlib.closing(arrow):  # read in the source's own snapshot transaction
                sums = _copy_arrow(arrow, writer, plan, chunk)
            path = "arrow"
        else:
            with source.chunk_transaction(conn, task.snapshot):
                sums = _copy_batches(source, conn, writer, plan, chunk, opts.fetch_rows)
            path = "rows"
        size = writer.finish()
        stats = ChunkStats(
            index=chunk.index,
            file_name=final.name,
            rows=writer.rows,
            bytes_written=size,
            seconds=round(time.monotonic() - started, 3),
            sums=sums.exact_json() if sums else None,
            float_sums=sums.float_json() if sums else None,
            snapshot=task.snapshot,
            path=path,
        )
        write_json(layout.chunk_stats_file(plan.table, chunk.index), stats.to_json())
        writer.publish()
    return stats


def _copy_batches(
    source: Source,
    conn: DbConn,
    writer: CsvGzipWriter,
    plan: TablePlan,
    chunk: Chunk,
    fetch_rows: int,
) -> ColumnSums:
    encoder = BatchEncoder(plan.columns, plan.file_format.null_marker)
    sums = ColumnSums(plan.columns)
    batches = conn.stream(source.dialect.select_chunk(plan, chunk), fetch_rows)
    with contextlib.closing(batches):
        _encode_batches(batches, encoder, sums, writer, plan, chunk)
    return sums


def _encode_batches(
    batches: Iterator[Sequence[tuple[Any, ...]]],
    encoder: BatchEncoder,
    sums: ColumnSums,
    writer: CsvGzipWriter,
    plan: TablePlan,
    chunk: Chunk,
) -> None:
    table = plan.table.qualified
    for batch in batches:
        columns = list(zip(*batch, strict=False))  # one transposition, for encoder and sums
        try:
            records = encoder.encode_columns(columns)
        except DataError as exc:
            raise DataError(f"{table} chunk {chunk.index}: {exc.message}", hint=exc.hint) from None
        writer.write_bytes(csv_lines(records, plan.file_format.row_hash), len(records))
        sums.add_columns(columns)
        _report(table, len(records))


def _copy_arrow(
    batches: Iterator[Any], writer: CsvGzipWriter, plan: TablePlan, chunk: Chunk
) -> ColumnSums:
    # Imported here: pyarrow costs a process some 50 MB, which bulk-path workers never need.
    from exporter.arrow_encode import ArrowEncoder, plain_columns, record_lines

    encoder = ArrowEncoder(plan.columns, plan.file_format.null_marker)
    sums = ColumnSums(plan.columns)
    table = plan.table.qualified
    for batch in batches:
        columns = plain_columns(batch)  # once, for the encoder and the sums
        try:
            records = encoder.records_of(columns)
        except DataError as exc:
            raise DataError(f"{table} chunk {chunk.index}: {exc.message}", hint=exc.hint) from None
        writer.write_bytes(record_lines(records, plan.file_format.row_hash), batch.num_rows)
        sums.add_arrow_columns(columns)
        _report(table, batch.num_rows)
    return sums
