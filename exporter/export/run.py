"""The export run: prepare, plan, hold a snapshot, run the chunk tasks on an executor, collect
their results, validate, and write the records (metadata.json per table, the summary report).
Records are written only here and by the `validate` command (revalidate.py), never by tasks.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, as_completed

from exporter.config.models import ExportConfig
from exporter.errors import (
    ERR_CHUNKS_MISSING,
    ERR_STRAY_CHUNK_FILES,
    ExporterError,
    error,
)
from exporter.export import proofs
from exporter.export.planner import PlannedTable, plan_export
from exporter.export.records import write_table_files
from exporter.export.results import ExportRun, TableResult
from exporter.export.resume import all_chunk_stats, pending_chunks, unexpected_chunk_files
from exporter.export.snapshots import pin_snapshots
from exporter.export.summary import write_summary_report
from exporter.export.task import ChunkOutcome, ChunkTask, WriteOptions, export_chunk
from exporter.fsutil import sweep_partials
from exporter.layout import ExportLayout
from exporter.model import TablePlan, TableRef
from exporter.runtime.dask_executor import open_cluster
from exporter.runtime.executors import ExecutorKind, open_executor, worker_count
from exporter.runtime.progress import Progress
from exporter.runtime.worker_server import start_worker_server
from exporter.sources import get_source
from exporter.sources.base import Source
from exporter.storage import check_writable
from exporter.validation.checks import validate_tables
from exporter.validation.readers import ChunkReaders

log = logging.getLogger(__name__)


def _options(config: ExportConfig, validate: bool) -> WriteOptions:
    s = config.export
    return WriteOptions(
        compression_level=s.compression_level,
        fetch_rows=s.fetch_rows,
        client_hash=s.use_client_hash,
        fetch_path=s.fetch_path,
        source_figures=validate,
    )


def chunk_tasks(
    config: ExportConfig,
    planned: Sequence[PlannedTable],
    layout: ExportLayout,
    results: dict[TableRef, TableResult],
    snapshot: str | None,
    validate: bool = True,
) -> list[ChunkTask]:
    """A task for every chunk of the planned tables without a file yet, largest table first,
    each read at its table's snapshot (the run's `snapshot` unless one is pinned in its plan);
    chunks already on disk are counted as skipped, and a table whose folder holds chunk files
    its plan does not have gets no task but an error. With `validate`, tasks also take the
    source's figures of their ranges."""
    tasks: list[ChunkTask] = []
    options = _options(config, validate)
    settings = config.source.plain()  # workers need no pydantic (config/plain.py)
    plans = [p.plan for p in planned if p.plan is not None]
    for plan in sorted(plans, key=lambda p: -p.size_bytes):
        stray = unexpected_chunk_files(plan, layout)
        if stray:
            failure = error(
                ERR_STRAY_CHUNK_FILES,
                table=plan.table,
                indexes=stray,
                folder=layout.table_dir(plan.table),
            )
            results[plan.table].errors.append(failure.one_line())
            continue
        pending = pending_chunks(plan, layout)
        at = plan.read_snapshot(snapshot)
        for chunk in pending:
            tasks.append(ChunkTask(settings, plan, chunk, layout.spec, options, at))
        results[plan.table].skipped = len(plan.chunks) - len(pending)
    return tasks


def run_tasks(
    executor: Executor,
    tasks: Sequence[ChunkTask],
    results: dict[TableRef, TableResult],
    progress: Progress,
    on_written: Callable[[TablePlan, int], None] | None = None,
    on_done: Callable[[bool], None] | None = None,
) -> None:
    """Run every task on `executor`, recording each outcome in `results` as it finishes;
    `on_written(plan, index)` is told of each chunk file as soon as it is published, and
    `on_done(failed)` of each task that ends (a worker is then free for the next)."""
    futures: dict[Future[ChunkOutcome], ChunkTask] = {}
    for task in tasks:
        table = task.plan.table
        progress.table_started(table.qualified, sum(1 for t in tasks if t.plan.table == table))
        futures[executor.submit(export_chunk, task)] = task
    for future in as_completed(futures):
        task = futures[future]
        result = results[task.plan.table]
        try:
            outcome = future.result()
        except Exception as exc:  # a worker died (killed, out of memory; Dask: too often)
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
        if on_done is not None:
            on_done(bool(outcome.error))
        progress.chunk_done(task.plan.table.qualified)


def collect_stats(result: TableResult, layout: ExportLayout) -> None:
    """Fill `result.stats` from the per-chunk records on disk (a table with errors, or
    without a plan, is left as it is)."""
    plan = result.plan
    if plan is None or result.errors:
        return
    missing = [c.index for c in pending_chunks(plan, layout)]
    if missing:
        result.errors.append(error(ERR_CHUNKS_MISSING, indexes=missing).one_line())
        return
    try:
        result.stats = all_chunk_stats(plan, layout)
    except ExporterError as exc:
        result.errors.append(exc.one_line())


