"""The coordinator's planning: catalog -> one frozen TablePlan per table (config/plan.json).

For each selected table it reads columns, primary key and size, decides a strategy (whole,
physical ranges, integer-key ranges) and logs the decision with its reason on one line.
A stored plan is reused as it is; a table whose columns or file format changed since its plan
was frozen is reported (PlanMismatch), never silently re-planned over existing chunk files.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from exporter.canonical.rowhash import ROW_HASH_COLUMN
from exporter.config.models import ExportSettings
from exporter.errors import (
    ERR_COLUMNS_CHANGED,
    ERR_FORMAT_CHANGED,
    ERR_NO_TABLE_MATCHES,
    ERR_PLAN_MISSING,
    ERR_ROW_HASH_COLUMN_TAKEN,
    ERR_SETTING,
    ExporterError,
    PlanMismatch,
    error,
)
from exporter.fsutil import read_json, write_json
from exporter.layout import ExportLayout
from exporter.model import (
    BoundsKind,
    Chunk,
    ChunkBounds,
    Column,
    ColumnKind,
    FileFormat,
    TablePlan,
    TableRef,
)
from exporter.selection import select_tables
from exporter.sources.base import DbConn, Source
from exporter.sources.ranges import BYTES_PER_GB, BYTES_PER_MB, parts_for
from exporter.version import __version__

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedTable:
    """A table's plan, or the error that keeps it from being exported."""

    table: TableRef
    plan: TablePlan | None = None
    error: ExporterError | None = None
    reused: bool = False


def file_format_for(settings: ExportSettings, source: Source) -> FileFormat:
    """The null marker and row-hash setting every chunk file of this run is written with."""
    marker = settings.null_marker
    if marker is None:
        marker = "" if source.dialect.empty_string_is_null else "\\N"
    return FileFormat(null_marker=marker, row_hash=settings.enable_row_hash)


