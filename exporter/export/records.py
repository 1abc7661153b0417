"""The run's records per table: the files beside the plan (metadata.json, and the BigQuery
artefacts schema.json, load_command.sh, validation.sql); the run's summary_report.json is
export/summary.py's.

They are written for every table that has a frozen plan, FAILED ones included (their
metadata.json says FAILED and lists the errors), after export and after `validate`.
validation.sql needs the source's figures, so it is (re)written only when validation ran and
read the source's row count; otherwise an earlier one is left as it is.

metadata.json holds: tool version, engine, schema, table, status, errors; the BigQuery
destination and file names; columns (name, BigQuery name, source type, kind, precision, scale,
nullable, BigQuery type, mode); the chunk plan (strategy, reason, split column, size) and every
chunk's figures (index, bounds, file, rows, bytes, seconds, read path, snapshot); the
snapshot; source and exported row counts (the source's also under the dialect's
`source_row_count_field`, where it names one); each exact column sum (source, exported, match);
the row-hash settings; the null marker; timings.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from exporter.bigquery.load import load_script
from exporter.bigquery.schema import bigquery_column_names, destination, schema_fields
from exporter.bigquery.validation_sql import render_validation_sql
from exporter.canonical.rowhash import ALGORITHM, ROW_HASH_COLUMN
from exporter.errors import ERR_WRITE, error
from exporter.export.results import TableResult
from exporter.fsutil import make_executable, write_atomic
from exporter.layout import ExportLayout
from exporter.model import TableRef
from exporter.sources import source_class
from exporter.storage import StorePath
from exporter.version import __version__

if TYPE_CHECKING:
    from exporter.config.models import ExportConfig

log = logging.getLogger(__name__)

METADATA_FORMAT_VERSION = 1

CANONICAL_FORM = (
    "lowercase hex MD5 of the UTF-8 bytes of the row's CSV record exactly as written: the "
    "cells of every exported column in column order (NULL as the null marker, unquoted; text "
    "always quoted, '\"' doubled), joined by commas, without the row_hash cell and without "
    "the line end (docs/FORMAT.md)"
)


def _snapshot(result: TableResult, snapshot: str | None) -> str | None:
    """The snapshot the table's rows were read at: the one every chunk recorded (None when
    they differ, as after a resume at another snapshot), else the run's."""
    seen = {s.snapshot for s in result.stats}
    if seen:
        return seen.pop() if len(seen) == 1 else None
    return snapshot


def _row_hash(result: TableResult, config: ExportConfig, db_row_hash: bool) -> dict[str, Any]:
    assert result.plan is not None
    wanted_db = not config.export.use_client_hash and db_row_hash
    # The database computes the hash only on the bulk path; the batch path always hashes here.
    sides = {"database" if wanted_db and s.read_path == "bulk" else "client" for s in result.stats}
    return {
        "enabled": result.plan.file_format.row_hash,
        "column": ROW_HASH_COLUMN,
        "algorithm": ALGORITHM,
        "requested": "client" if config.export.use_client_hash else "database",
        "computed": (sides.pop() if len(sides) == 1 else "mixed") if sides else None,
        "canonical_form": CANONICAL_FORM,
    }


def _engine_row_count(config: ExportConfig, count: int | None) -> dict[str, Any]:
    """The source's row count under the dialect's `source_row_count_field`, if it names one."""
    name = source_class(config.source.engine).dialect.source_row_count_field
    return {name: count} if name else {}


