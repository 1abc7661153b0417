"""The source's side of validation, taken per chunk by the workers: COUNT(*) and exact sums of
each chunk's range, read at the snapshot the chunk is read at, on a second connection while
the chunk is read (export/figures.py), and stored beside the chunk before it is published: a
published chunk always has its figures, and a chunk whose figures failed is not published.

On a large table one COUNT(*) and SUM over the whole table at the end is a serial scan of
hours, which outlives the undo an Oracle SCN needs; per chunk the same work runs on every
worker while the snapshot is fresh, and a resumed table's chunks are each checked against the
image they were read at. The chunks' figures add up to the table's only where the chunk
ranges cover the table with no gap and no overlap, which `coverage_gap` checks on the plan
itself (the half-open WHERE each range becomes is the one tested builder, sources/ranges.py),
and only where all of them were read at one snapshot; else the table is counted whole
(validation/checks.py), as it is on engines without a snapshot to share (SQLite).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from exporter.model import Chunk, ChunkStats, Column, TablePlan, TableRef
from exporter.sources.dialect import Figures
from exporter.validation.sums import EXACT

ChunkFigures = tuple[int, dict[str, str | None]]
"""A chunk's source figures as its statistics record stores them: rows, and each exact
column's sum as text (None: no value)."""


def add_figures(parts: Iterable[Figures], columns: Sequence[Column]) -> ChunkFigures:
    """The figures of several reads (a chunk's leaf partitions) added up exactly."""
    rows = 0
    sums: list[Decimal | None] = [None] * len(columns)
    for count, values in parts:
        rows += count
        for i, value in enumerate(values):
            if value is not None:
                total = sums[i]
                sums[i] = Decimal(value) if total is None else EXACT.add(total, Decimal(value))
    return rows, {
        c.name: None if s is None else format(s, "f") for c, s in zip(columns, sums, strict=True)
    }


def table_figures(
    stats: Sequence[ChunkStats], columns: Sequence[Column]
) -> tuple[int, list[Decimal | None]] | None:
    """The table's source figures as the sum of its chunks', where every chunk has them and
    all were read at one snapshot (else None: chunks read at several images, by a resumed
    PostgreSQL export, could hold a row twice or not at all, each agreeing with its own
    range; one count of the whole table can tell)."""
    if not stats or any(s.source_rows is None for s in stats):
        return None
    if None in {s.snapshot for s in stats} or len({s.snapshot for s in stats}) != 1:
        return None
    parts = [
        (s.source_rows or 0, [(s.source_sums or {}).get(c.name) for c in columns]) for s in stats
    ]
    rows, sums = add_figures(parts, columns)
    return rows, [None if (total := sums[c.name]) is None else Decimal(total) for c in columns]


def _range_gap(chunks: Sequence[Chunk]) -> str | None:
    """Why half-open ranges in index order do not cover everything once, or None."""
    ordered = sorted(chunks, key=lambda c: c.index)
    if ordered[0].bounds.lower is not None or ordered[-1].bounds.upper is not None:
        return "the first range has a lower end or the last an upper end"
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.bounds.upper is None or before.bounds.upper != after.bounds.lower:
            return f"chunk {after.index} does not start where chunk {before.index} ends"
    return None


def coverage_gap(plan: TablePlan) -> str | None:
    """Why the plan's chunks might not read every row exactly once, or None when they do:
    one whole chunk; ranges of one kind from unbounded to unbounded, each starting where the
    one before ends; or, per leaf partition, one chunk reading it whole or such ranges."""
    chunks = plan.chunks
    if not chunks:
        return "the plan has no chunk"
    if not plan.partitions:
        if len(chunks) == 1 and chunks[0].bounds.kind == "whole":
            return None
        if any(c.bounds.kind == "whole" or c.bounds.kind != plan.strategy for c in chunks):
            return "chunks of several kinds"
        return _range_gap(chunks)
    whole: dict[TableRef, int] = defaultdict(int)
    ranged: dict[TableRef, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        if not chunk.bounds.partitions:
            return f"chunk {chunk.index} reads no partition of a partitioned table"
        if chunk.bounds.kind == "whole":
            for leaf in chunk.bounds.partitions:
                whole[leaf] += 1
        elif len(chunk.bounds.partitions) == 1:
            ranged[chunk.bounds.partitions[0]].append(chunk)
        else:
            return f"chunk {chunk.index} reads a range of several partitions"
    for leaf in plan.partitions:
        if whole[leaf] + (1 if ranged[leaf] else 0) != 1:
            return f"partition {leaf.name} is read by more than one kind of chunk, or twice"
        if ranged[leaf] and (gap := _range_gap(ranged[leaf])):
            return f"partition {leaf.name}: {gap}"
    return None
