"""Which image of the database each table is read at.

Where the engine's snapshot outlives the run that took it (Oracle's SCN, for as long as undo
reaches back to it: Dialect.snapshot_outlives_run), a table's snapshot is pinned in its frozen
plan before its first chunk is written, and every later run reads that table at the same
snapshot: the chunks of one table never come from two images, however often the export is
resumed. A table whose folder is deleted is planned again, at a new snapshot. Where undo no
longer reaches a pinned SCN the table's chunks fail with ORA-01555 or ORA-08180, whose hint
says so and how to start that table again (sources/oracle_errors.py).

Each table is read at its snapshot by its queries (Oracle's AS OF SCN, where the user has
FLASHBACK on the table) or by a session set to it (DBMS_FLASHBACK), chosen when it is pinned.
Elsewhere (PostgreSQL's exported snapshot ends with the run) every chunk written by a run
reads that run's snapshot, and a resumed table's chunks come from several: each chunk's
figures are then checked against its own range at its own snapshot (task.py).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from exporter.errors import ERR_SNAPSHOT, ExporterError, error
from exporter.export.planner import PlannedTable
from exporter.fsutil import write_json
from exporter.layout import ExportLayout
from exporter.sources.base import DbConn, Source

log = logging.getLogger(__name__)


def _session_trial(source: Source, conn: DbConn, snapshot: str) -> ExporterError | None:
    """Why a session cannot be set to `snapshot` (e.g. no EXECUTE on DBMS_FLASHBACK), or None."""
    try:
        with source.chunk_transaction(conn, snapshot):
            pass
    except ExporterError as exc:
        return exc
    except Exception as exc:  # the driver's own error, explained
        return source.explain_error(exc)
    return None


def pin_snapshots(
    source: Source,
    planned: Sequence[PlannedTable],
    layout: ExportLayout,
    run_snapshot: str | None,
) -> list[PlannedTable]:
    """`planned`, each plan with its snapshot pinned (and plan.json rewritten) where the
    engine's snapshot outlives the run and the table has none yet. A table whose chunks were
    written before without one keeps none, with a warning: its chunks may come from two
    images. A table that can be read at the snapshot neither by query nor by session gets
    the error that says why."""
    if run_snapshot is None or not source.dialect.snapshot_outlives_run:
        return list(planned)
    pinned: list[PlannedTable] = []
    trial: ExporterError | None | bool = False  # False: not tried yet
    with source.session() as conn:
        for item in planned:
            plan = item.plan
            if plan is None:
                pinned.append(item)
            elif plan.snapshot:
                log.info("%s: read at snapshot %s, pinned in its plan", item.table, plan.snapshot)
                pinned.append(item)
            elif layout.existing_chunk_files(item.table):
                log.warning(
                    "%s: chunk files were written without a pinned snapshot (an earlier "
                    "version, or export.consistent_snapshot: false); the rest are read at %s, "
                    "so the table's files may hold two images: delete %s to export it at one",
                    item.table,
                    run_snapshot,
                    layout.table_dir(item.table),
                )
                pinned.append(item)
            else:
                in_query = source.snapshot_in_query(conn, item.table, run_snapshot)
                if not in_query and trial is False:
                    trial = _session_trial(source, conn, run_snapshot)
                if not in_query and isinstance(trial, ExporterError):
                    pinned.append(PlannedTable(item.table, error=_refusal(item, trial)))
                    continue
                plan = dataclasses.replace(plan, snapshot=run_snapshot, snapshot_in_query=in_query)
                write_json(layout.plan_file(item.table), plan.to_json())
                how = "AS OF in its queries" if in_query else "by its sessions"
                log.info("%s: pinned to snapshot %s, read %s", item.table, run_snapshot, how)
                pinned.append(dataclasses.replace(item, plan=plan))
    return pinned


def _refusal(item: PlannedTable, cause: ExporterError) -> ExporterError:
    return error(
        ERR_SNAPSHOT,
        detail=f"{item.table}: {cause.message}",
        hint=cause.hint
        or "grant FLASHBACK on the table (or EXECUTE ON DBMS_FLASHBACK) to the export user, "
        "or set export.consistent_snapshot: false (chunks then read independently)",
    )
