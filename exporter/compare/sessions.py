"""Comparison sessions on disk: one JSON state file per session, the frozen plan of each table,
one JSON checkpoint per finished chunk (never pickle: loading a pickle runs code), all written
atomically (fsutil.write_json), and a lock naming the process that runs the session.

A session can be resumed from any moment: the checkpoints are what is done; the state file is
their summary, rebuilt from them on every resume.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from exporter.compare.plan import PairPlan
from exporter.compare.task import CompareOutcome
from exporter.errors import (
    ERR_SESSION_AMBIGUOUS,
    ERR_SESSION_BUSY,
    ERR_SESSION_UNKNOWN,
    ERR_SESSION_UNREADABLE,
    error,
)
from exporter.fsutil import pid_alive, read_json, write_json
from exporter.layout import CompareLayout
from exporter.model import TableRef

log = logging.getLogger(__name__)

SESSION_FORMAT_VERSION = 1
PENDING, IN_PROGRESS, COMPLETED, FAILED = "pending", "in_progress", "completed", "failed"


def now() -> str:
    """The time as sessions record it: UTC, ISO 8601, to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def table_key(table: TableRef) -> str:
    """SCHEMA_TABLE: a table's key in the session file."""
    return f"{table.schema}_{table.name}"


@dataclass
class TableState:
    """One table's progress and findings, as the session file holds them."""

    schema: str
    table: str
    target_schema: str | None = None
    target_table: str | None = None
    status: str = PENDING
    chunks_done: int = 0
    chunks_total: int = 0
    chunks_failed: int = 0
    chunks_differed: int = 0
    rows_source: int = 0
    rows_target: int = 0
    missing_in_target: int = 0
    missing_in_source: int = 0
    different_rows: int = 0
    ranges_checked: int = 0
    keys_streamed: int = 0
    rows_fetched: int = 0
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float = 0.0

    @property
    def ref(self) -> TableRef:
        return TableRef(self.schema, self.table)

    @property
    def differences(self) -> int:
        return self.missing_in_target + self.missing_in_source + self.different_rows

    def count(self, outcome: CompareOutcome) -> None:
        """Add a finished chunk's figures."""
        self.chunks_done += 1
        self.seconds = round(self.seconds + outcome.seconds, 3)
        if outcome.error:
            self.chunks_failed += 1
            self.error = self.error or outcome.error
            return
        self.rows_source += outcome.rows_source
        self.rows_target += outcome.rows_target
        self.missing_in_target += len(outcome.missing_in_target)
        self.missing_in_source += len(outcome.missing_in_source)
        self.different_rows += len(outcome.different)
        self.chunks_differed += 0 if outcome.equal else 1
        self.ranges_checked += outcome.ranges_checked
        self.keys_streamed += outcome.keys_streamed
        self.rows_fetched += outcome.rows_fetched

    def restart(self) -> None:
        """Forget the figures (they are counted again from the checkpoints)."""
        keep = {"schema", "table", "target_schema", "target_table", "chunks_total", "started_at"}
        fresh = TableState(self.schema, self.table)
        for name, value in asdict(fresh).items():
            if name not in keep:
                setattr(self, name, value)


@dataclass
class Session:
    """A comparison session: what it compares, with which config, and how far it got."""

    session_id: str
    config_file: str
    config_fingerprint: str
    config: dict[str, Any]
    source: str
    target: str
    started_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)
    status: str = IN_PROGRESS
    runs: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, TableState] = field(default_factory=dict)
    format_version: int = SESSION_FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        tables = {k: TableState(**v) for k, v in data.get("tables", {}).items()}
        return cls(**{**data, "tables": tables})


