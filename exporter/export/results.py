"""What an export run found out, table by table: the results the run collects from its chunks
and its validation, from which export/records.py writes metadata.json and the summary report."""

from __future__ import annotations

from dataclasses import dataclass, field

from exporter.model import ChunkStats, TablePlan, TableRef
from exporter.validation.checks import TableVerdict


@dataclass
class TableResult:
    """What happened to one table in this run."""

    table: TableRef
    plan: TablePlan | None
    errors: list[str] = field(default_factory=list)
    written: int = 0
    skipped: int = 0
    stats: list[ChunkStats] = field(default_factory=list)
    validation: TableVerdict | None = None
    carried_over: bool = False
    """The verdict was proved by an earlier run and its files have not changed since."""
    proved_at: str | None = None
    """When the passed verdict was proved (by this run, or the earlier one it came from)."""

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
    """The outcome of one export (or `validate`) run."""

    results: list[TableResult]
    started: float
    finished: float
    snapshot: str | None
    workers: int

    @property
    def ok(self) -> bool:
        """True when every table succeeded."""
        return all(r.status == "SUCCEEDED" for r in self.results)
