"""The export run: prepare, plan, hold a snapshot, farm chunks out to the pool, collect results,
validate, and write the summary report. Reports are written only here and by the `validate`
command (revalidate.py), never by workers.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exporter.config.models import ExportConfig
from exporter.errors import ConfigError, ExporterError, OutputError
from exporter.fsutil import sweep_partials
from exporter.layout import ExportLayout
from exporter.model import ChunkOutcome, ChunkStats, TablePlan, TableRef
from exporter.planner import PlannedTable, plan_export
from exporter.pool import create_executor, progress_queue, worker_count
from exporter.progress import Progress, QueueDrainer
from exporter.resume import chunk_stats, pending_chunks, unexpected_chunk_files
from exporter.sources import get_source
from exporter.sources.base import Source
from exporter.worker import ChunkTask, WriteOptions, export_chunk

if TYPE_CHECKING:
    from exporter.validation.readers import ChunkReaders

log = logging.getLogger(__name__)


@dataclass
class TableResult:
    """What happened to one table in this run."""

    table: TableRef
    plan: TablePlan | None
    errors: list[str] = field(default_factory=list)
    written: int = 0
    skipped: int = 0
    stats: list[ChunkStats] = field(default_factory=list)
    validation: Any = None

    @property
    def status(self) -> str:
        """SUCCEEDED only when every chunk is on disk and every check passed."""
        return "FAILED" if self.errors else "SUCCEEDED"

    @property
    def rows(self) -> int:
        """Rows in the table's chunk files."""
        return sum(s.rows for s in self.stats)


@dataclass
class ExportRun:
    """The outcome of one export run."""

    results: list[TableResult]
    started: float
    finished: float
    snapshot: str | None
    workers: int

    @property
    def ok(self) -> bool:
        """True when every table succeeded."""
        return all(r.status == "SUCCEEDED" for r in self.results)


def _options(config: ExportConfig) -> WriteOptions:
    s = config.export
    return WriteOptions(
        compression_level=s.compression_level,
        fetch_rows=s.fetch_rows,
        client_hash=s.use_client_hash,
        fetch_path=s.fetch_path,
    )


def run_chunks(
    config: ExportConfig,
    planned: Sequence[PlannedTable],
    layout: ExportLayout,
    results: dict[TableRef, TableResult],
    *,
    workers: int,
    inline: bool,
    snapshot: str | None,
    show_progress: bool | None,
    debug: bool,
    on_written: Callable[[TablePlan, int], None] | None = None,
) -> None:
    """Export every pending chunk of the planned tables, recording outcomes in `results`;
    `on_written(plan, index)` is told of each chunk file as soon as it is published."""
    tasks: list[ChunkTask] = []
    options = _options(config)
    settings = config.source.plain()  # workers need no pydantic (plain_settings.py)
    for item in sorted((p for p in planned if p.plan), key=lambda p: -(p.plan.size_bytes)):  # type: ignore[union-attr]
        plan = item.plan
        assert plan is not None
        stray = unexpected_chunk_files(plan, layout)
        if stray:
            results[plan.table].errors.append(
                OutputError(
                    f"{plan.table}: chunk files {stray} are not in the frozen plan",
                    hint=f"delete {layout.table_dir(plan.table)}/ to re-export the table",
                ).one_line()
            )
            continue
        for chunk in pending_chunks(plan, layout):
            tasks.append(ChunkTask(settings, plan, chunk, str(layout.root), options, snapshot))
        results[plan.table].skipped = len(plan.chunks) - len(pending_chunks(plan, layout))
    if not tasks:
        return
    progress = Progress(len(tasks), None, enabled=show_progress)
    q = None if inline else progress_queue()
    drainer = QueueDrainer(q, progress) if q is not None else None
    if drainer is None:
        from exporter import worker

        worker.set_progress(progress.add_rows)
    executor = create_executor(
        "inline" if inline else "process", min(workers, len(tasks)), q, debug=debug
    )
    try:
        futures: dict[Future[ChunkOutcome], ChunkTask] = {}
        for task in tasks:
            progress.table_started(
                task.plan.table.qualified, sum(1 for t in tasks if t.plan.table == task.plan.table)
            )
            futures[executor.submit(export_chunk, task)] = task
        for future in as_completed(futures):
            task = futures[future]
            result = results[task.plan.table]
            try:
                outcome = future.result()
            except Exception as exc:  # a worker process died (killed, out of memory)
                outcome = ChunkOutcome(
                    task.plan.table, task.chunk.index, error=f"worker failed: {exc!r}"
                )
            if outcome.error:
                result.errors.append(outcome.error)
                log.error("%s chunk %d: %s", task.plan.table, task.chunk.index, outcome.error)
            elif outcome.skipped:
                result.skipped += 1
            else:
                result.written += 1
                if on_written is not None:
                    on_written(task.plan, task.chunk.index)
            progress.chunk_done(task.plan.table.qualified)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        if drainer is not None:
            drainer.close()
        progress.close()


