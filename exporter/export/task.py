"""One chunk: query, encode, write, measure, publish. Runs in a worker process (or inline).

`export_chunk` is a module-level function on a plain, picklable `ChunkTask`, so any executor
can run it. The connection comes from the worker's cache (runtime/connections.py) and is
reused across chunks. The source's figures of the chunk's range are taken beside the read,
on a second connection (export/figures.py), and waited for before anything is published. The
statistics sidecar is written before the chunk file is published: a published chunk file
therefore always has its figures beside it.
"""

from __future__ import annotations

import contextlib
import logging
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from exporter.canonical.cells import header_record
from exporter.canonical.rowhash import ROW_HASH_COLUMN
from exporter.config.plain import PlainSettings
from exporter.errors import ERR_UNEXPECTED, ERR_WRITE, ExporterError, error
from exporter.export.figures import settle, start_figures
from exporter.export.read_paths import write_arrow_batches, write_bulk_lines, write_row_batches
from exporter.export.writer import CsvGzipWriter
from exporter.fsutil import write_json
from exporter.layout import ExportLayout
from exporter.model import Chunk, ChunkStats, ReadPath, TablePlan, TableRef
from exporter.runtime.connections import cached_connection, close_connections, drop_if_broken
from exporter.sources.base import DbConn, Source
from exporter.sources.dialect import BulkOptions
from exporter.storage import StorePath, StoreSpec
from exporter.validation.source_figures import ChunkFigures
from exporter.validation.sums import ColumnSums

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
    source_figures: bool = False
    """Also take the source's COUNT(*) and sums of the chunk's range at its snapshot, for
    validation (where there is a snapshot)."""


@dataclass(frozen=True)
class ChunkTask:
    """Everything one chunk needs; plain data, so it pickles to a worker process."""

    source: PlainSettings  # the validated source config, as plain data
    plan: TablePlan
    chunk: Chunk
    output: StoreSpec
    """The output root (a local folder or a store's URL), opened where the task runs."""
    options: WriteOptions
    snapshot: str | None = None
    """The snapshot the chunk is read at (export/snapshots.py)."""

    @property
    def session_snapshot(self) -> str | None:
        """The snapshot the session is set to: none where the queries name it themselves."""
        return self.plan.session_snapshot(self.snapshot)


@dataclass(frozen=True)
class ChunkOutcome:
    """A worker's answer for one chunk: stats when written or skipped, else an error line."""

    table: TableRef
    index: int
    stats: ChunkStats | None = None
    skipped: bool = False
    error: str | None = None
    error_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def export_chunk(task: ChunkTask) -> ChunkOutcome:
    """Write one chunk file unless it exists; never raises for a chunk's own failure."""
    plan, chunk = task.plan, task.chunk
    layout = ExportLayout.at(task.output)
    final = layout.chunk_file(plan.table, chunk.index)
    # Idempotent: a task run again (a lost Dask worker's, whose file was published before
    # the worker died) finds the file and leaves it as it is.
    if final.exists():
        return ChunkOutcome(plan.table, chunk.index, skipped=True)
    source: Source | None = None
    conn: DbConn | None = None
    try:
        source, conn = cached_connection(task.source)
        stats = _write_chunk(source, conn, task, layout, final)
        return ChunkOutcome(plan.table, chunk.index, stats=stats)
    except _PublishedMeanwhile:  # its temp file is gone with the writer; nothing was replaced
        return ChunkOutcome(plan.table, chunk.index, skipped=True)
    except ExporterError as exc:
        drop_if_broken(conn)
        return ChunkOutcome(plan.table, chunk.index, error=exc.one_line(), error_code=exc.code)
    except OSError as exc:  # the output side: disk full, permissions (drivers raise their own)
        drop_if_broken(conn)
        failure = error(ERR_WRITE, path=final, reason=exc.strerror or exc)
        return ChunkOutcome(
            plan.table, chunk.index, error=failure.one_line(), error_code=failure.code
        )
    except Exception as exc:
        # The connection may be unusable after a driver error: drop it, reconnect next time.
        close_connections()
        err = (
            source.explain_error(exc)
            if source
            else error(ERR_UNEXPECTED, kind=type(exc).__name__, detail=exc)
        )
        log.debug("chunk %s/%d failed", plan.table, chunk.index, exc_info=True)
        return ChunkOutcome(plan.table, chunk.index, error=err.one_line(), error_code=err.code)


