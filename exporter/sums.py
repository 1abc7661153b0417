"""Exact running sums of numeric columns, shared by the worker and the read-back of files.

Integers and decimals are summed exactly (Python int, and Decimal in a context wide enough
that no addition rounds); floating columns are summed with math.fsum, separately, because
their figures can only be compared with a tolerance.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

from exporter.model import Column, ColumnKind

# No rounding in additions: precision and exponent range at their maxima.
EXACT = decimal.Context(
    prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN, traps=[]
)


class ColumnSums:
    """Running sums of the numeric columns of a table, fed batch by batch."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.exact_positions = [
            (i, c.name) for i, c in enumerate(columns) if c.kind.is_exact_number
        ]
        self.float_positions = [
            (i, c.name) for i, c in enumerate(columns) if c.kind is ColumnKind.FLOAT
        ]
        self.exact: dict[str, Decimal] = {name: Decimal(0) for _, name in self.exact_positions}
        self.floats: dict[str, list[float]] = {name: [] for _, name in self.float_positions}

    def add_rows(self, rows: Sequence[Sequence[object]]) -> None:
        """Add a batch of rows holding Python values (None for NULL)."""
        if not rows:
            return
        for i, name in self.exact_positions:
            values = [v for v in (r[i] for r in rows) if v is not None]
            self.exact[name] = self._add(self.exact[name], values)
        for i, name in self.float_positions:
            total = math.fsum(float(v) for v in (r[i] for r in rows) if v is not None)  # type: ignore[arg-type]
            self.floats[name].append(total)

    def add_texts(self, position: int, name: str, texts: Iterable[str], float_column: bool) -> None:
        """Add cells as written in a CSV file (NULL cells already removed)."""
        if float_column:
            self.floats[name].append(math.fsum(float(t) for t in texts))
        else:
            self.exact[name] = self._add(self.exact[name], (Decimal(t) for t in texts))

    @staticmethod
    def _add(start: Decimal, values: Iterable[object]) -> Decimal:
        total = start
        for value in values:
            total = EXACT.add(total, value if isinstance(value, Decimal) else Decimal(value))  # type: ignore[arg-type]
        return total

    def exact_json(self) -> dict[str, str]:
        """Exact sums as strings (`format(d, 'f')`: no exponent, every digit)."""
        return {name: format(total, "f") for name, total in self.exact.items()}

    def float_json(self) -> dict[str, float]:
        """Floating sums."""
        return {name: math.fsum(parts) for name, parts in self.floats.items()}
