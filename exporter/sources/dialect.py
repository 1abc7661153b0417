"""SQL text for one engine: a `Dialect` declares what the engine can do (capability flags,
bind style, physical locator, error hints: data, as sqlglot's dialects do) and builds every
statement as a `Query`, pure and checked offline with sqlglot by tests/sql. Connections live
in base.py's `Source`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from exporter.model import Chunk, Column, ColumnKind, TablePlan, TableRef
from exporter.sources.ranges import range_where


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
    supports_row_values: ClassVar[bool] = True
    """Row values compare in order, `(a, b) >= (x, y)` (else the expanded OR form is used)."""

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

    # -- the comparator: rows in the comparison form, chunk figures, key ranges ---------------
    # (canonical/digest.py is the reference these statements must match.)

    @staticmethod
    def compare_refusal(column: Column) -> str | None:
        """Why this column cannot be compared inside the database, or None (it can)."""
        return None

    def compare_cell(self, column: Column) -> str:
        """SQL of the column's cell in the comparison form (canonical/digest.py); NULL stays
        NULL."""
        raise NotImplementedError(f"{self.name} has no comparison form")

    def row_digest(self, columns: Sequence[Column]) -> tuple[str, dict[str, object]]:
        """SQL of a row's 60-bit digest (canonical/digest.py: the last 15 hex digits of the MD5
        of its comparison form), with its bound values."""
        raise NotImplementedError(f"{self.name} has no comparison digest")

    def digest_sum(self, expression: str) -> str:
        """SQL of the exact sum of digests (an aggregate)."""
        return f"SUM({expression})"

    def modulo(self, left: str, right: str) -> str:
        """SQL of `left` modulo `right`."""
        return f"MOD({left}, {right})"

    def key_term(self, column: Column) -> str:
        """A key column as ranges compare it: in binary (code point) order wherever the engine
        offers a choice, so that every engine orders keys the same way."""
        return self.quote(column.name)

    def key_compare(
        self, key: Sequence[Column], op: str, values: Sequence[object], prefix: str
    ) -> tuple[str, dict[str, object]]:
        """`key op values` (op `>=` or `<`) for a key of one or more columns, as a row-value
        comparison or, where the engine has none, in the expanded OR form."""
        terms = [self.key_term(column) for column in key]
        names = [f"{prefix}{i}" for i in range(len(key))]
        params = dict(zip(names, values, strict=True))
        binds = [self.bind_style.format(name) for name in names]
        if len(key) == 1:
            return f"{terms[0]} {op} {binds[0]}", params
        if self.supports_row_values:
            return f"({', '.join(terms)}) {op} ({', '.join(binds)})", params
        # (a, b) >= (x, y)  ->  a > x OR (a = x AND b >= y), nested for longer keys.
        strict = op[0]
        text = f"{terms[-1]} {op} {binds[-1]}"
        for term, bind in zip(reversed(terms[:-1]), reversed(binds[:-1]), strict=True):
            text = f"{term} {strict} {bind} OR ({term} = {bind} AND ({text}))"
        return f"({text})", params

    def key_between(
        self, key: Sequence[Column], lower: Sequence[object] | None, upper: Sequence[object] | None
    ) -> tuple[str, dict[str, object]]:
        """` WHERE key >= lower AND key < upper` for the ends that are set (a half-open key
        range), with the values bound; ("", {}) when both are open."""
        parts: list[str] = []
        params: dict[str, object] = {}
        for values, op, prefix in ((lower, ">=", "lo"), (upper, "<", "hi")):
            if values is not None:
                text, bound = self.key_compare(key, op, values, prefix)
                parts.append(text)
                params.update(bound)
        return (" WHERE " + " AND ".join(parts)) if parts else "", params

    def chunk_figures(
        self,
        table: TableRef,
        columns: Sequence[Column],
        key: Sequence[Column],
        lower: Sequence[object] | None,
        upper: Sequence[object] | None,
        boundaries: Sequence[Sequence[object]] = (),
    ) -> Query:
        """Rows (bucket, count, sum of digests) of a key range cut at `boundaries` (bucket i
        holds the keys below boundary i and at or above boundary i - 1; the last, the rest)."""
        digest, params = self.row_digest(columns)
        where, bound = self.key_between(key, lower, upper)
        params.update(bound)
        bucket = "0"
        if boundaries:
            whens = []
            for i, boundary in enumerate(boundaries):
                below, bound = self.key_compare(key, "<", boundary, f"b{i}_")
                whens.append(f"WHEN {below} THEN {i}")
                params.update(bound)
            bucket = f"CASE {' '.join(whens)} ELSE {len(boundaries)} END"
        inner = f"SELECT {bucket} AS b, {digest} AS d FROM {self.qualified(table)}{where}"
        return Query(
            f"SELECT b, COUNT(*), {self.digest_sum('d')} FROM ({inner}) s GROUP BY b", params
        )

    def key_quantiles(
        self,
        table: TableRef,
        key: Sequence[Column],
        lower: Sequence[object] | None,
        upper: Sequence[object] | None,
        step: int,
    ) -> Query:
        """Every `step`-th key of a key range in key order: where the range is cut to drill."""
        where, params = self.key_between(key, lower, upper)
        names = ", ".join(self.quote(column.name) for column in key)
        order = ", ".join(self.key_term(column) for column in key)
        params["step"] = step
        rn = self.modulo("rn", self.bind_style.format("step"))
        return Query(
            f"SELECT {names} FROM (SELECT {names}, ROW_NUMBER() OVER (ORDER BY {order}) AS rn "
            f"FROM {self.qualified(table)}{where}) s WHERE {rn} = 0",
            params,
        )

    def key_digests(
        self,
        table: TableRef,
        columns: Sequence[Column],
        key: Sequence[Column],
        lower: Sequence[object] | None,
        upper: Sequence[object] | None,
    ) -> Query:
        """Rows (key..., digest) of a key range, in no particular order."""
        digest, params = self.row_digest(columns)
        where, bound = self.key_between(key, lower, upper)
        names = ", ".join(self.quote(column.name) for column in key)
        sql = f"SELECT {names}, {digest} FROM {self.qualified(table)}{where}"
        return Query(sql, params | bound)

    def cells_for_keys(
        self,
        table: TableRef,
        columns: Sequence[Column],
        key: Sequence[Column],
        keys: Sequence[Sequence[object]],
    ) -> Query:
        """Rows (key..., cell...) of the rows with these keys, every cell in the comparison
        form: the detail of rows whose digests differ."""
        names = [self.quote(column.name) for column in key]
        params: dict[str, object] = {}
        tuples = []
        for i, values in enumerate(keys):
            binds = []
            for j, value in enumerate(values):
                params[f"k{i}_{j}"] = value
                binds.append(self.bind_style.format(f"k{i}_{j}"))
            tuples.append(binds[0] if len(binds) == 1 else f"({', '.join(binds)})")
        target = names[0] if len(names) == 1 else f"({', '.join(names)})"
        cells = ", ".join(self.compare_cell(column) for column in columns)
        return Query(
            f"SELECT {', '.join(names)}, {cells} FROM {self.qualified(table)} "
            f"WHERE {target} IN ({', '.join(tuples)})",
            params,
        )

    def sample_keys(self, table: TableRef, key: Sequence[Column], percent: float) -> Query:
        """Rows (key...) of about `percent` % of the table, without sorting it: where chunk
        boundaries come from (default: every row, for engines that cannot sample)."""
        names = ", ".join(self.quote(column.name) for column in key)
        return Query(f"SELECT {names} FROM {self.qualified(table)}")

    def row_estimate(self, table: TableRef) -> Query:
        """One row (estimated rows,), NULL or negative where there is no estimate (default:
        the exact count)."""
        return self.count_rows(table)

    def null_keys(self, table: TableRef, key: Sequence[Column]) -> Query:
        """One row (count,) of rows with a NULL in a key column: such rows fall in no range."""
        test = " OR ".join(f"{self.quote(column.name)} IS NULL" for column in key)
        return Query(f"SELECT COUNT(*) FROM {self.qualified(table)} WHERE {test}")
