"""Plans for tests: a table read whole, in one chunk, as the planner makes for a small table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exporter.model import Chunk, ChunkBounds, Column, FileFormat, TablePlan, TableRef

TABLE = TableRef("S", "T")


def whole_plan(
    columns: Sequence[Column],
    *,
    table: TableRef = TABLE,
    marker: str = "\\N",
    row_hash: bool = True,
    size_bytes: int = 0,
    reason: str = "test",
    **extra: Any,
) -> TablePlan:
    """A plan of `columns` read in one whole chunk; `extra` sets any other TablePlan field."""
    return TablePlan(
        table=table,
        columns=tuple(columns),
        size_bytes=size_bytes,
        strategy="whole",
        reason=reason,
        chunks=(Chunk(0, ChunkBounds("whole")),),
        file_format=FileFormat(null_marker=marker, row_hash=row_hash),
        **extra,
    )