def collect_stats(result: TableResult, layout: ExportLayout) -> None:
    """Fill `result.stats` from the per-chunk records on disk (a table with errors, or
    without a plan, is left as it is)."""
    plan = result.plan
    if plan is None or result.errors:
        return
    missing = [c.index for c in pending_chunks(plan, layout)]
    if missing:
        result.errors.append(f"chunks {missing} were not written")
        return
    try:
        result.stats = [chunk_stats(plan, layout, c.index) for c in plan.chunks]
    except ExporterError as exc:
        result.errors.append(exc.one_line())


def run_export(
    config: ExportConfig,
    *,
    only: Sequence[str] = (),
    workers: int | None = None,
    inline: bool = False,
    validate: bool | None = None,
    show_progress: bool | None = None,
    debug: bool = False,
) -> ExportRun:
    """Export (and by default validate) every selected table; see DESIGN.md sections 2-4."""
    from exporter.validation.metadata import write_table_files
    from exporter.validation.report import write_summary_report

    started = time.time()
    if config.executor.kind != "local":
        raise ConfigError(
            "only the local process pool is available in this version",
            key="executor.kind",
            hint="set executor.kind: local",
        )
    source: Source = get_source(config.source)
    source.prepare()
    layout = ExportLayout(Path(config.export.output_dir))
    # Plan first: a bad --table name or an unreachable source then leaves no folder behind.
    planned = plan_export(source, config.export, layout, only)
    layout.root.mkdir(parents=True, exist_ok=True)
    sweep_partials(layout.root)
    results = {p.table: TableResult(p.table, p.plan) for p in planned}
    for p in planned:
        if p.error:
            results[p.table].errors.append(p.error.one_line())
    n_workers = worker_count(config.export.cpu_percent, explicit=workers or config.export.workers)
    want_snapshot = config.export.consistent_snapshot and source.dialect.supports_snapshot_export
    if config.export.consistent_snapshot and not source.dialect.supports_snapshot_export:
        log.info(
            "%s cannot share one snapshot between workers: chunks read independently",
            source.dialect.name,
        )
    with source.exported_snapshot() if want_snapshot else contextlib.nullcontext() as snapshot:
        if snapshot:
            log.info("all chunks read snapshot %s", snapshot)
        log.info("exporting with %d worker(s)%s", n_workers, " inline" if inline else "")
        do_validate = config.validation.enabled if validate is None else validate
        # Readers start with the export and read each chunk as soon as it is published.
        with readers_for(layout, n_workers, inline, do_validate) as readers:
            run_chunks(
                config,
                planned,
                layout,
                results,
                workers=n_workers,
                inline=inline,
                snapshot=snapshot,
                show_progress=show_progress,
                debug=debug,
                on_written=readers.submit if readers else None,
            )
            for result in results.values():
                collect_stats(result, layout)
            if readers:
                validate_all(source, results.values(), layout, snapshot, readers)
    db_row_hash = source.dialect.supports_db_row_hash
    write_table_files(results.values(), layout, config, snapshot=snapshot, db_row_hash=db_row_hash)
    run = ExportRun(list(results.values()), started, time.time(), snapshot, n_workers)
    write_summary_report(run, layout, config)
    for r in run.results:
        log.info(
            "%s %s: %d rows in %d chunk(s)%s",
            r.status,
            r.table,
            r.rows,
            len(r.stats),
            f" - {r.errors[0]}" if r.errors else "",
        )
    return run


def readers_for(layout: ExportLayout, workers: int, inline: bool, wanted: bool) -> Any:
    """A ChunkReaders context when validation is `wanted`, else a context giving None."""
    from exporter.validation.readers import ChunkReaders

    return ChunkReaders(layout, workers, inline) if wanted else contextlib.nullcontext()


def validate_all(
    source: Source,
    results: Iterable[TableResult],
    layout: ExportLayout,
    snapshot: str | None,
    readers: ChunkReaders,
) -> None:
    """Validate every table that was fully written, its files read back by `readers`."""
    from exporter.validation.checks import validate_table

    ready = [r for r in results if r.plan is not None and not r.errors]
    readers.submit_all(r.plan for r in ready if r.plan is not None)
    for result in ready:
        assert result.plan is not None
        try:
            result.validation = validate_table(
                source, result.plan, result.stats, layout, snapshot, readers
            )
        except ExporterError as exc:
            result.errors.append(exc.one_line())
        else:
            result.errors.extend(result.validation.failures)
