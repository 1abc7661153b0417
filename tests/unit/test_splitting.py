"""exporter/sources/ranges.py: chunk counts and half-open integer ranges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporter.sources.ranges import BYTES_PER_GB, BYTES_PER_MB, parts_for, split_int_range

Range = tuple[int | None, int | None]


def contains(rng: Range, value: int) -> bool:
    lower, upper = rng
    return (lower is None or value >= lower) and (upper is None or value < upper)


def test_docstring_example() -> None:
    assert split_int_range(1, 100, 4) == [(None, 26), (26, 51), (51, 76), (76, None)]


def test_one_part_is_unbounded() -> None:
    assert split_int_range(5, 5, 1) == [(None, None)]
    assert split_int_range(-3, 10**12, 1) == [(None, None)]


def test_more_parts_than_values_gives_one_range_per_value() -> None:
    assert split_int_range(10, 12, 50) == [(None, 11), (11, 12), (12, None)]


@pytest.mark.parametrize("parts", [0, -1])
def test_parts_below_one_is_an_error(parts: int) -> None:
    with pytest.raises(ValueError):
        split_int_range(0, 10, parts)


@given(
    lo=st.integers(-(10**6), 10**6),
    width=st.integers(1, 400),
    parts=st.integers(1, 60),
)
def test_every_integer_falls_in_exactly_one_range(lo: int, width: int, parts: int) -> None:
    hi = lo + width - 1
    ranges = split_int_range(lo, hi, parts)
    assert 1 <= len(ranges) <= parts
    assert len(ranges) == min(parts, width)
    assert ranges[0][0] is None and ranges[-1][1] is None
    for value in range(lo - 5, hi + 6):
        assert sum(contains(r, value) for r in ranges) == 1, value
    # Every range holds at least one value of [lo, hi]: no empty chunks at planning time.
    for rng in ranges:
        assert any(contains(rng, v) for v in range(lo, hi + 1))


@given(
    lo=st.integers(-(2**63), 2**63 - 1),
    span=st.integers(0, 2**64),
    parts=st.integers(1, 300),
    probes=st.lists(st.integers(-(2**65), 2**65), max_size=20),
)
def test_wide_ranges_are_contiguous_and_balanced(
    lo: int, span: int, parts: int, probes: list[int]
) -> None:
    hi = lo + span
    ranges = split_int_range(lo, hi, parts)
    assert len(ranges) <= parts
    # Contiguous, strictly increasing cut points: no gap and no overlap.
    cuts = [upper for _, upper in ranges[:-1]]
    assert cuts == [lower for lower, _ in ranges[1:]]
    assert all(c is not None for c in cuts)
    assert all(a < b for a, b in zip(cuts, cuts[1:], strict=False))  # type: ignore[operator]
    assert all(lo < c <= hi for c in cuts)  # type: ignore[operator]
    # Each part holds floor or ceil of (hi - lo + 1) / parts values of [lo, hi].
    edges = [lo, *cuts, hi + 1]
    sizes = [b - a for a, b in zip(edges, edges[1:], strict=False)]  # type: ignore[operator]
    assert sum(sizes) == hi - lo + 1
    assert max(sizes) - min(sizes) <= 1
    boundaries = [v for c in cuts[:5] + cuts[-5:] if c is not None for v in (c - 1, c)]
    for value in [*probes, lo, hi, lo - 1, hi + 1, *boundaries]:
        assert sum(contains(r, value) for r in ranges) == 1


@pytest.mark.parametrize(
    ("size", "threshold", "chunk", "expected"),
    [
        (0, 0, 1, 1),  # an empty table is one chunk even with threshold 0
        (10, 10, 1, 1),  # at the threshold: not split
        (11, 10, 1000, 2),  # just above: at least two chunks
        (BYTES_PER_GB + 1, BYTES_PER_GB, 512 * BYTES_PER_MB, 3),
        (2 * BYTES_PER_GB, BYTES_PER_GB, 512 * BYTES_PER_MB, 4),
        (10 * BYTES_PER_GB, 1.0 * BYTES_PER_GB, 512 * BYTES_PER_MB, 20),
        (4 * BYTES_PER_MB, 0.001 * BYTES_PER_GB, 1 * BYTES_PER_MB, 4),  # config/demo.yaml
    ],
)
def test_parts_for_thresholds(size: int, threshold: float, chunk: float, expected: int) -> None:
    assert parts_for(size, threshold, chunk) == expected


@given(
    size=st.integers(0, 2**50),
    threshold=st.integers(0, 2**45),
    chunk=st.integers(1, 2**40),
)
def test_parts_for_properties(size: int, threshold: int, chunk: int) -> None:
    parts = parts_for(size, threshold, chunk)
    if size <= threshold:
        assert parts == 1
    else:
        assert parts >= 2
        assert parts == max(2, -(-size // chunk))  # exact ceiling
        # No chunk is aimed above the chunk size (unless forced to 2 parts).
        assert parts == 2 or size / parts <= chunk
