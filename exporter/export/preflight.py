"""What `check` finds before a first run, without cutting anything: the selected tables, one
line per privilege or facility the export needs or would use (Source.probe_privileges), and
per table its size and the strategy an export would give it, with the reason
(strategy.describe_strategy: the planner's own ladder, told from catalog facts, so no
extents map, sample or key range is read), or the frozen plan an export would reuse.

A table is an error, as in `plan`, when it cannot be exported: a column type that cannot be
written, a frozen plan its chunk files contradict, or no SELECT on it (its probe's failure).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from exporter.config.models import ExportSettings
from exporter.errors import ExporterError
from exporter.export.planner import exported_columns, measure, plan_table
from exporter.export.strategy import describe_strategy
from exporter.fsutil import read_json
from exporter.layout import ExportLayout
from exporter.model import Column, FileFormat, TablePlan, TableRef
from exporter.selection import select_on_source
from exporter.sources.base import DbConn, Source
from exporter.sources.probes import Probe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableOutline:
    """One selected table as `check` shows it: its size, strategy and reason, and its chunk
    count (the frozen plan's, or the count aimed at); or the error that keeps it from being
    exported."""

    table: TableRef
    size_bytes: int = 0
    strategy: str = ""
    reason: str = ""
    chunks: int = 0
    frozen: bool = False
    """The table's frozen plan (config/plan.json), which an export reuses."""
    error: ExporterError | None = None


@dataclass(frozen=True)
class Preflight:
    """What `check` found: the privilege probes and the selected tables."""

    probes: list[Probe]
    tables: list[TableOutline]


def select_tables(
    conn: DbConn, source: Source, settings: ExportSettings, only: Sequence[str] = ()
) -> list[TableRef]:
    """The tables an export of `settings` would take (as plan_export selects them)."""
    return select_on_source(source, conn, settings, only)


def _frozen_plan(
    conn: DbConn,
    source: Source,
    settings: ExportSettings,
    layout: ExportLayout,
    table: TableRef,
    columns: Sequence[Column],
    fmt: FileFormat,
) -> TablePlan | None:
    """The stored plan an export would reuse, or None where it would plan the table anew."""
    if layout.existing_chunk_files(table):
        # The planner reuses the stored plan or names what contradicts it (its error);
        # with chunk files on disk it never plans again, so nothing is cut here.
        return plan_table(conn, source, settings, layout, table, write=False).plan
    path = layout.plan_file(table)
    if not path.exists():
        return None
    stored = TablePlan.from_json(read_json(path))
    # Without chunk files a plan that no longer fits is simply made again (planner.py).
    same = list(stored.columns) == list(columns) and stored.file_format == fmt
    if same and stored.strategy == "partitions":
        same = set(stored.partitions) == {leaf.table for leaf in source.partitions(conn, table)}
    return stored if same else None


def outline_table(
    conn: DbConn,
    source: Source,
    settings: ExportSettings,
    layout: ExportLayout,
    table: TableRef,
) -> TableOutline:
    """The table's frozen plan, or its size and the strategy it would get, and why."""
    fmt, columns = exported_columns(conn, source, settings, table)
    stored = _frozen_plan(conn, source, settings, layout, table, columns, fmt)
    if stored is not None:
        return TableOutline(
            table, stored.size_bytes, stored.strategy, stored.reason, len(stored.chunks), True
        )
    leaves, total, note = measure(conn, source, table)
    decision = describe_strategy(conn, source, settings, table, columns, total, leaves, note)
    log.info("check %s: %s -> %s", table, decision.reason, decision.strategy)
    return TableOutline(table, total, decision.strategy, decision.reason, decision.aimed)


def preflight(
    conn: DbConn,
    source: Source,
    settings: ExportSettings,
    layout: ExportLayout,
    only: Sequence[str] = (),
) -> Preflight:
    """Probe the privileges for the selected tables, and outline each table; one table's
    problem does not stop the others. Nothing is written."""
    tables = select_tables(conn, source, settings, only)
    try:
        probes = source.probe_privileges(conn, tables)
    except Exception as exc:  # a probe that failed otherwise than by a refusal: said, not fatal
        err = exc if isinstance(exc, ExporterError) else source.explain_error(exc)
        probes = [Probe("privileges", False, f"could not be probed: {err.message}")]
    refused = {p.table: p.failure for p in probes if p.table and p.failure and not p.only_for}
    # Refusals that fail a table only under one strategy (a leaf partition's SELECT).
    refused_for = {
        (p.table, p.only_for): p.failure for p in probes if p.table and p.failure and p.only_for
    }
    outlines = []
    for table in tables:
        try:
            failure = refused.get(table)
            if failure is not None:
                raise failure
            outline = outline_table(conn, source, settings, layout, table)
            failure = refused_for.get((table, outline.strategy))
            if failure is not None:
                raise failure
            outlines.append(outline)
        except ExporterError as exc:
            log.error("%s", exc.one_line())
            outlines.append(TableOutline(table, error=exc))
        except Exception as exc:  # a driver error on one table
            err = source.explain_error(exc)
            log.error("%s", err.one_line())
            outlines.append(TableOutline(table, error=err))
    return Preflight(probes, outlines)
