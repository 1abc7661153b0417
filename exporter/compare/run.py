"""A comparison run: open or resume a session, plan its tables (frozen before any chunk runs),
hold a snapshot on each database, run the chunks on one shared pool, largest table first, and
record each finished chunk at once: checkpoint, session totals, report lines.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exporter.compare import reports
from exporter.compare.sessions import COMPLETED, FAILED, IN_PROGRESS, Session, SessionStore, now
from exporter.compare.tables import TableRunner
from exporter.compare.task import CompareOutcome, CompareTask, compare_chunk
from exporter.config.compare import CompareConfig
from exporter.errors import ERR_SESSION_CONFIG_CHANGED, error
from exporter.fsutil import write_json
from exporter.layout import CompareLayout
from exporter.runtime.executors import ExecutorKind, open_executor, worker_count
from exporter.runtime.progress import Progress
from exporter.runtime.worker_server import start_worker_server
from exporter.sources import get_source
from exporter.sources.base import Source

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"


@dataclass
class CompareRun:
    """The outcome of one run of a session."""

    session: Session
    tables: list[str]
    figures: dict[str, Any]
    report_dir: Path

    @property
    def equal(self) -> bool:
        """Every table of this run compared completely and found equal."""
        states = [self.session.tables[key] for key in self.tables]
        return all(t.status == COMPLETED and not t.differences for t in states)


def layout_of(config: CompareConfig) -> CompareLayout:
    """Where the config keeps sessions, checkpoints and reports."""
    c = config.compare
    return CompareLayout(c.state_dir, c.checkpoint_dir, c.report_dir)


def fingerprint(config: CompareConfig) -> tuple[str, dict[str, Any]]:
    """The config as a session records it (a literal password masked), and its SHA-256."""
    data = config.model_dump(mode="json")
    for block in ("source", "target"):
        if data[block].get("password"):
            data[block]["password"] = "***"
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest(), data


def _changes(old: Any, new: Any, where: str = "") -> list[str]:
    """The dotted keys whose values differ between two configs."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for name in sorted(set(old) | set(new)):
            found += _changes(old.get(name), new.get(name), f"{where}.{name}" if where else name)
        return found
    return [] if old == new else [where]


def open_session(
    store: SessionStore, config: CompareConfig, config_file: str, resume: str | None
) -> Session:
    """A new session, or the one `resume` names (any unique prefix of its id), refused when
    its config has changed since it started."""
    digest, data = fingerprint(config)
    if resume is None:
        source, target = get_source(config.source), get_source(config.target)
        where = (source.describe_target(), target.describe_target())
        return Session(str(uuid.uuid4()), config_file, digest, data, *where)
    session = store.load(store.find(resume))
    if session.config_fingerprint != digest:
        changed = ", ".join(_changes(session.config, data)) or "the file"
        raise error(ERR_SESSION_CONFIG_CHANGED, session=session.session_id, changes=changed)
    return session


@contextlib.contextmanager
def _snapshot(source: Source) -> Iterator[str | None]:
    """One image of the database for the run, where the engine can share one."""
    if source.dialect.supports_snapshot_export:
        with source.exported_snapshot() as snapshot:
            yield snapshot
    else:
        yield None


@dataclass(frozen=True)
class RunOptions:
    """How this run goes about it (the command line's flags)."""

    only: Sequence[str] = ()
    retry_failed: bool = False
    workers: int | None = None
    inline: bool = False
    show_progress: bool | None = None
    debug: bool = False


