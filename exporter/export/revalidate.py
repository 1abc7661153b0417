"""`validate`: check the files already on disk against the source as it is now, without
exporting anything (the export itself validates at its snapshot: run.py). The files are read
back on the executor the config names: the local pool, or the Dask cluster's workers."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from exporter.config.models import ExportConfig
from exporter.export.planner import plan_export
from exporter.export.records import write_table_files
from exporter.export.results import ExportRun, TableResult
from exporter.export.run import collect_stats, validate_results
from exporter.export.summary import write_summary_report
from exporter.layout import ExportLayout
from exporter.runtime.dask_executor import open_cluster
from exporter.runtime.executors import worker_count
from exporter.sources import get_source
from exporter.validation.readers import ChunkReaders

log = logging.getLogger(__name__)


def validate_existing(config: ExportConfig, *, only: Sequence[str] = ()) -> ExportRun:
    """`validate`: check the files on disk against the source as it is now (the export's
    snapshot is gone, so the source should not have changed since)."""
    started = time.time()
    source = get_source(config.source)
    layout = ExportLayout.at(config.export.output())
    # Connected first: an unreachable scheduler is said before any work.
    with open_cluster(config.executor, inline=False) as cluster:
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
        with ChunkReaders(layout, workers, inline=False, cluster=cluster) as readers:
            validate_results(source, results, layout, None, readers, revalidate=True)
    db_row_hash = source.dialect.supports_db_row_hash
    write_table_files(results, layout, config, snapshot=None, db_row_hash=db_row_hash)
    run = ExportRun(results, started, time.time(), None, 0)
    write_summary_report(run, layout, config)
    for r in run.results:
        log.info("%s %s%s", r.status, r.table, f" - {r.errors[0]}" if r.errors else "")
    return run
