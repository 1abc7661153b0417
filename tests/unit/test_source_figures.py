"""validation/source_figures.py: the workers' figures of their chunks add up exactly, and only
stand for the table where the plan's ranges cover it once and one snapshot holds them all."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exporter.model import (
    Chunk,
    ChunkBounds,
    ChunkStats,
    Column,
    ColumnKind,
    FileFormat,
    TablePlan,
    TableRef,
)
from exporter.validation.source_figures import add_figures, coverage_gap, table_figures

COLUMNS = (
    Column("id", "int8", ColumnKind.INTEGER),
    Column("amount", "numeric", ColumnKind.DECIMAL, precision=38, scale=10),
)
P1, P2 = TableRef("PARTITION", "P1"), TableRef("PARTITION", "P2")


def _plan(strategy: str, *bounds: ChunkBounds) -> TablePlan:
    return TablePlan(
        table=TableRef("s", "t"),
        columns=COLUMNS,
        size_bytes=1,
        strategy=strategy,  # type: ignore[arg-type]
        reason="test",
        chunks=tuple(Chunk(i, b) for i, b in enumerate(bounds)),
        file_format=FileFormat("\\N", False),
    )


def test_exact_sums_of_many_reads_never_round() -> None:
    big = "12345678901234567890123456789.0123456789"
    rows, sums = add_figures(
        [(2, [10**30, Decimal(big)]), (3, [1, None]), (0, [None, None])], COLUMNS
    )
    assert rows == 5
    assert sums == {"id": str(10**30 + 1), "amount": big}


def test_a_column_without_any_value_has_no_sum() -> None:
    assert add_figures([(4, [None, None])], COLUMNS) == (4, {"id": None, "amount": None})


def _stats(index: int, rows: int | None, snapshot: str | None = "scn-1") -> ChunkStats:
    sums = {"id": str(index + 1), "amount": None} if rows is not None else None
    return ChunkStats(
        index, f"c{index}", 0, 0, 0.0, snapshot=snapshot, source_rows=rows, source_sums=sums
    )


def test_the_table_figures_are_the_sum_of_the_chunks() -> None:
    figures = table_figures([_stats(0, 10), _stats(1, 5), _stats(2, 0)], COLUMNS)
    assert figures == (15, [Decimal(6), None])


@pytest.mark.parametrize(
    "stats",
    [
        [_stats(0, 10), _stats(1, None)],  # a chunk written before figures were taken
        [_stats(0, 10), _stats(1, 5, snapshot="scn-2")],  # two images
        [_stats(0, 10, snapshot=None), _stats(1, 5, snapshot=None)],  # no shared snapshot
        [],
    ],
    ids=["missing", "two snapshots", "no snapshot", "no chunk"],
)
def test_chunk_figures_do_not_stand_for_the_table(stats: list[ChunkStats]) -> None:
    assert table_figures(stats, COLUMNS) is None


def test_contiguous_ranges_from_unbounded_to_unbounded_cover_the_table() -> None:
    plan = _plan(
        "physical",
        ChunkBounds("physical", None, "AAB"),
        ChunkBounds("physical", "AAB", "AAC"),
        ChunkBounds("physical", "AAC", None),
    )
    assert coverage_gap(plan) is None
    assert coverage_gap(_plan("whole", ChunkBounds("whole"))) is None
    composite = _plan("key", ChunkBounds("key", None, (5, "x")), ChunkBounds("key", (5, "x"), None))
    assert coverage_gap(composite) is None


@pytest.mark.parametrize(
    ("bounds", "why"),
    [
        ((ChunkBounds("key", None, 10), ChunkBounds("key", 11, None)), "does not start where"),
        ((ChunkBounds("key", None, 10), ChunkBounds("key", 5, None)), "does not start where"),
        ((ChunkBounds("key", 0, 10), ChunkBounds("key", 10, None)), "first range has a lower"),
        ((ChunkBounds("key", None, 10), ChunkBounds("key", 10, 20)), "last an upper end"),
        ((ChunkBounds("key", None, 10), ChunkBounds("whole")), "several kinds"),
    ],
    ids=["gap", "overlap", "bounded below", "bounded above", "mixed"],
)
def test_ranges_with_a_gap_or_an_overlap_are_named(
    bounds: tuple[ChunkBounds, ...], why: str
) -> None:
    gap = coverage_gap(_plan("key", *bounds))
    assert gap is not None and why in gap


def test_partitions_are_covered_whole_or_by_ranges_each_once() -> None:
    whole_both = ChunkBounds("whole", partitions=(P1, P2))
    assert coverage_gap(_plan("partitions", whole_both)) is None
    split_p2 = (
        ChunkBounds("whole", partitions=(P1,)),
        ChunkBounds("physical", None, "X", partitions=(P2,)),
        ChunkBounds("physical", "X", None, partitions=(P2,)),
    )
    assert coverage_gap(_plan("partitions", *split_p2)) is None
    twice = (whole_both, ChunkBounds("physical", None, None, partitions=(P2,)))
    assert "P2" in (coverage_gap(_plan("partitions", *twice)) or "")
    open_gap = (
        ChunkBounds("whole", partitions=(P1,)),
        ChunkBounds("physical", None, "X", partitions=(P2,)),
        ChunkBounds("physical", "Y", None, partitions=(P2,)),
    )
    assert "partition P2: chunk 2" in (coverage_gap(_plan("partitions", *open_gap)) or "")
