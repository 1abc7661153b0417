"""SQL text for one engine: a `Dialect` declares what the engine can do (capability flags,
bind style, physical locator, error hints: data, as sqlglot's dialects do) and builds every
statement as a `Query`, pure and checked offline with sqlglot by tests/sql. Connections live
in base.py's `Source`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from exporter.model import Bound, Chunk, Column, ColumnKind, TablePlan, TableRef
from exporter.sources.compare_sql import CompareSql
from exporter.sources.query import Query as Query  # re-exported: the dialects' return type
from exporter.sources.ranges import range_where

Figures = tuple[int, list[Any]]
"""A source's validation figures: COUNT(*) and the exact SUM of each column (None: no value)."""


@dataclass(frozen=True)
class BulkOptions:
    """How the bulk CSV path formats a chunk (the other paths read the same from the plan)."""

    null_marker: str
    row_hash_in_db: bool


class Dialect(CompareSql, ABC):
    """SQL text for one engine. No I/O: every method returns a `Query`."""

    name: ClassVar[str]
    """Engine name as written in `source.engine`."""
    sqlglot_dialect: ClassVar[str]
    """sqlglot dialect that parses this engine's SQL (used by tests/sql)."""
    supports_physical_split: ClassVar[bool] = False
    """Tables can be split on a physical locator (ROWID, ctid, rowid)."""
    supports_snapshot_export: ClassVar[bool] = False
    """One snapshot can be shared by every worker's connection."""
    snapshot_outlives_run: ClassVar[bool] = False
    """A snapshot stays readable after the run that took it (Oracle's SCN, while undo reaches
    it): it is pinned in each table's plan and reused on resume. Elsewhere (PostgreSQL's
    exported snapshot ends with its transaction) a resumed run reads at a new one."""
    supports_db_row_hash: ClassVar[bool] = False
    """The database can compute the canonical row hash itself (use_client_hash: false)."""
    supports_bulk_csv: ClassVar[bool] = False
    """The database formats a chunk as canonical CSV itself (`Source.bulk_csv`): the
    fastest read path, taken with `fetch_path: auto`."""
    supports_arrow_batches: ClassVar[bool] = False
    """The driver delivers a chunk as Arrow record batches (`Source.arrow_batches`), taken
    with `fetch_path: batch` (and with `auto` where there is no bulk CSV and
    `arrow_by_default`); else Python rows."""
    arrow_by_default: ClassVar[bool] = False
    """`fetch_path: auto` may take the Arrow batches (where there is no bulk CSV): set once
    the path has been proved against a real database; else only `batch` takes them."""
    empty_string_is_null: ClassVar[bool] = False
    """The engine stores '' as NULL, so the default null marker can be '' (BigQuery's own)."""
    default_schemas: ClassVar[tuple[str, ...]] = ()
    """Schemas read when export.schemas is empty (empty: every non-system schema)."""
    physical_locator: ClassVar[str] = ""
    """The pseudo-column physical ranges are taken on (ROWID, ctid, rowid)."""
    physical_bind: ClassVar[str] = "{}"
    """How a bound physical bound becomes a locator value, `{}` standing for the parameter."""
    error_hints: ClassVar[Mapping[str, str]] = {}
    """The engine's error codes users meet most -> the fix to suggest."""
    source_row_count_field: ClassVar[str | None] = None
    """metadata.json also carries the source's row count under this name (beside
    `source_row_count`), for handbooks that name the figure after the engine; None: not."""

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

    def unique_keys(self, table: TableRef) -> Query | None:
        """Rows (key name, column_name) of the table's unique keys other than the primary
        key, each key's columns in order, keys in name order (None: not looked for)."""
        return None

    @abstractmethod
    def table_size_bytes(self, table: TableRef) -> Query:
        """One row (bytes,) with the table's storage size."""

    def key_range(self, table: TableRef, column: str) -> Query:
        """One row (min, max) of an integer column."""
        col = self.quote(column)
        return Query(f"SELECT MIN({col}), MAX({col}) FROM {self.qualified(table)}")

    def physical_value(self, bound: Bound) -> object:
        """A physical chunk bound as it is bound to the query (default: as stored)."""
        return bound

    def locator_for(self, plan: TablePlan) -> str:
        """The physical locator of the planned table (default: `physical_locator`)."""
        return self.physical_locator

    def chunk_where(self, plan: TablePlan, chunk: Chunk) -> tuple[str, dict[str, object]]:
        """` WHERE ...` selecting one chunk's half-open range (empty for a whole table), with
        its bound values: on the physical locator, on the plan's integer split column, or on
        its key of any columns (bounds that are tuples: a row-value range in the columns' own
        order, as Source.sample_boundaries(native=True) cut it)."""
        bounds = chunk.bounds
        if bounds.kind == "whole":
            return "", {}
        if bounds.kind == "physical":
            lower, upper = (
                None if b is None else self.physical_value(b) for b in (bounds.lower, bounds.upper)
            )
            placeholder = self.physical_bind.format(self.bind_style)
            return range_where(self.locator_for(plan), lower, upper, placeholder)
        if isinstance(bounds.lower, tuple) or isinstance(bounds.upper, tuple):
            by_name = {c.name: c for c in plan.columns}
            key = [by_name[name] for name in plan.split_columns]
            low = bounds.lower if isinstance(bounds.lower, tuple) else None
            high = bounds.upper if isinstance(bounds.upper, tuple) else None
            return self.key_between(key, low, high, native=True)
        column = self.quote(plan.split_column or "")
        return range_where(column, bounds.lower, bounds.upper, self.bind_style)

    def chunk_select(self, plan: TablePlan, chunk: Chunk, expressions: str) -> Query:
        """`SELECT expressions FROM the chunk's range`: the table, or each leaf partition the
        chunk names (UNION ALL: several only for whole leaves, whose WHERE is empty), read at
        the plan's snapshot where the query names it (`snapshot_read`)."""
        where, params = self.chunk_where(plan, chunk)
        as_of, as_of_params = self.snapshot_read(plan)
        sources = [self.leaf_source(plan.table, leaf) for leaf in chunk.bounds.partitions]
        selects = [
            f"SELECT {expressions} FROM {source}{as_of}{where}"
            for source in sources or [self.qualified(plan.table)]
        ]
        return Query(" UNION ALL ".join(selects), {**params, **as_of_params})

    def snapshot_read(self, plan: TablePlan) -> tuple[str, dict[str, object]]:
        """What follows a table in FROM to read it at the plan's snapshot, and its bound
        values, where the query itself names the snapshot (default: nothing; the session
        is set to the snapshot instead, Source.chunk_transaction)."""
        return "", {}

    def leaf_source(self, table: TableRef, leaf: TableRef) -> str:
        """How a chunk reads one leaf partition of `table` (default: the leaf is a table of
        its own, as in PostgreSQL)."""
        return self.qualified(leaf)

    @abstractmethod
    def select_chunk(self, plan: TablePlan, chunk: Chunk) -> Query:
        """The rows of one chunk, one value per exported column, for the batch path."""

    def count_rows(self, table: TableRef) -> Query:
        """One row (count,)."""
        return Query(f"SELECT COUNT(*) FROM {self.qualified(table)}")

    def figure_expressions(self, columns: Sequence[Column]) -> str:
        """`COUNT(*), SUM(a), ...`: the select list of the source's validation figures over
        integer or decimal columns, whose SUM the engine computes exactly (parse_figures
        reads a row of it)."""
        return "COUNT(*)" + "".join(f", SUM({self.quote(c.name)})" for c in columns)

    def parse_figures(self, row: Sequence[Any], columns: Sequence[Column]) -> Figures:
        """(count, sum of each column; None where it has no value) from a row of
        `figure_expressions`."""
        return int(row[0] or 0), list(row[1:])

    def range_figures(self, plan: TablePlan, chunk: Chunk, columns: Sequence[Column]) -> Query:
        """Rows of `figure_expressions` over one chunk's range, at the plan's snapshot where
        the query names it: one row, or one per leaf partition a chunk reads whole."""
        return self.chunk_select(plan, chunk, self.figure_expressions(columns))

    @abstractmethod
    def column_kind(self, native_type: str, precision: int | None, scale: int | None) -> ColumnKind:
        """How values of this native type are written."""
