"""Plain, frozen data shared by every stage: tables, columns, chunks, plans and chunk figures.

Everything here pickles, so the coordinator can hand it to worker processes, and converts
to and from JSON, so plans and per-chunk statistics survive a crash.
"""

from __future__ import annotations

import enum
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from exporter.keys import decode_key, encode_key

BoundsKind = Literal["physical", "key", "whole", "partitions"]


class ColumnKind(str, enum.Enum):
    """How a column's values are written to CSV (and typed in BigQuery)."""

    INTEGER = "INTEGER"
    DECIMAL = "DECIMAL"
    FLOAT = "FLOAT"
    BOOLEAN = "BOOLEAN"
    STRING = "STRING"
    JSON = "JSON"
    DATE = "DATE"
    DATETIME = "DATETIME"
    TIMESTAMP = "TIMESTAMP"
    TIME = "TIME"
    BYTES = "BYTES"

    @property
    def is_exact_number(self) -> bool:
        """Integer and decimal columns are summed exactly by validation."""
        return self in (ColumnKind.INTEGER, ColumnKind.DECIMAL)

    @property
    def is_text(self) -> bool:
        """Text cells are always quoted, so NULL (unquoted marker) and '' (`""`) stay apart."""
        return self in (ColumnKind.STRING, ColumnKind.JSON)


@dataclass(frozen=True, order=True)
class TableRef:
    """A table as the catalog names it (case preserved)."""

    schema: str
    name: str

    @property
    def qualified(self) -> str:
        """`SCHEMA.TABLE`, as used in include/exclude patterns and messages."""
        return f"{self.schema}.{self.name}"

    def __str__(self) -> str:
        return self.qualified


@dataclass(frozen=True)
class Column:
    """One column: its name, the engine's type, and how it is written."""

    name: str
    native_type: str
    kind: ColumnKind
    nullable: bool = True
    precision: int | None = None
    scale: int | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Column:
        return cls(**{**data, "kind": ColumnKind(data["kind"])})


Bound = int | str | tuple[Any, ...] | None
"""A chunk's end: a physical locator value, an integer key value, or the values of a key of
any columns (a tuple, stored in JSON with their types: keys.py)."""


@dataclass(frozen=True)
class ChunkBounds:
    """A half-open range [lower, upper) on a physical locator or a key; None means unbounded.

    `physical` bounds are values of the engine's physical locator (a block number, a rowid,
    a ROWID: Dialect.physical_locator); `key` bounds are values of the plan's split columns
    (an integer, or a tuple of any orderable values); `whole` reads everything. A chunk of a
    partitioned table reads the leaf `partitions` it names (its range within the only one),
    not the table.
    """

    kind: BoundsKind
    lower: Bound = None
    upper: Bound = None
    partitions: tuple[TableRef, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "lower": _bound_json(self.lower),
            "upper": _bound_json(self.upper),
        }
        if self.partitions:
            data["partitions"] = [[t.schema, t.name] for t in self.partitions]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChunkBounds:
        return cls(
            data["kind"],
            _bound_from_json(data["lower"]),
            _bound_from_json(data["upper"]),
            tuple(TableRef(*t) for t in data.get("partitions", ())),
        )


def _bound_json(bound: Bound) -> Any:
    return encode_key(bound) if isinstance(bound, tuple) else bound


def _bound_from_json(data: Any) -> Bound:
    return decode_key(data) if isinstance(data, list) else data


@dataclass(frozen=True)
class Chunk:
    """One unit of work: a range of one table, written to `data_chunk_<index>.csv.gz`."""

    index: int
    bounds: ChunkBounds