def build_metadata(
    result: TableResult,
    layout: ExportLayout,
    config: ExportConfig,
    *,
    snapshot: str | None,
    db_row_hash: bool,
) -> dict[str, Any]:
    """The content of one table's metadata.json."""
    plan = result.plan
    assert plan is not None
    verdict = result.validation
    fields = schema_fields(plan)
    bq_names = bigquery_column_names(plan)
    stats = {s.index: s for s in result.stats}
    project, dataset, table = destination(config.bigquery, plan.table)
    chunks = []
    for chunk in plan.chunks:
        s = stats.get(chunk.index)
        chunks.append(
            {
                "index": chunk.index,
                "bounds": chunk.bounds.to_json(),
                "file_name": layout.chunk_file(plan.table, chunk.index).name,
                "rows": s.rows if s else None,
                "bytes": s.bytes_written if s else None,
                "seconds": s.seconds if s else None,
                "path": s.read_path if s else None,
                "snapshot": s.snapshot if s else None,
            }
        )
    seconds = [s.seconds for s in result.stats]
    return {
        "format_version": METADATA_FORMAT_VERSION,
        "tool_version": __version__,
        "engine": config.source.engine,
        "schema": plan.table.schema,
        "table": plan.table.name,
        "status": result.status,
        "errors": list(result.errors),
        "bigquery": {
            "table": f"{project}:{dataset}.{table}",
            "schema_file": layout.schema_file(plan.table).name,
            "load_command_file": layout.load_command_file(plan.table).name,
            "validation_sql_file": layout.validation_sql_file(plan.table).name,
        },
        "columns": [
            {
                "name": c.name,
                "bigquery_name": bq_names[i],
                "source_type": c.native_type,
                "kind": c.kind.value,
                "precision": c.precision,
                "scale": c.scale,
                "nullable": c.nullable,
                "bigquery_type": fields[i]["type"],
                "mode": fields[i]["mode"],
            }
            for i, c in enumerate(plan.columns)
        ],
        "chunk_plan": {
            "strategy": plan.strategy,
            "reason": plan.reason,
            "split_column": plan.split_column,
            **({"split_columns": list(plan.split_columns)} if len(plan.split_columns) > 1 else {}),
            **({"partitions": [str(t) for t in plan.partitions]} if plan.partitions else {}),
            "size_bytes": plan.size_bytes,
            "created_at": plan.created_at,
            "chunk_count": len(plan.chunks),
        },
        "chunks": chunks,
        "snapshot": _snapshot(result, snapshot),
        "source_row_count": verdict.source_row_count if verdict else None,
        **_engine_row_count(config, verdict.source_row_count if verdict else None),
        "source_figures_over": verdict.source_basis if verdict else None,
        "exported_row_count": verdict.exported_row_count if verdict else result.rows,
        "row_count_match": (
            verdict.source_row_count == verdict.exported_row_count if verdict else None
        ),
        "column_sums": [
            {"column": c.column, "source": c.source, "exported": c.exported, "match": c.match}
            for c in (verdict.sums if verdict else [])
        ],
        "validation_ran": verdict is not None,
        "validation_carried_over": result.carried_over,
        "proved_at": result.proved_at,
        "row_hash": _row_hash(result, config, db_row_hash),
        "null_marker": plan.file_format.null_marker,
        "timings": {
            "chunk_seconds_total": round(sum(seconds), 3),
            "chunk_seconds_max": max(seconds, default=0.0),
            "written_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        },
    }


def _write_failure(table: TableRef, exc: OSError) -> str:
    failure = error(ERR_WRITE, path=exc.filename, reason=exc.strerror or exc)
    return failure.within(str(table)).one_line()


def write_table_files(
    results: Iterable[TableResult],
    layout: ExportLayout,
    config: ExportConfig,
    *,
    snapshot: str | None,
    db_row_hash: bool,
) -> None:
    """Write the per-table files of every result whose plan is on disk. A file that cannot be
    written fails its table (the error is added to the result), not the run."""
    for result in results:
        plan = result.plan
        if plan is None or not layout.plan_file(plan.table).exists():
            continue
        try:
            _write_if_changed(layout.schema_file(plan.table), _json_text(schema_fields(plan)))
            script = layout.load_command_file(plan.table)
            if _write_if_changed(script, load_script(plan, layout, config.bigquery)):
                make_executable(script)
            verdict = result.validation
            # A verdict carried over keeps the validation.sql written when it was proved.
            fresh = verdict is not None and not result.carried_over
            if fresh and verdict is not None and verdict.source_row_count is not None:
                sql = render_validation_sql(
                    plan, verdict, config.bigquery, _snapshot(result, snapshot)
                )
                _write_if_changed(layout.validation_sql_file(plan.table), sql)
        except OSError as exc:
            result.errors.append(_write_failure(plan.table, exc))
        try:
            metadata = build_metadata(
                result, layout, config, snapshot=snapshot, db_row_hash=db_row_hash
            )
            _write_metadata(layout.metadata_file(plan.table), metadata)
        except OSError as exc:
            result.errors.append(_write_failure(plan.table, exc))
        log.debug("wrote %s", layout.config_dir(plan.table))


def _json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str) + "\n"


def _write_if_changed(path: StorePath, text: str) -> bool:
    """Write `text` (atomically) unless the file already holds it: a re-run that changes
    nothing rewrites nothing (each write is two fsyncs; 300 tables made 2,400 of them)."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    write_atomic(path, text)
    return True


def _write_metadata(path: StorePath, metadata: dict[str, Any]) -> None:
    """metadata.json, unless only the time it was written would change."""
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        old["timings"]["written_at"] = metadata["timings"]["written_at"]
        if old == json.loads(_json_text(metadata)):
            return
    except (OSError, ValueError, KeyError, TypeError):
        pass
    write_atomic(path, _json_text(metadata))
