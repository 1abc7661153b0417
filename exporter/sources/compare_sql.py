"""The comparator's SQL, the same for every engine but for what each dialect declares: the
comparison form of a cell and the row digest (canonical/digest.py is their reference), how a key
is ordered, and a few flags. A mixin of Dialect (dialect.py), which supplies quoting."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from exporter.model import Column, TableRef
from exporter.sources.query import Query


class CompareSql(ABC):
    """Chunk figures, key quantiles, (key, digest) pairs and rows in full, for the comparator."""

    bind_style: ClassVar[str] = ":{}"
    """How a named bind parameter is written, `{}` standing for its name."""
    supports_row_values: ClassVar[bool] = True
    """Row values compare in order, `(a, b) >= (x, y)` (else the expanded OR form is used)."""
    subquery_fence: ClassVar[str] = ""
    """What keeps the planner from merging a subquery into its parent (PostgreSQL: OFFSET 0),
    so that a grouping sorts the small rows the subquery makes, not the table's rows."""
    name: ClassVar[str]

    @abstractmethod
    def quote(self, identifier: str) -> str:
        """A quoted identifier."""

    @abstractmethod
    def qualified(self, table: TableRef) -> str:
        """A quoted, schema-qualified table name."""

    @abstractmethod
    def count_rows(self, table: TableRef) -> Query:
        """One row (count,)."""

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
        self,
        key: Sequence[Column],
        op: str,
        values: Sequence[object],
        prefix: str,
        *,
        native: bool = False,
    ) -> tuple[str, dict[str, object]]:
        """`key op values` (op `>=` or `<`) for a key of one or more columns, as a row-value
        comparison or, where the engine has none, in the expanded OR form. In binary order
        (key_term), or with `native` in the columns' own order, which their indexes serve."""
        terms = [self.quote(c.name) if native else self.key_term(c) for c in key]
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
        self,
        key: Sequence[Column],
        lower: Sequence[object] | None,
        upper: Sequence[object] | None,
        *,
        native: bool = False,
    ) -> tuple[str, dict[str, object]]:
        """` WHERE key >= lower AND key < upper` for the ends that are set (a half-open key
        range), with the values bound; ("", {}) when both are open."""
        parts: list[str] = []
        params: dict[str, object] = {}
        for values, op, prefix in ((lower, ">=", "lo"), (upper, "<", "hi")):
            if values is not None:
                text, bound = self.key_compare(key, op, values, prefix, native=native)
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
        """Rows (bucket, count, sum of digests) of a key range cut at `boundaries`, sorted
        (bucket i holds the keys below boundary i and at or above boundary i - 1; the last,
        the rest). A row finds its bucket by binary search: log2 comparisons, not one per
        boundary."""
        digest, params = self.row_digest(columns)
        where, bound = self.key_between(key, lower, upper)
        params.update(bound)
        bucket = self._bucket(key, boundaries, 0, len(boundaries), params)
        inner = (
            f"SELECT {bucket} AS b, {digest} AS d FROM {self.qualified(table)}{where}"
            f"{self.subquery_fence}"
        )
        return Query(
            f"SELECT b, COUNT(*), {self.digest_sum('d')} FROM ({inner}) s GROUP BY b", params
        )

    def _bucket(
        self,
        key: Sequence[Column],
        cuts: Sequence[Sequence[object]],
        first: int,
        last: int,
        params: dict[str, object],
    ) -> str:
        """SQL of the bucket (first..last) a row's key falls in: nested CASEs halving the
        buckets at each level; cut i separates bucket i from bucket i + 1."""
        if first == last:
            return str(first)
        middle = (first + last + 1) // 2
        below, bound = self.key_compare(key, "<", cuts[middle - 1], f"b{middle - 1}_")
        params.update(bound)
        left = self._bucket(key, cuts, first, middle - 1, params)
        right = self._bucket(key, cuts, middle, last, params)
        return f"CASE WHEN {below} THEN {left} ELSE {right} END"

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

    def sorted_sample_keys(self, table: TableRef, key: Sequence[Column], percent: float) -> Query:
        """The sample of `sample_keys` in the key columns' own order (only the sample is
        sorted, never the table)."""
        sample = self.sample_keys(table, key, percent)
        names = ", ".join(self.quote(column.name) for column in key)
        return Query(f"SELECT * FROM ({sample.sql}) sampled ORDER BY {names}", sample.params)

    def row_estimate(self, table: TableRef) -> Query:
        """One row (estimated rows,), NULL or negative where there is no estimate (default:
        the exact count)."""
        return self.count_rows(table)

    def null_keys(self, table: TableRef, key: Sequence[Column]) -> Query:
        """One row (count,) of rows with a NULL in a key column: such rows fall in no range."""
        test = " OR ".join(f"{self.quote(column.name)} IS NULL" for column in key)
        return Query(f"SELECT COUNT(*) FROM {self.qualified(table)} WHERE {test}")