@dataclass(frozen=True)
class FileFormat:
    """Everything that decides the bytes of a chunk file; frozen into the plan."""

    null_marker: str
    row_hash: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TablePlan:
    """The frozen plan of one table: its columns, strategy and chunks (stored in plan.json)."""

    table: TableRef
    columns: tuple[Column, ...]
    size_bytes: int
    strategy: BoundsKind
    reason: str
    chunks: tuple[Chunk, ...]
    file_format: FileFormat
    split_columns: tuple[str, ...] = ()
    created_at: str = ""
    tool_version: str = ""
    snapshot: str | None = None
    """The image every chunk of the table is read at, on engines whose snapshot outlives the
    run (Oracle's SCN): pinned before the first chunk is written, kept across resumes."""
    snapshot_in_query: bool = False
    """The chunk queries name the snapshot themselves (Oracle's AS OF SCN), so the session
    need not be set to it."""

    def read_snapshot(self, run_snapshot: str | None) -> str | None:
        """The snapshot the table's chunks are read at: the one pinned here, else the run's."""
        return self.snapshot or run_snapshot

    def session_snapshot(self, run_snapshot: str | None) -> str | None:
        """The snapshot a session must be set to for the table's queries: none where the
        queries name it themselves (`snapshot_in_query`), or where there is none."""
        return None if self.snapshot_in_query else self.read_snapshot(run_snapshot)

    @property
    def split_column(self) -> str | None:
        """The first split column (the only one of an integer key), or None."""
        return self.split_columns[0] if self.split_columns else None

    @property
    def partitions(self) -> tuple[TableRef, ...]:
        """Every leaf partition the chunks read (none for a table without partitions)."""
        return tuple(sorted({p for c in self.chunks for p in c.bounds.partitions}))

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": self.table.schema,
            "table": self.table.name,
            "size_bytes": self.size_bytes,
            "strategy": self.strategy,
            "reason": self.reason,
            "split_column": self.split_column,
            **({"split_columns": list(self.split_columns)} if len(self.split_columns) > 1 else {}),
            "file_format": self.file_format.to_json(),
            "columns": [c.to_json() for c in self.columns],
            "chunks": [{"index": c.index, **c.bounds.to_json()} for c in self.chunks],
            "created_at": self.created_at,
            "tool_version": self.tool_version,
            **({"snapshot": self.snapshot} if self.snapshot else {}),
            **({"snapshot_in_query": True} if self.snapshot_in_query else {}),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TablePlan:
        return cls(
            table=TableRef(data["schema"], data["table"]),
            columns=tuple(Column.from_json(c) for c in data["columns"]),
            size_bytes=int(data["size_bytes"]),
            strategy=data["strategy"],
            reason=data["reason"],
            split_columns=tuple(
                data.get("split_columns")
                or ([data["split_column"]] if data.get("split_column") else [])
            ),
            file_format=FileFormat(**data["file_format"]),
            chunks=tuple(Chunk(c["index"], ChunkBounds.from_json(c)) for c in data["chunks"]),
            created_at=data.get("created_at", ""),
            tool_version=data.get("tool_version", ""),
            snapshot=data.get("snapshot"),
            snapshot_in_query=bool(data.get("snapshot_in_query", False)),
        )


ReadPath = Literal["bulk", "arrow", "rows"]
"""How a chunk was read: CSV the database formatted (bulk), Arrow record batches from the
driver (arrow), or Python rows (rows); export/read_paths.py has one loop for each."""


def _non_finite_text(value: float) -> str:
    """NaN or an infinity as text that float() reads back (strict JSON has no literal)."""
    return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


@dataclass(frozen=True)
class ChunkStats:
    """What a worker measured while writing one chunk file (stored beside the plan, in
    config/chunks/data_chunk_N.json, where the read path is the key "path")."""

    index: int
    file_name: str
    rows: int
    bytes_written: int
    seconds: float
    sums: dict[str, str] | None = None
    float_sums: dict[str, float] | None = None
    snapshot: str | None = None
    read_path: ReadPath = "rows"
    source_rows: int | None = None
    """COUNT(*) of the chunk's range in the source, at the snapshot the chunk was read at
    (None: not taken, e.g. validation off)."""
    source_sums: dict[str, str | None] | None = None
    """The source's exact SUM of each integer or decimal column over the chunk's range
    (None for a column without a value)."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = data.pop("read_path")
        if self.float_sums:  # strict JSON has no NaN or Infinity: those sums as their text
            data["float_sums"] = {
                k: v if math.isfinite(v) else _non_finite_text(v)
                for k, v in self.float_sums.items()
            }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChunkStats:
        fields = dict(data)
        if fields.get("float_sums"):  # "NaN", "Infinity", "-Infinity" back to floats
            fields["float_sums"] = {k: float(v) for k, v in fields["float_sums"].items()}
        read_path = fields.pop("path", "rows")
        # Records written before the Arrow path existed say "batch" for Python rows.
        return cls(**fields, read_path="rows" if read_path == "batch" else read_path)
