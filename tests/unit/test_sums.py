"""Exact sums outside Python's Decimal: 64-bit integers inside Arrow, and floating sums that
stay exact however the values are cut into batches (the worker's fetches, the reader's
blocks)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.model import Column, ColumnKind
from exporter.validation.float_sum import float_total
from exporter.validation.sums import ColumnSums


@given(
    st.lists(st.integers(-(2**63), 2**63 - 1), max_size=60),
    st.sampled_from(["int64", "text"]),
)
def test_arrow_exact_sum_of_64_bit_integers_is_exact(values: list[int], form: str) -> None:
    import pyarrow as pa

    from exporter.validation.sums import arrow_exact_sum

    array = pa.array(values, pa.int64())
    if form == "text":
        array = array.cast(pa.string())
    total = arrow_exact_sum(array, pa.decimal256(76, 0))
    assert total == (sum(values) if values else None)


def test_arrow_exact_sum_beyond_64_bits_uses_decimals() -> None:
    import pyarrow as pa

    from exporter.validation.sums import arrow_exact_sum

    values = ["99999999999999999999999999999999999999", "-1", "18446744073709551616"]
    total = arrow_exact_sum(pa.array(values), pa.decimal256(76, 0))
    assert total == sum(map(int, values))


def _float_sum_in_batches(values: list[float], cuts: list[int]) -> float:
    sums = ColumnSums([Column("f", "float8", ColumnKind.FLOAT)])
    edges = [0, *sorted(cuts), len(values)]
    for lo, hi in zip(edges, edges[1:], strict=False):
        sums.add_floats("f", values[lo:hi])
    return sums.float_json()["f"]


def _same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=False), st.sampled_from([1e308, -1e308, 1e20, 1.0])),
        max_size=40,
    ),
    st.lists(st.integers(0, 40), max_size=6),
)
def test_float_sums_in_batches_equal_the_sum_of_everything(
    values: list[float], cuts: list[int]
) -> None:
    """Batches may round differently (the worker's fetches, the reader's blocks): the running
    sum stays exact, so every batching gives the correctly rounded sum of all values."""
    cuts = [min(c, len(values)) for c in cuts]
    assert _same_float(_float_sum_in_batches(values, cuts), float_total(values))


def test_float_sums_survive_a_batch_that_rounds_and_one_that_overflows() -> None:
    # 1e20 + 1 rounds to 1e20 in the first batch; the 1 must not be lost.
    assert _float_sum_in_batches([1e20, 1.0, -1e20], [2]) == 1.0
    # each batch overflows on its own; together they cancel
    assert _float_sum_in_batches([1e308, 1e308, -1e308, -1e308, 5.0], [2]) == 5.0
    assert _float_sum_in_batches([1e308] * 3, [1, 2]) == math.inf
    assert math.isnan(_float_sum_in_batches([math.inf, 1.0, -math.inf], [1]))
