"""Batches of Python rows -> CSV records, a whole column at a time (the row read path).

The per-value rules are cells.py's; a column whose values all have the expected type takes
a C-level fast path (columns.py) that produces the same text, any other the checked per-cell
functions, which name the offending value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from exporter.canonical.cells import cell_function, empty_cell, format_float, marker_error
from exporter.canonical.columns import column_cells
from exporter.errors import ExporterError
from exporter.model import Column


class BatchEncoder:
    """Turns batches of rows into CSV records (without line ends), a whole column at a time:
    `columns.column_cells` where the column qualifies, else the checked per-cell functions."""

    def __init__(self, columns: Sequence[Column], null_marker: str) -> None:
        self.columns = tuple(columns)
        self.null_marker = null_marker
        self._cells = [cell_function(c) for c in self.columns]

    def encode(self, rows: Sequence[Sequence[object]]) -> list[str]:
        """CSV records for `rows`; raises DataError for a value that cannot be written."""
        return self.encode_columns(list(zip(*rows, strict=False))) if rows else []

    def encode_columns(self, columns: Sequence[Sequence[object]]) -> list[str]:
        """CSV records for a batch given column by column (`zip(*rows)`)."""
        if not columns or not columns[0]:
            return []
        encoded = [
            self._column(column, cell, values)
            for column, cell, values in zip(self.columns, self._cells, columns, strict=True)
        ]
        return list(map(",".join, zip(*encoded, strict=True)))

    def encode_column(self, position: int, values: Sequence[object]) -> list[str]:
        """The cells of one column (the marker for NULL), for callers that hold columns."""
        return self._column(self.columns[position], self._cells[position], values)

    def marker_error(self, column: Column) -> ExporterError:
        """The error for a value of `column` that would be written as the null marker."""
        return marker_error(column.name, self.null_marker)

    def _column(
        self, column: Column, cell: Callable[[Any], str], values: Sequence[object]
    ) -> list[str]:
        marker = self.null_marker
        # Text is always quoted: only a non-empty marker can be read back in a quoted cell.
        if column.kind.is_text and marker and marker in values:
            raise marker_error(column.name, marker)
        nulls = values.count(None)
        present = [v for v in values if v is not None] if nulls else values
        cells = column_cells(column.kind, present, format_float)
        if cells is None:
            cells = list(map(cell, present))
        # A non-text cell can equal the marker too (marker '' and an empty BYTES value,
        # or a marker such as "0"), which would load as NULL: quoted where that tells it
        # apart (cells.empty_cell), else refused.
        if not column.kind.is_text and marker in cells:
            empty = empty_cell(column.kind, marker)
            if empty is None:
                raise marker_error(column.name, marker)
            cells = [empty if cell == marker else cell for cell in cells]
        if nulls:
            filled = iter(cells)
            cells = [marker if v is None else next(filled) for v in values]
        return cells