class _PublishedMeanwhile(Exception):
    """The chunk's file appeared while this task was writing it."""


def _read_path(source: Source, task: ChunkTask) -> ReadPath:
    """The engine's bulk CSV where asked for (`auto`) and offered; else Arrow batches where
    the driver has them and they are asked for (`batch`), or `auto` and the dialect takes them
    by default (a path not yet proved on a real database is taken only when asked for); else
    Python rows."""
    abilities, wanted = source.dialect, task.options.fetch_path
    if wanted == "auto" and abilities.supports_bulk_csv:
        return "bulk"
    by_default = wanted == "auto" and abilities.arrow_by_default
    if abilities.supports_arrow_batches and (wanted == "batch" or by_default):
        return "arrow"
    return "rows"


def _write_chunk(
    source: Source, conn: DbConn, task: ChunkTask, layout: ExportLayout, final: StorePath
) -> ChunkStats:
    # The source's figures of the same range at the same snapshot, taken beside the read and
    # waited for before the file is published: a published chunk always has them
    # (validation/source_figures.py). Only at a snapshot every chunk of the table shares:
    # chunks read independently are checked against one count of the whole table instead.
    figures: Future[ChunkFigures] | None = None
    if task.options.source_figures and task.snapshot is not None:
        figures = start_figures(task.source, task.plan, task.chunk, task.session_snapshot)
    try:
        return _read_and_publish(source, conn, task, layout, final, figures)
    except BaseException as exc:
        settle(figures, exc)  # the chunk failed: its figures must not run on unobserved
        raise


def _read_and_publish(
    source: Source,
    conn: DbConn,
    task: ChunkTask,
    layout: ExportLayout,
    final: StorePath,
    figures: Future[ChunkFigures] | None,
) -> ChunkStats:
    plan, chunk, opts = task.plan, task.chunk, task.options
    fmt = plan.file_format
    names = [c.name for c in plan.columns] + ([ROW_HASH_COLUMN] if fmt.row_hash else [])
    started = time.monotonic()
    read_path = _read_path(source, task)
    session = task.session_snapshot
    with CsvGzipWriter(final, header_record(names), level=opts.compression_level) as writer:
        sums: ColumnSums | None = None
        # Closing a generator early ends the driver's query even when a check raises
        # midway; left suspended it would hold the connection and block ROLLBACK. It is
        # closed before the transaction ends (`with` exits right to left).
        if read_path == "bulk":
            in_db = fmt.row_hash and not opts.client_hash and source.dialect.supports_db_row_hash
            bulk = source.bulk_csv(conn, plan, chunk, BulkOptions(fmt.null_marker, in_db))
            with source.chunk_transaction(conn, session), contextlib.closing(bulk.batches):
                write_bulk_lines(bulk, writer, plan, fmt.row_hash and not in_db)
        elif read_path == "arrow":
            query = source.dialect.select_chunk(plan, chunk)
            batches = source.arrow_batches(conn, query, session, opts.fetch_rows)
            with contextlib.closing(batches):  # read in the source's own snapshot transaction
                sums = write_arrow_batches(batches, writer, plan, chunk)
        else:
            with source.chunk_transaction(conn, session):
                rows = conn.stream(source.dialect.select_chunk(plan, chunk), opts.fetch_rows)
                with contextlib.closing(rows):
                    sums = write_row_batches(rows, writer, plan, chunk)
        size = writer.finish()
        # Its error (the source's one line) fails the chunk, which is then not published.
        taken = figures.result() if figures is not None else None
        # First writer wins: a task of an interrupted earlier run, still running on a Dask
        # worker, may have published this chunk meanwhile; neither its file nor its record
        # is replaced (a window of milliseconds remains, between this test and the rename).
        if final.exists():
            raise _PublishedMeanwhile
        stats = ChunkStats(
            index=chunk.index,
            file_name=final.name,
            rows=writer.rows,
            bytes_written=size,
            seconds=round(time.monotonic() - started, 3),
            sums=sums.exact_json() if sums else None,
            float_sums=sums.float_json() if sums else None,
            snapshot=task.snapshot,
            read_path=read_path,
            source_rows=taken[0] if taken else None,
            source_sums=taken[1] if taken else None,
        )
        write_json(layout.chunk_stats_file(plan.table, chunk.index), stats.to_json())
        writer.publish()
    return stats
