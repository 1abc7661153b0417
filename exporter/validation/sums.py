"""Exact running sums of numeric columns, shared by the worker and the read-back of files.

Integers and decimals are summed exactly (Python int, and Decimal in a context wide enough
that no addition rounds). Floating columns are summed separately, because their figures are
compared only between file and worker record: exactly, batch by batch, and rounded once at
the end (`float_sum.ExactFloatSum`).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import partial
from operator import is_not, itemgetter
from typing import Any

from exporter.canonical.arrow_scalars import scalar
from exporter.model import Column, ColumnKind
from exporter.validation.float_sum import ExactFloatSum

_present = partial(is_not, None)

try:  # exact column sums of row batches in C (canonical/_rowsums.c); Python's where not built
    from exporter.canonical._rowtext import float_sum as _c_float_sum
    from exporter.canonical._rowtext import int_sum as _c_int_sum

    C_ROW_SUMS: tuple[Any, Any] | None = (_c_float_sum, _c_int_sum)
except ImportError:  # no C compiler at install: the same sums in Python, slower
    C_ROW_SUMS = None

# No rounding in additions: precision and exponent range at their maxima.
EXACT = decimal.Context(
    prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, traps=[]
)


def fixed_scale(column: Column) -> int | None:
    """The scale every value of an exact column is summed at: 0 for integers, the declared
    scale of a decimal of at most 38 digits; None for the others (unconstrained numerics:
    NaN, any scale), whose sums keep the most fractional digits of their values."""
    if column.kind is ColumnKind.INTEGER:
        return 0
    scale, precision = column.scale, column.precision
    if column.kind is ColumnKind.DECIMAL and scale is not None and precision is not None:
        if 0 <= scale <= precision <= 38:
            return scale
    return None


def arrow_exact_type(column: Column) -> Any:
    """The Arrow decimal type that holds every value of an exact column, for summing inside
    Arrow; None where only Python's Decimal can (`fixed_scale` is None)."""
    import pyarrow as pa

    scale = fixed_scale(column)
    return None if scale is None else pa.decimal256(76, scale)