def validate_results(
    source: Source,
    results: Iterable[TableResult],
    layout: ExportLayout,
    snapshot: str | None,
    readers: ChunkReaders,
    *,
    revalidate: bool = False,
) -> None:
    """Validate every table that was fully written, recording verdicts, failures and proofs.
    A table with no chunk written by this run whose proof still holds (proofs.py) keeps its
    verdict unless `revalidate`: no query to the source, no file read back."""
    ready = [r for r in results if r.plan is not None and not r.errors]
    checked = []
    for result in ready:
        assert result.plan is not None
        carried = None if revalidate or result.written else proofs.carried_over(result.plan, layout)
        if carried is None:
            checked.append(result)
            continue
        result.validation, result.proved_at = carried.verdict, carried.proved_at
        result.carried_over = True
        log.info(
            "%s: validated at %s, unchanged since: not validated again",
            result.table,
            carried.proved_at,
        )
    # Taken before the files are read back: a file touched meanwhile fails the next quick check.
    stats = {r.table: proofs.file_stats(r.plan, layout) for r in checked if r.plan is not None}
    tables = [(r.plan, r.stats) for r in checked if r.plan is not None]
    # The workers' figures of their chunks' ranges, unless everything is to be proved again.
    verdicts = validate_tables(
        source, tables, layout, snapshot, readers, chunk_figures=not revalidate
    )
    for result in checked:
        assert result.plan is not None
        verdict = verdicts[result.table]
        at = result.plan.read_snapshot(snapshot)
        if isinstance(verdict, ExporterError):
            result.errors.append(verdict.one_line())
            proofs.record(result.plan, layout, None, stats[result.table], at)
            continue
        result.validation = verdict
        result.errors.extend(verdict.failures)
        proofs.record(result.plan, layout, verdict, stats[result.table], at)
        if not verdict.failures:
            result.proved_at = proofs.now()


def _run_chunks(
    pool: Callable[..., contextlib.AbstractContextManager[Executor]],
    tasks: Sequence[ChunkTask],
    results: dict[TableRef, TableResult],
    readers: ChunkReaders | None,
    show_progress: bool | None,
) -> None:
    """Run the tasks on the executor `pool(progress=...)` opens, with the bars; `readers`
    follow the chunks as they are written, in the order the pool starts them, and each chunk
    published is handed to them at once (a follower that gave up is replaced by a read)."""
    progress = Progress(len(tasks), None, enabled=show_progress)
    if readers is not None:
        readers.follow([(task.plan, task.chunk.index) for task in tasks])
    try:
        with pool(progress=progress) as executor:
            if readers is None:
                run_tasks(executor, tasks, results, progress)
            else:
                run_tasks(executor, tasks, results, progress, readers.submit, readers.chunk_done)
    finally:
        progress.close()


def run_export(
    config: ExportConfig,
    *,
    only: Sequence[str] = (),
    workers: int | None = None,
    inline: bool = False,
    validate: bool | None = None,
    show_progress: bool | None = None,
    debug: bool = False,
    revalidate: bool = False,
) -> ExportRun:
    """Export (and by default validate) every selected table; see DESIGN.md sections 2-4.
    A table already proved whose files have not changed keeps its verdict unless
    `revalidate` (proofs.py). Tasks run on the local pool or the Dask cluster the config
    names; files go to the local folder or store `export.output_dir` names."""
    started = time.time()
    source: Source = get_source(config.source)
    if not inline and config.executor.kind == "local":
        # Its imports run on a core the coordinator leaves idle while it reads the catalog.
        start_worker_server(source.worker_modules)
    source.prepare()
    layout = ExportLayout.at(config.export.output())
    check_writable(layout.write_probe())  # in a store: a missing bucket, refused credentials
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(open_cluster(config.executor, inline))
        # Plan first: a bad --table name or an unreachable source then leaves no folder behind.
        planned = plan_export(source, config.export, layout, only)
        layout.root.mkdir(parents=True, exist_ok=True)
        sweep_partials(layout.root)
        explicit = workers or config.export.workers
        n_workers = (
            cluster.threads
            if cluster
            else worker_count(config.export.cpu_percent, explicit=explicit)
        )
        want_snapshot = (
            config.export.consistent_snapshot and source.dialect.supports_snapshot_export
        )
        if config.export.consistent_snapshot and not source.dialect.supports_snapshot_export:
            log.info(
                "%s cannot share one snapshot between workers: chunks read independently",
                source.dialect.name,
            )
        exported = source.exported_snapshot() if want_snapshot else contextlib.nullcontext()
        snapshot: str | None = stack.enter_context(exported)
        if snapshot:
            log.info("the run's snapshot: %s", snapshot)
        planned = pin_snapshots(source, planned, layout, snapshot)
        results = {p.table: TableResult(p.table, p.plan) for p in planned}
        for p in planned:
            if p.error:
                results[p.table].errors.append(p.error.one_line())
        where = f" at {cluster.address}" if cluster else " inline" if inline else ""
        log.info("exporting with %d worker(s)%s", n_workers, where)
        do_validate = config.validation.enabled if validate is None else validate
        tasks = chunk_tasks(config, planned, layout, results, snapshot, do_validate)
        # Readers start with the export and read each chunk as soon as it is published.
        readers = ChunkReaders(layout, n_workers, inline, cluster) if do_validate else None
        if readers:
            stack.enter_context(readers)
        if tasks:
            kind: ExecutorKind = "inline" if inline else "dask" if cluster else "process"
            size = min(n_workers, len(tasks))
            pool = functools.partial(open_executor, kind, size, debug=debug, cluster=cluster)
            _run_chunks(pool, tasks, results, readers, show_progress)
            # Temp files of workers lost mid-chunk (their chunks ran again elsewhere).
            sweep_partials(layout.root)
        for result in results.values():
            collect_stats(result, layout)
        if readers:
            validate_results(
                source, results.values(), layout, snapshot, readers, revalidate=revalidate
            )
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
