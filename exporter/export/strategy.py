"""How one table is cut into chunks: the planner's decision, with its reason.

A table up to the threshold is one chunk. A larger one is cut, in this order of preference:
a partitioned table per leaf partition (each leaf read on its own, so the database prunes to
it; leaves larger than a chunk split by physical ranges, small ones grouped); any other table
by ranges of its physical locator; failing that, by ranges of its primary key: arithmetic
steps for a single integer column, cut points from a sample of the key for any other key
(composite, text, dates), in the key columns' own order so their index serves each range.
`chunk_strategy` narrows the choice; every decision is one log line (planner.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from exporter.config.models import ExportSettings
from exporter.keys import encode_key
from exporter.model import BoundsKind, ChunkBounds, Column, ColumnKind, TableRef
from exporter.sources.base import DbConn, LeafPartition, Source
from exporter.sources.ranges import BYTES_PER_GB, BYTES_PER_MB, parts_for


@dataclass(frozen=True)
class Decision:
    """A table's strategy, why, its chunks' bounds, and the key columns they range over."""

    strategy: BoundsKind
    reason: str
    bounds: list[ChunkBounds]
    split_columns: tuple[str, ...] = ()


def size_text(size: float) -> str:
    """Bytes as a person reads them: `10.2 MB`."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    raise AssertionError


def decide_chunks(
    conn: DbConn,
    source: Source,
    settings: ExportSettings,
    table: TableRef,
    columns: Sequence[Column],
    size: int,
    leaves: Sequence[LeafPartition] = (),
    size_note: str = "",
) -> Decision:
    """How `table` (of `size` bytes, stored in `leaves` when partitioned) is chunked;
    `size_note` says what the size rests on where it is not the table's storage."""
    threshold = settings.chunk_threshold_gb * BYTES_PER_GB
    chunk_bytes = settings.chunk_size_mb * BYTES_PER_MB
    parts = parts_for(size, threshold, chunk_bytes)
    cmp = f"{size_text(size)} {'<=' if parts == 1 else '>'} {size_text(threshold)} threshold"
    if size_note:
        cmp += f" ({size_note})"
    if leaves:
        cmp += f", {len(leaves)} partition{'s' if len(leaves) != 1 else ''}"
    whole = [ChunkBounds("whole")]
    if parts == 1:
        return Decision("whole", cmp, whole)
    if settings.chunk_strategy == "none":
        return Decision("whole", f"{cmp}, but chunk_strategy is none", whole)
    tried = []
    if settings.chunk_strategy in ("auto", "physical"):
        if leaves:
            bounds = partition_chunks(conn, source, table, leaves, chunk_bytes)
            return Decision("partitions", f"{cmp}, per partition", bounds)
        if source.dialect.supports_physical_split:
            ranges, basis = source.physical_split(conn, table, parts)
            if ranges:
                return Decision("physical", f"{cmp}, {basis}", ranges)
            tried.append("the table has no physical locator ranges")
        else:
            tried.append("the engine has no physical split")
    decision = key_decision(conn, source, table, columns, parts, cmp)
    if decision is not None:
        return decision
    tried.append("no primary key to range over")
    return Decision("whole", f"{cmp}, but {' and '.join(tried)}: one chunk", whole)


def partition_chunks(
    conn: DbConn,
    source: Source,
    table: TableRef,
    leaves: Sequence[LeafPartition],
    chunk_bytes: float,
) -> list[ChunkBounds]:
    """Chunks reading each leaf on its own: a leaf larger than a chunk in physical ranges,
    small leaves together up to a chunk's size (a group is read as UNION ALL)."""
    ranges: dict[TableRef, list[ChunkBounds]] = {}
    for leaf in leaves:
        parts = math.ceil(leaf.size_bytes / chunk_bytes)
        if parts > 1 and leaf.physical:
            ranges[leaf.table] = source.physical_split(conn, table, parts, leaf.table)[0] or []
    return partition_bounds(leaves, ranges, chunk_bytes)


def partition_bounds(
    leaves: Sequence[LeafPartition],
    ranges: Mapping[TableRef, Sequence[ChunkBounds]],
    chunk_bytes: float,
) -> list[ChunkBounds]:
    """The chunks of `partition_chunks`, given each large leaf's physical `ranges`: every
    leaf is read by its ranges (when there are two or more) or in exactly one group."""
    bounds: list[ChunkBounds] = []
    group: list[TableRef] = []
    group_bytes = 0
    for leaf in leaves:
        split = ranges.get(leaf.table, ())
        if len(split) > 1:
            bounds += [
                ChunkBounds("physical", r.lower, r.upper, partitions=(leaf.table,)) for r in split
            ]
            continue
        if group and group_bytes + leaf.size_bytes > chunk_bytes:
            bounds.append(ChunkBounds("whole", partitions=tuple(group)))
            group, group_bytes = [], 0
        group.append(leaf.table)
        group_bytes += leaf.size_bytes
    if group:
        bounds.append(ChunkBounds("whole", partitions=tuple(group)))
    return bounds


def key_decision(
    conn: DbConn,
    source: Source,
    table: TableRef,
    columns: Sequence[Column],
    parts: int,
    cmp: str,
) -> Decision | None:
    """Ranges of the primary key, or None when the table has none (or its values cannot be
    stored as chunk bounds)."""
    pk = source.primary_key(conn, table)
    by_name = {c.name: c for c in columns}
    if not pk or any(name not in by_name for name in pk):
        return None
    names = ", ".join(pk)
    if len(pk) == 1 and _whole_numbers(by_name[pk[0]]):
        ranges = source.key_ranges(conn, table, pk[0], parts)
        return Decision("key", f"{cmp}, ranges of integer primary key {names}", ranges, (pk[0],))
    key = [by_name[name] for name in pk]
    rows = source.estimate_rows(conn, table)
    cuts = source.sample_boundaries(conn, table, key, rows, parts, native=True)
    try:
        for cut in cuts:
            encode_key(cut)
    except TypeError as exc:
        reason = f"{cmp}, but primary key ({names}) values cannot bound chunks ({exc}): one chunk"
        return Decision("whole", reason, [ChunkBounds("whole")])
    if not cuts:
        reason = f"{cmp}, but a sample of primary key ({names}) found one value: one chunk"
        return Decision("whole", reason, [ChunkBounds("whole")])
    ends = [None, *cuts, None]
    bounds = [ChunkBounds("key", lo, hi) for lo, hi in zip(ends, ends[1:], strict=False)]
    reason = f"{cmp}, ranges of primary key ({names}) cut at a sample"
    return Decision("key", reason, bounds, tuple(pk))


def _whole_numbers(column: Column) -> bool:
    """An integer column, or a decimal one of scale 0 (Oracle's NUMBER(*, 0) and INTEGER,
    PostgreSQL's numeric(p, 0)): its ranges are arithmetic, whatever its width."""
    return column.kind is ColumnKind.INTEGER or (
        column.kind is ColumnKind.DECIMAL and column.scale == 0
    )
