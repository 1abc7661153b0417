"""Exact running sums of numeric columns, shared by the worker and the read-back of files.

Integers and decimals are summed exactly (Python int, and Decimal in a context wide enough
that no addition rounds). Floating columns are summed separately, because their figures are
compared only between file and worker record: batch by batch into terms whose exact sum is
the exact sum of the values (`exact_float_terms`), rounded once at the end.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from functools import partial
from operator import is_not
from typing import Any

from exporter.model import Column, ColumnKind

_present = partial(is_not, None)

# No rounding in additions: precision and exponent range at their maxima.
EXACT = decimal.Context(
    prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, traps=[]
)


def float_total(values: Iterable[float]) -> float:
    """The correctly rounded sum of doubles (math.fsum), also where fsum gives up: an
    intermediate overflow (1e308 + 1e308) gives the exact sum rounded once, which may be
    infinite, and +inf with -inf gives NaN, as IEEE addition would."""
    numbers = list(values)
    try:
        return math.fsum(numbers)
    except (OverflowError, ValueError):
        return float(_decimal_sum(numbers))


# A float column's running sum: doubles whose exact sum is the exact sum of every value so
# far, or a Decimal where doubles could not hold a partial sum.
FloatTerms = list[float | Decimal]
_MAX_TERMS = 64  # an exact sum of doubles needs far fewer non-overlapping doubles


def exact_float_terms(values: list[float]) -> FloatTerms:
    """Numbers whose exact sum is the exact sum of `values`, so that batches can be summed
    one at a time and still give the correctly rounded total of the whole: the fsum of the
    values, then the fsum of what is left, until nothing is (each fsum is correctly rounded,
    so the remainder shrinks to exactly 0). A Decimal where an intermediate sum overflows;
    the IEEE result (an infinity or NaN) where the values hold infinities or NaN."""
    if not values:
        return []
    try:
        terms: list[float] = [math.fsum(values)]
    except OverflowError:
        return [_decimal_sum(values)]
    except ValueError:  # +inf and -inf
        return [math.nan]
    if not math.isfinite(terms[0]):
        return list[float | Decimal](terms)
    work = [*values, -terms[0]]  # the values less the terms so far, in one list
    while len(terms) < _MAX_TERMS:
        try:
            rest = math.fsum(work)
        except OverflowError:
            break
        if rest == 0:
            return list[float | Decimal](terms)
        terms.append(rest)
        work.append(-rest)
    return [_decimal_sum(values)]


def terms_total(terms: FloatTerms) -> float:
    """The correctly rounded value of the exact sum of `terms` (see `exact_float_terms`)."""
    doubles = [t for t in terms if isinstance(t, float)]
    if len(doubles) < len(terms):
        return float(_decimal_sum(terms))
    return float_total(doubles)


def _decimal_sum(values: Iterable[float | Decimal]) -> Decimal:
    with decimal.localcontext(EXACT):
        return sum(map(Decimal, values), Decimal(0))


def arrow_exact_type(column: Column) -> Any:
    """The Arrow decimal type that holds every value of an exact column, for summing inside
    Arrow; None where only Python's Decimal can (unconstrained numerics: NaN, any scale)."""
    import pyarrow as pa

    if column.kind is ColumnKind.INTEGER:
        return pa.decimal256(76, 0)
    scale, precision = column.scale, column.precision
    if column.kind is ColumnKind.DECIMAL and scale is not None and precision is not None:
        if 0 <= scale <= precision <= 38:
            return pa.decimal256(76, scale)
    return None


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
            high = pc.sum(pc.shift_right(integers, 32)).as_py()
            low = pc.sum(pc.bit_wise_and(integers, 0xFFFFFFFF)).as_py()
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
        self.floats: dict[str, FloatTerms] = {name: [] for _, name in self.float_positions}

    def add_rows(self, rows: Sequence[Sequence[object]]) -> None:
        """Add a batch of rows holding Python values (None for NULL)."""
        if rows:
            self.add_columns(list(zip(*rows, strict=False)))

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
            self.add_floats(name, arrays[i].drop_null().to_pylist())

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
        """Add a batch of a floating column's values, keeping the running sum exact."""
        terms = self.floats[name]
        terms.extend(exact_float_terms(values))
        if len(terms) > _MAX_TERMS:  # many batches: fold the terms into fewer, still exact
            doubles = [t for t in terms if isinstance(t, float)]
            folded = exact_float_terms(doubles) if len(doubles) == len(terms) else []
            self.floats[name] = folded or [_decimal_sum(terms)]

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
        return {name: terms_total(parts) for name, parts in self.floats.items()}
