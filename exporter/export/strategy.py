"""How one table is cut into chunks: the planner's decision, with its reason.

A table up to the threshold is one chunk. A larger one is cut, in this order of preference:
a partitioned table per leaf partition (each leaf read on its own, so the database prunes to
it; leaves larger than a chunk split by physical ranges, small ones grouped); any other table
by ranges of its physical locator; failing that, by ranges of its primary key: arithmetic
steps for a single integer column, cut points from a sample of the key for any other key
(composite, text, dates), in the key columns' own order so their index serves each range.
`chunk_strategy` narrows the choice; every decision is one log line (planner.py).

The ladder is climbed in one place (`_climb`), in two ways: `decide_chunks` cuts the chunks
(the planner), `describe_strategy` only tells which step a table would take and why, from
catalog facts alone (`check`: no extents map, sample or key range is read). Both take the
same steps with the same reasons, so they cannot drift apart; only what the cutting itself
finds (a sample of one value, a table with no locator ranges after all) can differ.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from exporter.config.models import ExportSettings
from exporter.keys import encode_key
from exporter.model import BoundsKind, ChunkBounds, Column, ColumnKind, TableRef
from exporter.sources.base import DbConn, Source
from exporter.sources.ranges import BYTES_PER_GB, BYTES_PER_MB, parts_for
from exporter.sources.values import LeafPartition


@dataclass(frozen=True)
class Decision:
    """A table's strategy, why, its chunks' bounds, and the key columns they range over."""

    strategy: BoundsKind
    reason: str
    bounds: list[ChunkBounds]
    split_columns: tuple[str, ...] = ()
    aimed: int = 1
    """How many chunks the table is cut into: `len(bounds)` once cut; what `describe_strategy`
    aims at without cutting (its `bounds` are empty)."""


def size_text(size: float) -> str:
    """Bytes as a person reads them: `10.2 MB`."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    raise AssertionError


class _Steps(ABC):
    """How the ladder's steps are taken for one table: by cutting its chunks, or by telling
    what they would be. The primary key and its reasons are the same either way."""

    def __init__(
        self, conn: DbConn, source: Source, table: TableRef, columns: Sequence[Column]
    ) -> None:
        self.conn, self.source, self.table, self.columns = conn, source, table, columns

    @abstractmethod
    def partitions(
        self, leaves: Sequence[LeafPartition], chunk_bytes: float
    ) -> tuple[list[ChunkBounds], int]:
        """Chunks reading each leaf partition on its own, and how many there are."""

    @abstractmethod
    def physical(self, parts: int) -> tuple[list[ChunkBounds] | None, str]:
        """About `parts` physical ranges and what they are cut from; None: the table has none."""

    @abstractmethod
    def integer_key(self, column: str, parts: int) -> list[ChunkBounds]:
        """About `parts` arithmetic ranges of an integer key column."""

    @abstractmethod
    def sampled_key(self, key: Sequence[Column], parts: int, cmp: str, reason: str) -> Decision:
        """Ranges of `key` cut at a sample, given as `reason`; what the sample allows."""

    def split_key(self) -> tuple[list[str], str]:
        """The key to range over and what it is: the primary key, else the first unique key
        whose columns are all exported and NOT NULL (a NULL is in no range); none: ([], "")."""
        pk = self.source.primary_key(self.conn, self.table)
        by_name = {c.name: c for c in self.columns}
        if pk and all(name in by_name for name in pk):
            return pk, "primary key"
        for name, columns in self.source.unique_keys(self.conn, self.table).items():
            if all(c in by_name and not by_name[c].nullable for c in columns):
                return columns, f"unique key {name}"
        return [], ""

    def key(self, parts: int, cmp: str) -> Decision | None:
        """Ranges of the primary key or a NOT NULL unique key, or None when there is none."""
        key, what = self.split_key()
        if not key:
            return None
        by_name = {c.name: c for c in self.columns}
        names = ", ".join(key)
        if len(key) == 1 and _whole_numbers(by_name[key[0]]):
            reason = f"{cmp}, ranges of integer {what} {names}"
            bounds = self.integer_key(key[0], parts)
            return Decision("key", reason, bounds, (key[0],), len(bounds) or parts)
        reason = f"{cmp}, ranges of {what} ({names}) cut at a sample"
        return self.sampled_key([by_name[name] for name in key], parts, cmp, reason)


