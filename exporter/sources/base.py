"""The one interface every database engine implements.

A `Dialect` builds SQL text only (pure, checked offline with sqlglot by tests/sql); a `Source`
owns connections and streams rows. Callers read capability flags and never engine names.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from exporter.errors import ERR_DATABASE, ExporterError, error
from exporter.model import Chunk, ChunkBounds, Column, ColumnKind, TablePlan, TableRef
from exporter.sources.ranges import range_where, split_int_range

# Batches of rows from a streaming query; a generator so callers can close it early.
RowBatches = Generator[Sequence[tuple[Any, ...]], None, None]


@dataclass(frozen=True)
class Query:
    """SQL text in the engine's parameter style, with its bound values."""

    sql: str
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkOptions:
    """How the bulk CSV path formats a chunk (the other paths read the same from the plan)."""

    null_marker: str
    row_hash_in_db: bool


@dataclass(frozen=True)
class BulkLines:
    """A chunk as CSV lines the database formatted itself (`Source.bulk_csv`)."""

    batches: Generator[list[bytes], None, None]
    """Lists of lines, one row each, each ending in a newline; closing it ends the query."""
    marker_probe: bytes
    """Bytes found in every line that holds a value equal to the null marker (and maybe in
    others): lines without them need no closer look."""
    marker_column: Callable[[bytes], int | None]
    """The position of the first column whose value in a line equals the null marker (such a
    value would load as NULL), or None."""


class Dialect(ABC):
    """SQL text for one engine. No I/O: every method returns a `Query`."""

    name: ClassVar[str]
    """Engine name as written in `source.engine`."""
    sqlglot_dialect: ClassVar[str]
    """sqlglot dialect that parses this engine's SQL (used by tests/sql)."""
    supports_physical_split: ClassVar[bool] = False
    """Tables can be split on a physical locator (ROWID, ctid, rowid)."""
    supports_snapshot_export: ClassVar[bool] = False
    """One snapshot can be shared by every worker's connection."""
    supports_db_row_hash: ClassVar[bool] = False
    """The database can compute the canonical row hash itself (use_client_hash: false)."""
    supports_bulk_csv: ClassVar[bool] = False
    """The database formats a chunk as canonical CSV itself (`Source.bulk_csv`): the
    fastest read path, taken with `fetch_path: auto`."""
    supports_arrow_batches: ClassVar[bool] = False
    """The driver delivers a chunk as Arrow record batches (`Source.arrow_batches`), taken
    with `fetch_path: batch` (and `auto` where there is no bulk CSV); else Python rows."""
    empty_string_is_null: ClassVar[bool] = False
    """The engine stores '' as NULL, so the default null marker can be '' (BigQuery's own)."""
    default_schemas: ClassVar[tuple[str, ...]] = ()
    """Schemas read when export.schemas is empty (empty: every non-system schema)."""
    bind_style: ClassVar[str] = ":{}"
    """How a named bind parameter is written, `{}` standing for its name."""
    physical_locator: ClassVar[str] = ""
    """The pseudo-column physical ranges are taken on (ROWID, ctid, rowid)."""
    physical_bind: ClassVar[str] = "{}"
    """How a bound physical bound becomes a locator value, `{}` standing for the parameter."""
    error_hints: ClassVar[Mapping[str, str]] = {}
    """The engine's error codes users meet most -> the fix to suggest."""

    def quote(self, identifier: str) -> str:
        """A quoted identifier: `a"b` -> `"a""b"` (case preserved)."""
        return '"' + identifier.replace('"', '""') + '"'

    def qualified(self, table: TableRef) -> str:
        """`"SCHEMA"."TABLE"`."""
        return f"{self.quote(table.schema)}.{self.quote(table.name)}"

    @abstractmethod
    def list_tables(self, schema: str | None) -> Query:
        """Rows (schema, table) of base tables in `schema` (None: every user schema)."""

    @abstractmethod
    def table_columns(self, table: TableRef) -> Query:
        """Rows (name, native_type, precision, scale, not_null) in column order."""

    @abstractmethod
    def primary_key(self, table: TableRef) -> Query:
        """Rows (column_name,) of the primary key, in key order."""

    @abstractmethod
    def table_size_bytes(self, table: TableRef) -> Query:
        """One row (bytes,) with the table's storage size."""

    def key_range(self, table: TableRef, column: str) -> Query:
        """One row (min, max) of an integer column."""
        col = self.quote(column)
        return Query(f"SELECT MIN({col}), MAX({col}) FROM {self.qualified(table)}")

    def physical_value(self, bound: int | str) -> object:
        """A physical chunk bound as it is bound to the query (default: as stored)."""
        return bound

    def locator_for(self, plan: TablePlan) -> str:
        """The physical locator of the planned table (default: `physical_locator`)."""
        return self.physical_locator

    def chunk_where(self, plan: TablePlan, chunk: Chunk) -> tuple[str, dict[str, object]]:
        """` WHERE ...` selecting one chunk's half-open range (empty for a whole table), with
        its bound values: on the physical locator, or on the plan's split column."""
        bounds = chunk.bounds
        if bounds.kind == "whole":
            return "", {}
        if bounds.kind == "physical":
            lower, upper = (
                None if b is None else self.physical_value(b) for b in (bounds.lower, bounds.upper)
            )
            placeholder = self.physical_bind.format(self.bind_style)
            return range_where(self.locator_for(plan), lower, upper, placeholder)
        column = self.quote(plan.split_column or "")
        return range_where(column, bounds.lower, bounds.upper, self.bind_style)

    @abstractmethod
    def select_chunk(self, plan: TablePlan, chunk: Chunk) -> Query:
        """The rows of one chunk, one value per exported column, for the batch path."""

    def count_rows(self, table: TableRef) -> Query:
        """One row (count,)."""
        return Query(f"SELECT COUNT(*) FROM {self.qualified(table)}")

    def count_and_sums(self, table: TableRef, columns: Sequence[Column]) -> Query:
        """One row (count, sum of each column): the source side of validation. The columns
        are integer or decimal, whose SUM the engine computes exactly."""
        sums = "".join(f", SUM({self.quote(c.name)})" for c in columns)
        return Query(f"SELECT COUNT(*){sums} FROM {self.qualified(table)}")

    @abstractmethod
    def column_kind(self, native_type: str, precision: int | None, scale: int | None) -> ColumnKind:
        """How values of this native type are written."""