def _size_text(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    raise AssertionError


def decide_chunks(
    conn: DbConn,
    source: Source,
    settings: ExportSettings,
    table: TableRef,
    columns: Sequence[Column],
    size: int,
) -> tuple[BoundsKind, str, list[ChunkBounds], str | None]:
    """Strategy, reason, chunk bounds and split column for one table."""
    threshold = settings.chunk_threshold_gb * BYTES_PER_GB
    parts = parts_for(size, threshold, settings.chunk_size_mb * BYTES_PER_MB)
    cmp = f"{_size_text(size)} {'<=' if parts == 1 else '>'} {_size_text(threshold)} threshold"
    if parts == 1:
        return "whole", cmp, [ChunkBounds("whole")], None
    if settings.chunk_strategy == "none":
        return "whole", f"{cmp}, but chunk_strategy is none", [ChunkBounds("whole")], None
    tried = []
    if settings.chunk_strategy in ("auto", "physical"):
        if source.dialect.supports_physical_split:
            ranges = source.physical_ranges(conn, table, parts)
            if ranges:
                return "physical", f"{cmp}, physical ranges", ranges, None
            tried.append("the table has no physical locator ranges")
        else:
            tried.append("the engine has no physical split")
    pk = source.primary_key(conn, table)
    kinds = {c.name: c.kind for c in columns}
    if len(pk) == 1 and kinds.get(pk[0]) is ColumnKind.INTEGER:
        ranges = source.key_ranges(conn, table, pk[0], parts)
        return "key", f"{cmp}, ranges of integer primary key {pk[0]}", ranges, pk[0]
    tried.append("no single-column integer primary key")
    return "whole", f"{cmp}, but {' and '.join(tried)}: one chunk", [ChunkBounds("whole")], None


def _compare(stored: TablePlan, columns: Sequence[Column], fmt: FileFormat, where: str) -> None:
    if list(stored.columns) != list(columns):
        before = {c.name: c for c in stored.columns}
        now = {c.name: c for c in columns}
        changes = [f"added {n}" for n in now if n not in before]
        changes += [f"removed {n}" for n in before if n not in now]
        changes += [f"changed {n}" for n in now if n in before and now[n] != before[n]]
        raise error(
            ERR_COLUMNS_CHANGED,
            table=stored.table,
            plan_file=where,
            changes=", ".join(changes) or "column order changed",
            folder=where.rsplit("/config/", 1)[0],
        )
    if stored.file_format != fmt:
        raise error(ERR_FORMAT_CHANGED, table=stored.table, plan_file=where)


def plan_table(
    conn: DbConn,
    source: Source,
    settings: ExportSettings,
    layout: ExportLayout,
    table: TableRef,
    *,
    write: bool,
) -> PlannedTable:
    """Reuse the table's stored plan or make (and, with `write`, freeze) a new one."""
    fmt = file_format_for(settings, source)
    columns = source.describe(conn, table)
    if fmt.row_hash and any(c.name.lower() == ROW_HASH_COLUMN for c in columns):
        raise error(ERR_ROW_HASH_COLUMN_TAKEN, table=table, name=ROW_HASH_COLUMN)
    plan_path = layout.plan_file(table)
    stored: TablePlan | None = None
    if plan_path.exists():
        stored = TablePlan.from_json(read_json(plan_path))
        try:
            _compare(stored, columns, fmt, str(plan_path))
        except PlanMismatch as exc:
            if layout.existing_chunk_files(table):
                raise
            # No chunk file was written under the old plan: nothing can be mixed, so a
            # changed table or changed settings simply get a new plan.
            log.info("plan %s: %s; no chunk files yet, planning again", table, exc.message)
            stored = None
    if stored is not None:
        log.info(
            "plan %s: reusing %s (%d chunks, %s)",
            table,
            plan_path,
            len(stored.chunks),
            stored.strategy,
        )
        return PlannedTable(table, stored, reused=True)
    if layout.existing_chunk_files(table):
        raise error(
            ERR_PLAN_MISSING, table=table, plan_file=plan_path, folder=layout.table_dir(table)
        )
    size = source.size_bytes(conn, table)
    strategy, reason, bounds, split_column = decide_chunks(
        conn, source, settings, table, columns, size
    )
    plan = TablePlan(
        table=table,
        columns=tuple(columns),
        size_bytes=size,
        strategy=strategy,
        reason=reason,
        chunks=tuple(Chunk(i, b) for i, b in enumerate(bounds)),
        file_format=fmt,
        split_column=split_column,
        tool_version=__version__,
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    log.info("plan %s: %s -> %s, %d chunk(s)", table, reason, strategy, len(plan.chunks))
    if write:
        write_json(plan_path, plan.to_json())
    return PlannedTable(table, plan)


def plan_export(
    source: Source,
    settings: ExportSettings,
    layout: ExportLayout,
    only: Sequence[str] = (),
    *,
    write: bool = True,
) -> list[PlannedTable]:
    """Plans for every selected table; one table's problem does not stop the others."""
    with source.session() as conn:
        found = source.list_tables(conn, settings.schemas)
        tables = select_tables(found, settings.include, settings.exclude, only)
        if not tables:
            raise error(ERR_NO_TABLE_MATCHES, key="export.schemas", block="export")
        planned = []
        for table in tables:
            try:
                planned.append(plan_table(conn, source, settings, layout, table, write=write))
            except ExporterError as exc:
                log.error("%s", exc.one_line())
                planned.append(PlannedTable(table, error=exc))
            except OSError as exc:  # plan.json cannot be written: no table can be exported
                raise error(
                    ERR_SETTING,
                    key="export.output_dir",
                    problem=f"cannot write {layout.plan_file(table)}: {exc.strerror or exc}",
                    hint="choose a folder this user can create and write",
                ) from None
            except Exception as exc:  # a driver error on one table
                err = source.explain_error(exc)
                log.error("%s", err.one_line())
                planned.append(PlannedTable(table, error=err))
        return planned
