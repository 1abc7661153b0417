"""The tables of a comparison session through one run: which of them this run takes, their
frozen plans (made once, or reloaded and checked against the databases), the chunks each has
left, and the record of every chunk as it finishes (checkpoint first, then the totals and the
report lines; a table's reports are rewritten whole when its last chunk is in).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from exporter.compare import reports
from exporter.compare.plan import PairPlan
from exporter.compare.planner import plan_pair, select_source_tables
from exporter.compare.sessions import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    Session,
    SessionStore,
    TableState,
    now,
    table_key,
)
from exporter.compare.task import CompareOutcome
from exporter.config.compare import CompareSettings
from exporter.errors import (
    ERR_COMPARE_COLUMNS_CHANGED,
    ERR_TABLE_NOT_SELECTED,
    ExporterError,
    error,
)
from exporter.sources.base import DbConn, Source

log = logging.getLogger(__name__)

SAVE_EVERY_SECONDS = 1.0  # the session file's totals lag the checkpoints by at most this

Sides = tuple[Source, DbConn, Source, DbConn]  # source, its connection, target, its connection


class TableRunner:
    """One run's view of the session's tables (see the module docstring)."""

    def __init__(self, settings: CompareSettings, store: SessionStore, session: Session) -> None:
        self.settings = settings
        self.store = store
        self.session = session
        self.plans: dict[str, PairPlan] = {}
        self._saved_at = 0.0

    def save(self, *, force: bool = False) -> None:
        """Write the session file (at most once a second unless `force`)."""
        if force or time.monotonic() - self._saved_at >= SAVE_EVERY_SECONDS:
            self.store.save(self.session)
            self._saved_at = time.monotonic()

    def choose(self, source: Source, conn: DbConn, only: Sequence[str], resumed: bool) -> list[str]:
        """The keys of the tables this run works on; a new session's tables enter it."""
        if not resumed:
            for table in select_source_tables(source, conn, self.settings, only):
                self.session.tables[table_key(table)] = TableState(table.schema, table.name)
            return list(self.session.tables)
        if not only:
            return list(self.session.tables)
        by_name = {t.ref.qualified.lower(): k for k, t in self.session.tables.items()}
        keys = []
        for name in only:
            if name.lower() not in by_name:
                raise error(ERR_TABLE_NOT_SELECTED, key="--table", name=name, block="compare")
            keys.append(by_name[name.lower()])
        return keys

    def prepare(self, keys: list[str], retry_failed: bool, sides: Sides) -> list[str]:
        """Plan each table to run, or reload its plan and check that its columns have not
        changed; a table that cannot be planned fails with the reason. Returns the keys that
        run (completed tables are done; failed ones run again only with `retry_failed`)."""
        running = []
        for key in keys:
            state = self.session.tables[key]
            if state.status == COMPLETED or (state.status == FAILED and not retry_failed):
                continue
            try:
                plan = self._plan(state, sides)
            except Exception as exc:  # noqa: BLE001 - one table's problem stops only it
                failure = exc if isinstance(exc, ExporterError) else sides[0].explain_error(exc)
                state.status, state.error = FAILED, failure.one_line()
                log.error("%s", state.error)
                continue
            self.plans[key] = plan
            state.target_schema, state.target_table = plan.pair.target.schema, plan.pair.target.name
            state.chunks_total = len(plan.ranges)
            running.append(key)
        return running

    def _plan(self, state: TableState, sides: Sides) -> PairPlan:
        source, src_conn, target, tgt_conn = sides
        plan = self.store.load_plan(self.session.session_id, state.ref)
        if plan is None:
            plan = plan_pair(self.settings, source, src_conn, target, tgt_conn, state.ref)
            self.store.save_plan(self.session.session_id, plan)
            return plan
        pair = plan.pair
        for side, conn, ref, columns in (
            (source, src_conn, pair.source, pair.source_columns),
            (target, tgt_conn, pair.target, pair.target_columns),
        ):
            found = {c.name: c for c in side.describe(conn, ref)}
            changed = [c.name for c in columns if found.get(c.name) != c]
            if changed:
                raise error(ERR_COMPARE_COLUMNS_CHANGED, table=ref, changes=", ".join(changed))
        return plan

    def start(self, key: str, retry_failed: bool) -> list[int]:
        """Count the table's finished chunks again from its checkpoints and return the
        indexes still to compare (failed chunks too with `retry_failed`)."""
        state, plan = self.session.tables[key], self.plans[key]
        state.restart()
        state.status = IN_PROGRESS
        state.started_at = state.started_at or now()
        done = self.store.checkpoints(self.session.session_id, plan.pair.source)
        todo = []
        for chunk in plan.ranges:
            outcome = done.get(chunk.index)
            if outcome is None or (outcome.error and retry_failed):
                todo.append(chunk.index)
            else:
                state.count(outcome)
        if not todo:
            self.finish(key)
        return todo

    def record(self, key: str, outcome: CompareOutcome) -> None:
        """A chunk has finished: checkpoint, totals, report lines (and the table's end)."""
        plan, state = self.plans[key], self.session.tables[key]
        self.store.record(self.session.session_id, plan.pair.source, outcome)
        state.count(outcome)
        if outcome.error:
            log.error("%s chunk %d: %s", plan.pair.name, outcome.index, outcome.error)
        path = self.store.layout.table_report(self.session.session_id, plan.pair.source, ".csv")
        reports.append_chunk(path, plan.pair, outcome)
        if state.chunks_done >= state.chunks_total:
            self.finish(key)
            self.save(force=True)
        else:
            self.save()

    def finish(self, key: str) -> None:
        """Every chunk of the table is in: its status, and its reports written whole."""
        state, plan = self.session.tables[key], self.plans[key]
        state.status = FAILED if state.chunks_failed else COMPLETED
        state.finished_at = now()
        layout, sid, table = self.store.layout, self.session.session_id, plan.pair.source
        outcomes = self.store.checkpoints(sid, table)
        reports.write_table(
            layout.table_report(sid, table, ".json"),
            layout.table_report(sid, table, ".csv"),
            plan.pair,
            state,
            outcomes,
        )
        log.info(
            "%s %s: %d source rows, %d target rows, %d difference(s)",
            state.status,
            plan.pair.name,
            state.rows_source,
            state.rows_target,
            state.differences,
        )

    def describe(self) -> dict[str, Any]:
        """The tables' states as plain data (for tests and the summary)."""
        return {k: vars(t) for k, t in self.session.tables.items()}