class DbConn(ABC):
    """One open connection of a Source."""

    @abstractmethod
    def fetch_all(self, query: Query) -> list[tuple[Any, ...]]:
        """All rows of a (small) query."""

    @abstractmethod
    def stream(self, query: Query, batch_rows: int) -> RowBatches:
        """Rows of a large query in batches of at most `batch_rows`; memory stays bounded."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    def reusable(self) -> bool:
        """Whether the next chunk may use this connection (asked before each chunk and after
        a failed one): still open, and not left inside a transaction, a half-read result or
        another session state a chunk sets (default: yes)."""
        return True


class Source(ABC):
    """Connections and catalog facts of one engine; one instance per process."""

    dialect: ClassVar[Dialect]

    def __init__(self, config: Any) -> None:
        self.config = config

    @classmethod
    def loader_library_dir(cls, source_block: Mapping[str, Any]) -> str | None:
        """A directory the dynamic loader must search before Python starts, for the `source:`
        block of a config file as written (not validated); None: nothing is needed."""
        return None

    # -- connections ------------------------------------------------------------------------
    def prepare(self) -> None:
        """One-time setup by the coordinator before planning (default: nothing)."""
        return None

    @abstractmethod
    def connect(self) -> DbConn:
        """Open a connection, with the session settings output must not depend on."""

    def open(self) -> DbConn:
        """connect(), with a driver's error turned into a SourceError."""
        try:
            return self.connect()
        except ExporterError:
            raise
        except Exception as exc:
            raise self.explain_error(exc) from exc

    @contextlib.contextmanager
    def session(self) -> Iterator[DbConn]:
        """A connection closed on exit, with driver errors turned into SourceErrors."""
        conn = self.open()
        try:
            yield conn
        except ExporterError:
            raise
        except Exception as exc:
            raise self.explain_error(exc) from exc
        finally:
            conn.close()

    def explain_error(self, exc: BaseException) -> ExporterError:
        """A driver error as one line with a likely fix."""
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return error(ERR_DATABASE, target=self.describe_target(), detail=detail)

    def describe_target(self) -> str:
        """Where this source points, for messages (never includes a password)."""
        return self.dialect.name

    @abstractmethod
    def server_version(self, conn: DbConn) -> str:
        """The server's version string."""

    # -- catalog ----------------------------------------------------------------------------
    def list_tables(self, conn: DbConn, schemas: Sequence[str]) -> list[TableRef]:
        """Base tables of the given schemas (all user schemas when empty)."""
        wanted: list[str | None] = [*schemas] or [*self.dialect.default_schemas] or [None]
        found: set[TableRef] = set()
        for schema in wanted:
            for owner, name in conn.fetch_all(self.dialect.list_tables(schema)):
                found.add(TableRef(owner, name))
        return sorted(found)

    def describe(self, conn: DbConn, table: TableRef) -> list[Column]:
        """The table's columns, in order, with their kinds."""
        columns = []
        for name, native, precision, scale, not_null in conn.fetch_all(
            self.dialect.table_columns(table)
        ):
            p = int(precision) if precision is not None else None
            s = int(scale) if scale is not None else None
            kind = self.dialect.column_kind(native, p, s)
            columns.append(Column(name, native, kind, not bool(not_null), p, s))
        return columns

    def primary_key(self, conn: DbConn, table: TableRef) -> list[str]:
        """Primary-key column names in key order (empty when there is none)."""
        return [row[0] for row in conn.fetch_all(self.dialect.primary_key(table))]

    def count_and_sums(
        self, conn: DbConn, table: TableRef, columns: Sequence[Column]
    ) -> tuple[int, list[Any]]:
        """COUNT(*) and the exact SUM of each integer or decimal column (None: no value)."""
        row = conn.fetch_all(self.dialect.count_and_sums(table, columns))[0]
        return int(row[0]), list(row[1:])

    def size_bytes(self, conn: DbConn, table: TableRef) -> int:
        """Storage size of the table in bytes."""
        rows = conn.fetch_all(self.dialect.table_size_bytes(table))
        return int(rows[0][0] or 0) if rows else 0

    def physical_ranges(
        self, conn: DbConn, table: TableRef, parts: int
    ) -> list[ChunkBounds] | None:
        """About `parts` physical ranges covering the table, or None when it has no locator."""
        return None

    def key_ranges(
        self, conn: DbConn, table: TableRef, column: str, parts: int
    ) -> list[ChunkBounds]:
        """About `parts` ranges of an integer key covering every value (the ends are open)."""
        lo, hi = conn.fetch_all(self.dialect.key_range(table, column))[0]
        if lo is None:
            return [ChunkBounds("whole")]
        return [ChunkBounds("key", a, b) for a, b in split_int_range(int(lo), int(hi), parts)]

    # -- snapshots and chunks ---------------------------------------------------------------
    @contextlib.contextmanager
    def exported_snapshot(self) -> Iterator[str | None]:
        """Hold a snapshot open for the whole run and yield its id (None: not supported)."""
        yield None

    @contextlib.contextmanager
    def chunk_transaction(self, conn: DbConn, snapshot: str | None) -> Iterator[None]:
        """Run one chunk's reads inside a transaction that sees `snapshot`."""
        yield

    def arrow_batches(
        self, conn: DbConn, query: Query, snapshot: str | None
    ) -> Generator[Any, None, None]:
        """The rows of `query` as Arrow record batches of bounded size, read in a transaction
        that sees `snapshot` (only where `dialect.supports_arrow_batches`)."""
        raise NotImplementedError(f"{self.dialect.name} has no Arrow read path")

    def bulk_csv(
        self, conn: DbConn, plan: TablePlan, chunk: Chunk, options: BulkOptions
    ) -> BulkLines:
        """The chunk as CSV lines formatted by the database, read inside `chunk_transaction`
        (only where `dialect.supports_bulk_csv`)."""
        raise NotImplementedError(f"{self.dialect.name} has no bulk CSV read path")