def _climb(
    steps: _Steps,
    settings: ExportSettings,
    size: int,
    leaves: Sequence[LeafPartition],
    size_note: str,
) -> Decision:
    """The ladder: whole when small; else per partition, physical ranges, key ranges, whole,
    as `chunk_strategy` allows, each step with its reason."""
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
            bounds, aimed = steps.partitions(leaves, chunk_bytes)
            return Decision("partitions", f"{cmp}, per partition", bounds, (), aimed)
        if steps.source.dialect.supports_physical_split:
            ranges, basis = steps.physical(parts)
            if ranges is not None:
                return Decision("physical", f"{cmp}, {basis}", ranges, (), len(ranges) or parts)
            tried.append("the table has no physical locator ranges")
        else:
            tried.append("the engine has no physical split")
    decision = steps.key(parts, cmp)
    if decision is not None:
        return decision
    tried.append("no primary key or NOT NULL unique key to range over")
    return Decision("whole", f"{cmp}, but {' and '.join(tried)}: one chunk", whole)


class _Cut(_Steps):
    """The planner's steps: every bound is found, reading whatever each step needs."""

    def partitions(
        self, leaves: Sequence[LeafPartition], chunk_bytes: float
    ) -> tuple[list[ChunkBounds], int]:
        bounds = partition_chunks(self.conn, self.source, self.table, leaves, chunk_bytes)
        return bounds, len(bounds)

    def physical(self, parts: int) -> tuple[list[ChunkBounds] | None, str]:
        ranges, basis = self.source.physical_split(self.conn, self.table, parts)
        return ranges or None, basis

    def integer_key(self, column: str, parts: int) -> list[ChunkBounds]:
        return self.source.key_ranges(self.conn, self.table, column, parts)

    def sampled_key(self, key: Sequence[Column], parts: int, cmp: str, reason: str) -> Decision:
        names = ", ".join(c.name for c in key)
        rows = self.source.estimate_rows(self.conn, self.table)
        cuts = self.source.sample_boundaries(self.conn, self.table, key, rows, parts, native=True)
        try:
            for cut in cuts:
                encode_key(cut)
        except TypeError as exc:
            why = f"{cmp}, but primary key ({names}) values cannot bound chunks ({exc}): one chunk"
            return Decision("whole", why, [ChunkBounds("whole")])
        if not cuts:
            why = f"{cmp}, but a sample of primary key ({names}) found one value: one chunk"
            return Decision("whole", why, [ChunkBounds("whole")])
        ends = [None, *cuts, None]
        bounds = [ChunkBounds("key", lo, hi) for lo, hi in zip(ends, ends[1:], strict=False)]
        return Decision("key", reason, bounds, tuple(c.name for c in key), len(bounds))


class _Tell(_Steps):
    """`check`'s steps: which step a table takes, from catalog facts; no bound is found."""

    def partitions(
        self, leaves: Sequence[LeafPartition], chunk_bytes: float
    ) -> tuple[list[ChunkBounds], int]:
        # As many chunks as partition_bounds makes when every large leaf splits as aimed.
        aimed = {
            leaf.table: [ChunkBounds("physical")] * math.ceil(leaf.size_bytes / chunk_bytes)
            for leaf in leaves
            if leaf.physical and leaf.size_bytes > chunk_bytes
        }
        return [], len(partition_bounds(leaves, aimed, chunk_bytes))

    def physical(self, parts: int) -> tuple[list[ChunkBounds] | None, str]:
        basis = self.source.physical_outlook(self.conn, self.table)
        return ([], basis) if basis is not None else (None, "")

    def integer_key(self, column: str, parts: int) -> list[ChunkBounds]:
        return []

    def sampled_key(self, key: Sequence[Column], parts: int, cmp: str, reason: str) -> Decision:
        return Decision("key", reason, [], tuple(c.name for c in key), parts)


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
    return _climb(_Cut(conn, source, table, columns), settings, size, leaves, size_note)


def describe_strategy(
    conn: DbConn,
    source: Source,
    settings: ExportSettings,
    table: TableRef,
    columns: Sequence[Column],
    size: int,
    leaves: Sequence[LeafPartition] = (),
    size_note: str = "",
) -> Decision:
    """The strategy `decide_chunks` would give `table`, and why, with no bounds: told from the
    catalog (primary key, partitions, the engine's flags, Source.physical_outlook) without
    reading an extents map, a sample or a key range. `aimed` is the chunk count aimed at."""
    return _climb(_Tell(conn, source, table, columns), settings, size, leaves, size_note)


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


def _whole_numbers(column: Column) -> bool:
    """An integer column, or a decimal one of scale 0 (Oracle's NUMBER(*, 0) and INTEGER,
    PostgreSQL's numeric(p, 0)): its ranges are arithmetic, whatever its width."""
    return column.kind is ColumnKind.INTEGER or (
        column.kind is ColumnKind.DECIMAL and column.scale == 0
    )