class SessionStore:
    """Reads and writes sessions, plans and checkpoints under a CompareLayout."""

    def __init__(self, layout: CompareLayout) -> None:
        self.layout = layout

    def save(self, session: Session) -> None:
        session.updated_at = now()
        write_json(self.layout.session_file(session.session_id), session.to_json())

    def load(self, session_id: str) -> Session:
        path = self.layout.session_file(session_id)
        try:
            return Session.from_json(read_json(path))
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise error(ERR_SESSION_UNREADABLE, path=path, reason=type(exc).__name__) from None

    def find(self, prefix: str) -> str:
        """The session id that begins with `prefix` (exactly one)."""
        found = [i for i in self.layout.session_ids() if i.startswith(prefix)] if prefix else []
        if not found:
            raise error(ERR_SESSION_UNKNOWN, prefix=prefix, state_dir=self.layout.state_dir)
        if len(found) > 1:
            shown = ", ".join(i[: len(prefix) + 4] for i in found[:5])
            raise error(ERR_SESSION_AMBIGUOUS, prefix=prefix, matches=shown)
        return found[0]

    def sessions(self) -> list[Session]:
        """Every readable session, oldest first (unreadable files are skipped with a note)."""
        found = []
        for session_id in self.layout.session_ids():
            try:
                found.append(self.load(session_id))
            except Exception as exc:  # noqa: BLE001 - one bad file must not hide the others
                log.warning("%s", getattr(exc, "message", exc))
        return sorted(found, key=lambda s: s.started_at)

    @contextlib.contextmanager
    def lock(self, session_id: str) -> Iterator[None]:
        """Hold the session for this process; another live process holding it is an error,
        a dead one's lock is taken over (said in the log)."""
        path = self.layout.lock_file(session_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _holder(path)
                if holder is not None and pid_alive(holder):
                    raise error(ERR_SESSION_BUSY, session=session_id, pid=holder) from None
                log.info("session %s was left by process %s, which has ended", session_id, holder)
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(f"{os.getpid()}\n")
            break
        try:
            yield
        finally:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def save_plan(self, session_id: str, plan: PairPlan) -> None:
        write_json(self.layout.plan_file(session_id, plan.pair.source), plan.to_json())

    def load_plan(self, session_id: str, table: TableRef) -> PairPlan | None:
        path = self.layout.plan_file(session_id, table)
        return PairPlan.from_json(read_json(path)) if path.exists() else None

    def record(self, session_id: str, table: TableRef, outcome: CompareOutcome) -> None:
        """Write a finished chunk's checkpoint (with its owner and time)."""
        data = {**outcome.to_json(), "pid": os.getpid(), "finished_at": now()}
        write_json(self.layout.checkpoint_file(session_id, table, outcome.index), data)

    def checkpoints(self, session_id: str, table: TableRef) -> dict[int, CompareOutcome]:
        """The finished chunks of a table, by index."""
        folder = self.layout.checkpoint_dir
        prefix = self.layout.checkpoint_prefix(session_id, table)
        found: dict[int, CompareOutcome] = {}
        if not folder.is_dir():
            return found
        for entry in folder.iterdir():
            rest = entry.name[len(prefix) :] if entry.name.startswith(prefix) else ""
            if rest.endswith(".json") and rest[:-5].isdigit():
                found[int(rest[:-5])] = CompareOutcome.from_json(read_json(entry))
        return found

    def cleanup(self, older_than_days: float, *, with_reports: bool) -> list[str]:
        """Delete the sessions not updated for `older_than_days`, with their plans and
        checkpoints (and reports when asked); returns what was removed, one line each."""
        cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=older_than_days)
        removed = []
        for session in self.sessions():
            if dt.datetime.fromisoformat(session.updated_at) >= cutoff:
                continue
            holder = _holder(self.layout.lock_file(session.session_id))
            if holder is not None and pid_alive(holder):
                continue  # running now
            files = self.layout.session_files(session.session_id)
            for path in files:
                path.unlink()
            line = f"{session.session_id} (last update {session.updated_at}): {len(files)} files"
            reports = self.layout.reports(session.session_id)
            if with_reports and reports.is_dir():
                count = sum(1 for _ in reports.iterdir())
                for path in reports.iterdir():
                    path.unlink()
                reports.rmdir()
                line += f" and {count} reports"
            removed.append(line)
        return removed


def _holder(path: os.PathLike[str]) -> int | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return int(handle.read().strip() or 0) or None
    except (OSError, ValueError):
        return None
