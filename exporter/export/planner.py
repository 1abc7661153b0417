"""The coordinator's planning: catalog -> one frozen TablePlan per table (config/plan.json).

For each selected table it reads columns, partitions and size, decides how to chunk it
(strategy.py) and logs the decision with its reason on one line.
A stored plan is reused as it is; a table whose columns, file format or partitions changed
since its plan was frozen is reported (PlanMismatch), never silently re-planned over existing
chunk files.
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
    ERR_PARTITIONS_CHANGED,
    ERR_PLAN_MISSING,
    ERR_ROW_HASH_COLUMN_TAKEN,
    ERR_SETTING,
    ExporterError,
    PlanMismatch,
    error,
)
from exporter.export.strategy import decide_chunks
from exporter.fsutil import read_json, write_json
from exporter.layout import ExportLayout
from exporter.model import (
    Chunk,
    Column,
    FileFormat,
    TablePlan,
    TableRef,
)
from exporter.selection import select_on_source
from exporter.sources.base import DbConn, Source
from exporter.sources.values import LeafPartition
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


def _compare_partitions(stored: TablePlan, leaves: Sequence[TableRef], where: str) -> None:
    # A plan that reads leaf partitions would miss the rows of a partition attached since
    # (and fail on one detached): the change is named instead.
    before, now = set(stored.partitions), set(leaves)
    if before != now:
        changes = [f"attached {t}" for t in sorted(now - before)]
        changes += [f"detached {t}" for t in sorted(before - now)]
        raise error(
            ERR_PARTITIONS_CHANGED,
            table=stored.table,
            plan_file=where,
            changes=", ".join(changes),
            folder=where.rsplit("/config/", 1)[0],
        )


def exported_columns(
    conn: DbConn, source: Source, settings: ExportSettings, table: TableRef
) -> tuple[FileFormat, list[Column]]:
    """The file format and the table's columns as exported; an error where the row hash's
    column name is taken by a column of the table."""
    fmt = file_format_for(settings, source)
    columns = source.describe(conn, table)
    if fmt.row_hash and any(c.name.lower() == ROW_HASH_COLUMN for c in columns):
        raise error(ERR_ROW_HASH_COLUMN_TAKEN, table=table, name=ROW_HASH_COLUMN)
    return fmt, columns


def measure(conn: DbConn, source: Source, table: TableRef) -> tuple[list[LeafPartition], int, str]:
    """The table's leaf partitions, its size in bytes and what the size rests on. A
    partitioned table may store nothing itself (PostgreSQL): its size is at least its
    leaves', and where the engine counts more (Oracle's LOB segments), that."""
    leaves = source.partitions(conn, table)
    size = source.table_size(conn, table)
    return leaves, max(size.bytes, sum(leaf.size_bytes for leaf in leaves)), size.note


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
    fmt, columns = exported_columns(conn, source, settings, table)
    plan_path = layout.plan_file(table)
    stored: TablePlan | None = None
    if plan_path.exists():
        stored = TablePlan.from_json(read_json(plan_path))
        try:
            _compare(stored, columns, fmt, str(plan_path))
            if stored.strategy == "partitions":
                now = [leaf.table for leaf in source.partitions(conn, table)]
                _compare_partitions(stored, now, str(plan_path))
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
    leaves, total, note = measure(conn, source, table)
    decision = decide_chunks(conn, source, settings, table, columns, total, leaves, note)
    plan = TablePlan(
        table=table,
        columns=tuple(columns),
        size_bytes=total,
        strategy=decision.strategy,
        reason=decision.reason,
        chunks=tuple(Chunk(i, b) for i, b in enumerate(decision.bounds)),
        file_format=fmt,
        split_columns=decision.split_columns,
        tool_version=__version__,
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    log.info("plan %s: %s -> %s, %d chunk(s)", table, plan.reason, plan.strategy, len(plan.chunks))
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
        tables = select_on_source(source, conn, settings, only)
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
