"""The plain values a Source hands back (base.py): leaf partitions and sizes read from the
catalog, and a chunk's rows, as batches of Python rows or of lines the database formatted.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.model import TableRef


@dataclass(frozen=True)
class LeafPartition:
    """A leaf partition: a table of its own that holds some of a partitioned table's rows."""

    table: TableRef
    size_bytes: int
    physical: bool
    """Whether it has a physical locator to be split by (a foreign table has none)."""


@dataclass(frozen=True)
class TableSize:
    """A table's size in bytes, and what the figure rests on where it is not the storage the
    table holds (an estimate from statistics, or nothing: a table never analyzed)."""

    bytes: int
    note: str = ""


# Batches of rows from a streaming query; a generator so callers can close it early.
RowBatches = Generator[Sequence[tuple[Any, ...]], None, None]


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
