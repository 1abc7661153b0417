"""Pydantic models of the config file (DESIGN section 3): strict, frozen, documented per field.

Unknown keys are errors; the source is a union discriminated on `engine`. Passwords are never
stored here: a source names where the password lives (`password_env` or `password_file`) and
`password()` reads it when a connection is opened.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from exporter.config.base import PasswordSource, Strict
from exporter.sources.configs import SourceConfig
from exporter.storage import Option, StoreSpec

__all__ = ["PasswordSource", "SourceConfig", "Strict"]

FetchPath = Literal["auto", "batch", "rows"]
"""export.fetch_path: the engine's bulk path where it has one, the generic path (Arrow batches
where the driver has them), or the generic path on Python rows."""


class ExportSettings(Strict):
    """What to export and how (the `export:` block)."""

    schemas: list[str] = []
    """Schemas (owners) read from the catalog; empty means every non-system schema."""
    include: list[str] = ["*"]
    """Glob patterns on SCHEMA.TABLE (case-insensitive); a table must match one."""
    exclude: list[str] = []
    """Glob patterns on SCHEMA.TABLE (case-insensitive); a match removes the table."""
    output_dir: str = "export_data"
    """Output root: a folder (relative to the current directory) or a URL fsspec knows, such
    as gs://bucket/prefix, which every worker then writes to directly (docs/SCALE_OUT.md)."""
    storage_options: dict[str, Option] = {}
    """Options of output_dir's store, for a URL only (gcsfs for gs://: token, a key file;
    project). Without a token, Google's application default credentials. Never logged."""
    chunk_threshold_gb: float = Field(1.0, ge=0)
    """Tables larger than this are split into chunks."""
    chunk_size_mb: float = Field(512, gt=0)
    """Aimed size of one chunk (of table storage, before export)."""
    chunk_strategy: Literal["auto", "physical", "key", "none"] = "auto"
    """auto and physical: per leaf partition, else physical ranges where the engine has them,
    else primary-key ranges; key: primary-key ranges (any key); none: one chunk per table."""
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

    @field_validator("storage_options")
    @classmethod
    def _options_need_a_url(cls, value: dict[str, Option], info: ValidationInfo) -> Any:
        if value and StoreSpec(str(info.data.get("output_dir", ""))).is_local:
            raise ValueError("is for an output_dir URL such as gs://bucket/prefix only")
        return value

    def output(self) -> StoreSpec:
        """output_dir and storage_options as plain data, for the layout and the workers."""
        return StoreSpec(self.output_dir, tuple(sorted(self.storage_options.items())))


class ExecutorSettings(Strict):
    """Where chunks run (the `executor:` block)."""

    kind: Literal["local", "dask"] = "local"
    """local: a process pool on this machine; dask: a dask.distributed cluster."""
    address: str | None = None
    """dask scheduler address, e.g. tcp://scheduler:8786."""


class ValidationSettings(Strict):
    """The `validation:` block."""

    enabled: bool = True
    """Compare source COUNT(*) and sums with the written files after export."""


class BigQuerySettings(Strict):
    """Names used in validation.sql, schema.json and the load commands."""

    project: str | None = None
    """GCP project; a placeholder is written when unset."""
    dataset: str | None = None
    """BigQuery dataset; a placeholder is written when unset."""
    table_name: str = "{schema}_{table}"
    """Destination table name pattern; {schema} and {table} are replaced."""


class ExportConfig(Strict):
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