def run_compare(
    config: CompareConfig,
    *,
    config_file: str,
    resume: str | None = None,
    options: RunOptions = RunOptions(),
    on_session: Callable[[str, bool], None] | None = None,
) -> CompareRun:
    """Compare the selected tables in a new session, or go on with session `resume`;
    `on_session(id, resumed)` is told the session's id before any table is planned."""
    started = time.monotonic()
    store = SessionStore(layout_of(config))
    session = open_session(store, config, config_file, resume)
    source, target = get_source(config.source), get_source(config.target)
    if not options.inline:
        start_worker_server(source.worker_modules + target.worker_modules)
    source.prepare()
    target.prepare()
    runner = TableRunner(config.compare, store, session)
    with store.lock(session.session_id):
        with source.session() as src_conn, target.session() as tgt_conn:
            keys = runner.choose(source, src_conn, options.only, resumed=resume is not None)
            session.status = IN_PROGRESS
            runner.save(force=True)
            if on_session is not None:
                on_session(session.session_id, resume is not None)
            sides = (source, src_conn, target, tgt_conn)
            running = runner.prepare(keys, options.retry_failed, sides)
        try:
            with _snapshot(source) as snap_src, _snapshot(target) as snap_tgt:
                session.runs.append({"started_at": now(), "snapshots": [snap_src, snap_tgt]})
                tasks = _tasks(config, runner, running, options, (snap_src, snap_tgt))
                _run_tasks(config, runner, tasks, options)
                session.runs[-1]["finished_at"] = now()
        except KeyboardInterrupt:
            session.status = INTERRUPTED
            runner.save(force=True)
            raise
        states = list(session.tables.values())
        if all(t.status in (COMPLETED, FAILED) for t in states):
            session.status = FAILED if any(t.status == FAILED for t in states) else COMPLETED
        runner.save(force=True)
    figures = reports.summary(session, time.monotonic() - started)
    write_json(store.layout.summary(session.session_id), figures)
    return CompareRun(session, keys, figures, store.layout.reports(session.session_id))


def _tasks(
    config: CompareConfig,
    runner: TableRunner,
    running: list[str],
    options: RunOptions,
    snapshots: tuple[str | None, str | None],
) -> list[tuple[str, CompareTask]]:
    """A task for every chunk still to compare, largest table first."""
    tasks: list[tuple[str, CompareTask]] = []
    source, target = config.source.plain(), config.target.plain()
    for key in sorted(running, key=lambda k: -runner.plans[k].estimated_rows):
        plan = runner.plans[key]
        todo = runner.start(key, options.retry_failed)
        expected = max(1, plan.estimated_rows // len(plan.ranges))
        for index in todo:
            chunk = plan.ranges[index]
            tasks.append((key, CompareTask(source, target, plan.pair, chunk, expected, snapshots)))
    runner.save(force=True)
    return tasks


def _run_tasks(
    config: CompareConfig,
    runner: TableRunner,
    tasks: list[tuple[str, CompareTask]],
    options: RunOptions,
) -> None:
    if not tasks:
        return
    explicit = options.workers or config.compare.workers
    workers = min(worker_count(config.compare.cpu_percent, explicit=explicit), len(tasks))
    kind: ExecutorKind = "inline" if options.inline else "process"
    progress = Progress(len(tasks), None, enabled=options.show_progress)
    try:
        with open_executor(kind, workers, progress=progress, debug=options.debug) as executor:
            _collect(executor, runner, tasks, progress)
    finally:
        progress.close()


def _collect(
    executor: Executor,
    runner: TableRunner,
    tasks: list[tuple[str, CompareTask]],
    progress: Progress,
) -> None:
    """Submit every task and record each outcome as it comes."""
    futures: dict[Future[CompareOutcome], tuple[str, CompareTask]] = {}
    chunks_of: dict[str, int] = {}
    for key, _task in tasks:
        chunks_of[key] = chunks_of.get(key, 0) + 1
    for key, task in tasks:
        progress.table_started(task.pair.name, chunks_of[key])
        futures[executor.submit(compare_chunk, task)] = (key, task)
    for future in as_completed(futures):
        key, task = futures[future]
        try:
            outcome = future.result()
        except Exception as exc:  # a worker process died (killed, out of memory)
            outcome = CompareOutcome(task.pair.name, task.chunk.index)
            outcome.error = f"worker failed: {exc!r}"
        runner.record(key, outcome)
        progress.chunk_done(task.pair.name)
