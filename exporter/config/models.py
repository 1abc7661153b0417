"""Pydantic models of the config file (DESIGN section 3): strict, frozen, documented per field.

Unknown keys are errors; the source is a union discriminated on `engine`. Passwords are never
stored here: a source names where the password lives (`password_env` or `password_file`) and
`password()` reads it when a connection is opened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from exporter.plain_settings import PlainSettings, read_password

FetchPath = Literal["auto", "batch", "rows"]
"""export.fetch_path: the engine's bulk path where it has one, the generic path (Arrow batches
where the driver has them), or the generic path on Python rows."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    def plain(self) -> PlainSettings:
        """These settings as plain data, for worker processes (plain_settings.py)."""
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        if isinstance(fields.get("password"), SecretStr):
            fields["password"] = fields["password"].get_secret_value()
        return PlainSettings(fields)


class _PasswordSource(_Strict):
    """Where a server engine's password comes from: an environment variable or a file."""

    password_env: str | None = None
    """Name of the environment variable holding the password (recommended)."""
    password_file: Path | None = None
    """Path of a file whose first line is the password (e.g. a mounted secret)."""
    password: SecretStr | None = None
    """A literal password: accepted for local experiments, with a warning; never logged."""

    @model_validator(mode="after")
    def _one_password_source(self) -> _PasswordSource:
        given = [k for k in ("password_env", "password_file", "password") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(
                f"give only one of password_env, password_file, password (got {given})"
            )
        return self

    def read_password(self) -> str | None:
        """The password, read now from its source; None when the login needs none."""
        secret = self.password.get_secret_value() if self.password else None
        return read_password(self.password_env, self.password_file, secret)


class SqliteSourceConfig(_Strict):
    """A SQLite database file (standard library; the embedded default)."""

    engine: Literal["sqlite"]
    path: Path
    """The database file."""
    create_demo: bool = False
    """Build the demo database at `path` when the file does not exist (config/demo.yaml)."""


class PostgresSourceConfig(_PasswordSource):
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


class OracleSourceConfig(_PasswordSource):
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


class ExportSettings(_Strict):
    """What to export and how (the `export:` block)."""

    schemas: list[str] = []
    """Schemas (owners) read from the catalog; empty means every non-system schema."""
    include: list[str] = ["*"]
    """Glob patterns on SCHEMA.TABLE (case-insensitive); a table must match one."""
    exclude: list[str] = []
    """Glob patterns on SCHEMA.TABLE (case-insensitive); a match removes the table."""
    output_dir: Path = Path("export_data")
    """Output root, relative to the current directory."""
    chunk_threshold_gb: float = Field(1.0, ge=0)
    """Tables larger than this are split into chunks."""
    chunk_size_mb: float = Field(512, gt=0)
    """Aimed size of one chunk (of table storage, before export)."""
    chunk_strategy: Literal["auto", "physical", "key", "none"] = "auto"
    """auto: physical ranges where the engine has them, else an integer key, else whole."""
    cpu_percent: int = Field(50, ge=1, le=100)
    """Workers = max(1, floor(cores * cpu_percent / 100)), unless `workers` is set."""
    workers: int | None = Field(None, ge=1)
    """Explicit number of worker processes."""
    compression_level: int | None = Field(None, ge=0, le=9)
    """gzip level: 0-3 use ISA-L, 4-9 zlib; unset means ISA-L level 1 (docs/BENCHMARKS.md)."""
    enable_row_hash: bool = True
    """Append a row_hash column: MD5 of the row's CSV text (docs/FORMAT.md)."""
    use_client_hash: bool = True
    """Compute row_hash in the worker (true) or in the database where it can (false)."""
    fetch_rows: int = Field(10000, ge=1)
    """Rows fetched per round trip and encoded per batch."""
    consistent_snapshot: bool = True
    """Every chunk reads one snapshot where the engine can share one."""
    null_marker: str | None = None
    """How NULL is written; default "\\N" where the engine tells NULL from '' (else "")."""
    fetch_path: FetchPath = "auto"
    """auto: the engine's bulk CSV path where it has one; batch: always the generic path
    (Arrow record batches where the driver has them, else rows); rows: the generic path with
    Python rows even where Arrow is available (slowest; for comparison and diagnosis)."""

    @model_validator(mode="after")
    def _marker_is_safe(self) -> ExportSettings:
        marker = self.null_marker
        if marker is not None and any(ch in marker for ch in ',"\r\n'):
            raise ValueError("null_marker may not contain a comma, a double quote or a newline")
        return self


class ExecutorSettings(_Strict):
    """Where chunks run (the `executor:` block)."""

    kind: Literal["local", "dask"] = "local"
    """local: a process pool on this machine; dask: a dask.distributed cluster."""
    address: str | None = None
    """dask scheduler address, e.g. tcp://scheduler:8786."""


class ValidationSettings(_Strict):
    """The `validation:` block."""

    enabled: bool = True
    """Compare source COUNT(*) and sums with the written files after export."""


class BigQuerySettings(_Strict):
    """Names used in validation.sql, schema.json and the load commands."""

    project: str | None = None
    """GCP project; a placeholder is written when unset."""
    dataset: str | None = None
    """BigQuery dataset; a placeholder is written when unset."""
    table_name: str = "{schema}_{table}"
    """Destination table name pattern; {schema} and {table} are replaced."""


class ExportConfig(_Strict):
    """A whole exporter config file."""

    source: SourceConfig
    """The database to export."""
    export: ExportSettings = ExportSettings()
    """What and how to export."""
    executor: ExecutorSettings = ExecutorSettings()
    """Where chunks run."""
    validation: ValidationSettings = ValidationSettings()
    """Post-export checks."""
    bigquery: BigQuerySettings = BigQuerySettings()
    """BigQuery names."""
