"""summary_report.json: one record of the whole run, every table SUCCEEDED or FAILED with its
counts, validation verdict and errors, and the totals (summary_report.json.template at the
repository root documents every field). Written atomically after export and after `validate`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from exporter.export.results import ExportRun, TableResult
from exporter.fsutil import write_json
from exporter.layout import ExportLayout
from exporter.storage import StorePath
from exporter.version import __version__

if TYPE_CHECKING:
    from exporter.config.models import ExportConfig

REPORT_FORMAT_VERSION = 1


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")


def _action(result: TableResult) -> str:
    """What this run did about the table's validation."""
    if result.carried_over:
        return "carried_over"
    return "validated" if result.validation is not None else "not_run"


def build_summary(run: ExportRun, layout: ExportLayout, config: ExportConfig) -> dict[str, Any]:
    """The report as a dict (see summary_report.json.template)."""
    tables = []
    for r in run.results:
        plan = r.plan
        tables.append(
            {
                "schema": r.table.schema,
                "table": r.table.name,
                "status": r.status,
                "strategy": plan.strategy if plan else None,
                "chunks_planned": len(plan.chunks) if plan else 0,
                "chunks_written": r.written,
                "chunks_skipped": r.skipped,
                "rows_exported": r.rows,
                "bytes_written": sum(s.bytes_written for s in r.stats),
                "validation": r.validation.to_json() if r.validation is not None else None,
                "validation_action": _action(r),
                "proved_at": r.proved_at,
                "output_dir": str(layout.table_dir(r.table)),
                "error": r.errors[0] if r.errors else None,
                "errors": r.errors,
            }
        )
    succeeded = sum(1 for t in tables if t["status"] == "SUCCEEDED")
    verdicts = [r.validation for r in run.results if r.validation is not None]
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "tool_version": __version__,
        "engine": config.source.engine,
        "started_at": _iso(run.started),
        "finished_at": _iso(run.finished),
        "duration_seconds": round(run.finished - run.started, 3),
        "workers": run.workers,
        "snapshot": run.snapshot,
        "validation_enabled": any(r.validation is not None for r in run.results),
        "status": "SUCCEEDED" if run.ok else "FAILED",
        "totals": {
            "tables": len(tables),
            "succeeded": succeeded,
            "failed": len(tables) - succeeded,
            # Tables whose validation ran: every check passed / some check failed.
            "validated": sum(1 for v in verdicts if not v.failures),
            "validation_failed": sum(1 for v in verdicts if v.failures),
            "rows_exported": sum(t["rows_exported"] for t in tables),
            "bytes_written": sum(t["bytes_written"] for t in tables),
        },
        "tables": tables,
    }


def write_summary_report(run: ExportRun, layout: ExportLayout, config: ExportConfig) -> StorePath:
    """Write export_data/summary_report.json atomically; returns its path."""
    path = layout.summary_report()
    write_json(path, build_summary(run, layout, config))
    return path
