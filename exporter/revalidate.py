"""`validate`: check the files already on disk against the source as it is now, without
exporting anything (the export itself validates at its snapshot: coordinator.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from exporter.config.models import ExportConfig
from exporter.coordinator import ExportRun, TableResult, collect_stats, readers_for, validate_all
from exporter.layout import ExportLayout
from exporter.planner import plan_export
from exporter.pool import worker_count
from exporter.sources import get_source

log = logging.getLogger(__name__)


def validate_existing(config: ExportConfig, *, only: Sequence[str] = ()) -> ExportRun:
    """`validate`: check the files on disk against the source as it is now (the export's
    snapshot is gone, so the source should not have changed since)."""
    from exporter.validation.metadata import write_table_files
    from exporter.validation.report import write_summary_report

    started = time.time()
    source = get_source(config.source)
    layout = ExportLayout(Path(config.export.output_dir))
    planned = plan_export(source, config.export, layout, only, write=False)
    results = []
    for p in planned:
        result = TableResult(p.table, p.plan)
        if p.error:
            result.errors.append(p.error.one_line())
        elif not p.reused:
            result.errors.append(
                f"{p.table} has not been exported ({layout.plan_file(p.table)} is missing)"
            )
        collect_stats(result, layout)
        results.append(result)
    workers = worker_count(config.export.cpu_percent, explicit=config.export.workers)
    with readers_for(layout, workers, False, True) as readers:
        assert readers is not None
        validate_all(source, results, layout, None, readers)
    db_row_hash = source.dialect.supports_db_row_hash
    write_table_files(results, layout, config, snapshot=None, db_row_hash=db_row_hash)
    run = ExportRun(results, started, time.time(), None, 0)
    write_summary_report(run, layout, config)
    for r in run.results:
        log.info("%s %s%s", r.status, r.table, f" - {r.errors[0]}" if r.errors else "")
    return run
