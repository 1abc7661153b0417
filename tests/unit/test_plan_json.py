"""Frozen plans (config/plan.json) round-trip exactly, including key bounds of any type and
the leaf partitions chunks read; plans of the older integer-key form still load and are
written back unchanged. And how a partitioned table's leaves become chunks."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from exporter.export.strategy import partition_bounds
from exporter.model import (
    Chunk,
    ChunkBounds,
    Column,
    ColumnKind,
    FileFormat,
    TablePlan,
    TableRef,
)
from exporter.sources.values import LeafPartition

COLUMNS = (
    Column("id", "int8", ColumnKind.INTEGER, nullable=False),
    Column("at", "timestamptz", ColumnKind.TIMESTAMP, nullable=False),
)
LOW = (7, dt.datetime(2024, 3, 1, 12, 0, 0, 5, tzinfo=dt.timezone.utc))
HIGH = (2**63 - 1, dt.datetime(2024, 5, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))))


def _plan(chunks: tuple[Chunk, ...], split: tuple[str, ...]) -> TablePlan:
    return TablePlan(
        TableRef("s", "t"), COLUMNS, 10, "key", "r", chunks, FileFormat("\\N", True), split
    )


def _through_json(plan: TablePlan) -> TablePlan:
    return TablePlan.from_json(json.loads(json.dumps(plan.to_json())))


def test_composite_key_bounds_and_partitions_round_trip() -> None:
    leaf = TableRef("s", "t_2024")
    odd = ("é\n\"x'", b"\x00\xff", Decimal("-0.000000000000000000001"), uuid.UUID(int=5))
    chunks = (
        Chunk(0, ChunkBounds("key", None, LOW)),
        Chunk(1, ChunkBounds("key", LOW, HIGH)),
        Chunk(2, ChunkBounds("key", HIGH, None)),
        Chunk(3, ChunkBounds("key", odd, None)),
        Chunk(4, ChunkBounds("physical", 3, 9, partitions=(leaf,))),
        Chunk(5, ChunkBounds("whole", partitions=(TableRef("s", "a"), TableRef("s", "b")))),
    )
    plan = _plan(chunks, ("id", "at"))

    again = _through_json(plan)

    assert again == plan
    assert again.chunks[1].bounds.lower[1].utcoffset() == dt.timedelta(0)  # type: ignore[index]
    assert again.partitions == (TableRef("s", "a"), TableRef("s", "b"), leaf)


def test_a_plan_of_the_integer_key_form_loads_and_is_written_back_unchanged() -> None:
    old = {
        "schema": "s",
        "table": "t",
        "size_bytes": 10,
        "strategy": "key",
        "reason": "r",
        "split_column": "id",
        "file_format": {"null_marker": "\\N", "row_hash": True},
        "columns": [c.to_json() for c in COLUMNS],
        "chunks": [
            {"index": 0, "kind": "key", "lower": None, "upper": 50},
            {"index": 1, "kind": "key", "lower": 50, "upper": None},
        ],
        "created_at": "2026-01-01T00:00:00+00:00",
        "tool_version": "0.1.0",
    }

    plan = TablePlan.from_json(old)

    assert plan.split_columns == ("id",) and plan.split_column == "id"
    assert [c.bounds for c in plan.chunks] == [
        ChunkBounds("key", None, 50),
        ChunkBounds("key", 50, None),
    ]
    assert plan.to_json() == old


@given(
    st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 4)), min_size=1, max_size=30),
    st.integers(100, 3000),
)
def test_every_leaf_is_read_once_by_its_ranges_or_in_one_group(
    specs: list[tuple[int, int]], chunk_bytes: int
) -> None:
    leaves = [
        LeafPartition(TableRef("s", f"p{i:02d}"), size, True) for i, (size, _) in enumerate(specs)
    ]
    ranges = {
        leaf.table: [ChunkBounds("physical", i, i + 1) for i in range(n)]
        for leaf, (_, n) in zip(leaves, specs, strict=True)
        if n
    }

    bounds = partition_bounds(leaves, ranges, chunk_bytes)

    sizes = {leaf.table: leaf.size_bytes for leaf in leaves}
    for leaf in leaves:
        reading = [b for b in bounds if leaf.table in b.partitions]
        if len(ranges.get(leaf.table, ())) > 1:  # split: one chunk per range, alone
            assert [(b.kind, b.lower, b.partitions) for b in reading] == [
                ("physical", i, (leaf.table,)) for i in range(len(ranges[leaf.table]))
            ]
        else:  # whole, in exactly one group
            assert len(reading) == 1 and reading[0].kind == "whole"
    for b in bounds:
        if b.kind == "whole" and len(b.partitions) > 1:  # a group stays within a chunk's size
            assert sum(sizes[t] for t in b.partitions) <= chunk_bytes


def test_chunk_stats_json_is_strict_and_keeps_nan_and_infinities() -> None:
    import json
    import math

    from exporter.model import ChunkStats

    stats = ChunkStats(
        index=0,
        file_name="data_chunk_0.csv.gz",
        rows=3,
        bytes_written=10,
        seconds=0.5,
        float_sums={"a": math.nan, "b": math.inf, "c": -math.inf, "d": 0.1},
    )
    text = json.dumps(stats.to_json(), allow_nan=False)  # raises on a bare NaN or Infinity
    assert json.loads(text)["float_sums"] == {
        "a": "NaN",
        "b": "Infinity",
        "c": "-Infinity",
        "d": 0.1,
    }
    back = ChunkStats.from_json(json.loads(text)).float_sums or {}
    assert math.isnan(back["a"]) and back["b"] == math.inf and back["c"] == -math.inf
    assert back["d"] == 0.1
    # Sidecars written before carry bare NaN literals, which Python's json reads.
    old = json.loads(json.dumps(stats.to_json() | {"float_sums": {"a": math.nan}}))
    assert math.isnan((ChunkStats.from_json(old).float_sums or {})["a"])
