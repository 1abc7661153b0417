"""The `source:` block of each engine (pydantic models, loaded only by the coordinator; workers
get them as plain data), and the union config/models.py validates `source:` against.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from exporter.config.base import PasswordSource, Strict


class SqliteSourceConfig(Strict):
    """A SQLite database file (standard library; the embedded default)."""

    engine: Literal["sqlite"]
    path: Path
    """The database file."""
    create_demo: bool = False
    """Build the demo database at `path` when the file does not exist (config/demo.yaml)."""


class PostgresSourceConfig(PasswordSource):
    """A PostgreSQL server, read with psycopg 3 (and ADBC for Arrow batches)."""

    engine: Literal["postgresql"]
    host: str = "127.0.0.1"
    """Server host name or address (or a Unix socket directory)."""
    port: int = Field(5432, ge=1, le=65535)
    """Server port."""
    database: str
    """Database name."""
    user: str = "postgres"
    """Login role; it needs SELECT on the exported tables."""
    sslmode: str | None = None
    """libpq sslmode (disable, require, verify-full, ...); libpq's default when unset."""


class OracleSourceConfig(PasswordSource):
    """An Oracle database, read with python-oracledb (thin mode unless thick_mode)."""

    engine: Literal["oracle"]
    host: str | None = None
    """Listener host (with port and service), or use `dsn`."""
    port: int = Field(1521, ge=1, le=65535)
    """Listener port."""
    service: str | None = None
    """Service name, e.g. ORCLPDB1."""
    dsn: str | None = None
    """Easy Connect string "host:port/service" or a TNS alias (with config_dir)."""
    config_dir: Path | None = None
    """Directory holding tnsnames.ora."""
    user: str
    """Login user; it needs SELECT on the tables and on ALL_TABLES / ALL_TAB_COLUMNS."""
    thick_mode: bool = False
    """Use the Oracle Client libraries (needed for some old databases and features)."""
    lib_dir: Path | None = None
    """Oracle Instant Client directory for thick mode."""
    rowid_ranges_from: Literal["dictionary", "parallel_execute"] = "dictionary"
    """Where a large table's ROWID ranges are cut: "dictionary" reads the extents map
    (DBA_EXTENTS) where it may, else a block sample; "parallel_execute" lets
    DBMS_PARALLEL_EXECUTE.CREATE_CHUNKS_BY_ROWID read the extents (granted to PUBLIC, no DBA
    view needed), but it creates and commits a task: not on a read-only standby."""

    @model_validator(mode="after")
    def _where(self) -> OracleSourceConfig:
        if not self.dsn and not (self.host and self.service):
            raise ValueError("give either dsn, or host and service")
        if self.lib_dir and not self.thick_mode:
            raise ValueError("lib_dir is only used with thick_mode: true")
        return self


SourceConfig = Annotated[
    SqliteSourceConfig | PostgresSourceConfig | OracleSourceConfig,
    Field(discriminator="engine"),
]
