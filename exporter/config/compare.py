"""The comparator's config file (DESIGN section 3): `source:` and `target:`, two databases of the
same connection shape as the exporter's `source:`, and the `compare:` block."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from exporter.config.base import Strict
from exporter.config.models import ExecutorSettings
from exporter.sources.configs import SourceConfig


class CompareSettings(Strict):
    """What to compare and how (the `compare:` block)."""

    tables: list[str] = []
    """SCHEMA.TABLE names to compare; when given, schemas/include/exclude are not used."""
    schemas: list[str] = []
    """Source schemas (owners) read from the catalog; empty means every non-system schema."""
    include: list[str] = ["*"]
    """Glob patterns on SCHEMA.TABLE (case-insensitive); a table must match one."""
    exclude: list[str] = []
    """Glob patterns on SCHEMA.TABLE (case-insensitive); a match removes the table."""
    schema_map: dict[str, str] = {}
    """Source schema -> target schema, where the copy lives under another name (SQLite's is
    `main`); unmapped schemas keep their name. Table names are matched exactly, else ignoring
    case."""
    key_columns: dict[str, list[str]] = {}
    """SCHEMA.TABLE -> the columns that identify a row, for tables without a primary key (or
    to use another unique key); they must be unique and never NULL."""
    exclude_columns: dict[str, list[str]] = {}
    """SCHEMA.TABLE glob pattern -> columns left out of the comparison (`"*"`: every table)."""
    chunk_rows: int = Field(100_000, ge=100)
    """Aimed rows per chunk: the unit of work, of checkpoints and of restart."""
    workers: int | None = Field(None, ge=1)
    """Explicit number of worker processes."""
    cpu_percent: int = Field(50, ge=1, le=100)
    """Workers = max(1, floor(cores * cpu_percent / 100)), unless `workers` is set."""
    state_dir: Path = Path("oracle_comparison_state")
    """Session files: oracle_session_<id>.json, and each table's chunk ranges."""
    checkpoint_dir: Path = Path("oracle_checkpoints")
    """One JSON checkpoint per finished chunk: <id>_<SCHEMA>_<TABLE>_chunk_<N>.json."""
    report_dir: Path = Path("comparison_reports")
    """Per session: each table's differences (JSON and CSV) and the run summary."""

    @model_validator(mode="after")
    def _tables_are_qualified(self) -> CompareSettings:
        names = [*self.tables, *self.key_columns]
        bad = [name for name in names if "." not in name]
        if bad:
            raise ValueError(f"write tables as SCHEMA.TABLE (got {bad})")
        return self


class CompareConfig(Strict):
    """A whole comparator config file."""

    source: SourceConfig
    """The reference database (production, or the database a copy was made from)."""
    target: SourceConfig
    """The database checked against it (a disaster-recovery copy, a migrated copy)."""
    compare: CompareSettings = CompareSettings()
    """What to compare and how."""
    executor: ExecutorSettings = ExecutorSettings()
    """Where chunks run."""