def arrow_exact_sum(values: Any, exact_type: Any) -> Decimal | int | None:
    """The exact sum of an Arrow array without NULLs (integers, decimals or their text),
    computed inside Arrow; None for an empty array. Raises pyarrow.ArrowInvalid where a value
    does not fit `exact_type` (from `arrow_exact_type`).

    Integers that fit 64 bits are summed as two halves, v = (v >> 32) * 2**32 + (v & (2**32 - 1)),
    each half's sum fitting 64 bits for fewer than 2**31 values: exact, and some 10x faster
    than summing 76-digit decimals."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(values) == 0:
        return None
    if exact_type.scale == 0 and len(values) < 2**31:
        try:
            integers = pc.cast(values, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # beyond 64 bits, or a decimal type: the decimal sum below
        else:
            high = pc.sum(pc.shift_right(integers, scalar(32, "int64"))).as_py()
            low = pc.sum(pc.bit_wise_and(integers, scalar(0xFFFFFFFF, "int64"))).as_py()
            return int(high) * 2**32 + int(low)
    total: Decimal = pc.sum(pc.cast(values, exact_type)).as_py()
    return total


def _exact_number(value: Any) -> Decimal | int:
    """A value of an exact column as Python adds it exactly (numeric text becomes Decimal)."""
    return Decimal(value) if isinstance(value, str) else value


class ColumnSums:
    """Running sums of the numeric columns of a table, fed batch by batch."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self.exact_positions = [
            (i, c.name) for i, c in enumerate(columns) if c.kind.is_exact_number
        ]
        self.float_positions = [
            (i, c.name) for i, c in enumerate(columns) if c.kind is ColumnKind.FLOAT
        ]
        self.exact: dict[str, Decimal] = {name: Decimal(0) for _, name in self.exact_positions}
        self.floats = {name: ExactFloatSum() for _, name in self.float_positions}

    def add_rows(self, rows: Sequence[Sequence[object]]) -> None:
        """Add a batch of rows holding Python values (None for NULL); only the numeric
        columns are taken out of the rows. In C where the extension is built: its integers
        within 64 bits and doubles summed exactly there (the rest of an exact column, e.g.
        Decimals, in Python), the same figures as the Python code below."""
        if C_ROW_SUMS is not None:
            float_sum, int_sum = C_ROW_SUMS
            for i, name in self.exact_positions:
                total, rest = int_sum(rows, i)
                self.exact[name] = self._add(self.exact[name], [total, *rest])
            for i, name in self.float_positions:
                self.floats[name].add_scaled(*float_sum(rows, i))
            return
        for i, name in self.exact_positions:
            self.exact[name] = self._add(
                self.exact[name], filter(_present, map(itemgetter(i), rows))
            )
        for i, name in self.float_positions:
            self.add_floats(name, [float(v) for v in map(itemgetter(i), rows) if v is not None])

    def add_columns(self, columns: Sequence[Sequence[object]]) -> None:
        """Add a batch given column by column (`zip(*rows)`)."""
        if not columns or not columns[0]:
            return
        for i, name in self.exact_positions:
            self.exact[name] = self._add(self.exact[name], filter(_present, columns[i]))
        for i, name in self.float_positions:
            self.add_floats(name, [float(v) for v in columns[i] if v is not None])  # type: ignore[arg-type]

    def add_arrow_columns(self, arrays: Sequence[Any]) -> None:
        """Add a batch of plain Arrow arrays (arrow_encode.plain_columns), one per column:
        exact columns are summed inside Arrow where their type allows (`arrow_exact_sum`),
        else in Python."""
        import pyarrow as pa

        for i, name in self.exact_positions:
            values = arrays[i].drop_null()
            if len(values) == 0:
                continue
            exact_type = arrow_exact_type(self.columns[i])
            if exact_type is not None:
                try:
                    self.add_exact(name, arrow_exact_sum(values, exact_type))
                    continue
                except pa.ArrowInvalid:
                    pass  # more digits than the declared scale, say: Python names nothing
            self.exact[name] = self._add(self.exact[name], map(_exact_number, values.to_pylist()))
        for i, name in self.float_positions:
            self.add_arrow_floats(name, arrays[i])

    def add_texts(self, position: int, name: str, texts: Iterable[str], float_column: bool) -> None:
        """Add cells as written in a CSV file (NULL cells already removed)."""
        if float_column:
            self.add_floats(name, list(map(float, texts)))
        else:
            self.exact[name] = self._add(self.exact[name], map(Decimal, texts))

    def add_exact(self, name: str, total: Decimal | int | None) -> None:
        """Add a subtotal of an exact column (None: the batch had no value)."""
        if total is not None:
            self.exact[name] = self._add(self.exact[name], (total,))

    def add_floats(self, name: str, values: list[float]) -> None:
        """Add a batch of a floating column's values (Python floats)."""
        self.floats[name].add_values(values)

    def add_arrow_floats(self, name: str, values: Any) -> None:
        """Add a batch of a floating column's values (an Arrow array; NULLs are skipped)."""
        self.floats[name].add_arrow(values)

    @staticmethod
    def _add(start: Decimal, values: Iterable[Any]) -> Decimal:
        # sum() adds in C under the current context, which EXACT makes rounding-free;
        # Decimal + int is exact too.
        numbers: list[Decimal | int] = list(values)
        with decimal.localcontext(EXACT):
            try:
                return Decimal(sum(numbers, start))  # already a Decimal: start is one
            except TypeError:  # e.g. a float among them: convert each exactly
                return sum(map(Decimal, numbers), start)

    def exact_json(self) -> dict[str, str]:
        """Exact sums as strings (`format(d, 'f')`: no exponent, every digit)."""
        return {name: format(total, "f") for name, total in self.exact.items()}

    def float_json(self) -> dict[str, float]:
        """Floating sums."""
        return {name: running.total() for name, running in self.floats.items()}
