"""The C extension's exact sums of row batches (canonical/_rowsums.c) against Python's:
the same figures for every mix of values a driver hands over, and the same errors."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.model import Column, ColumnKind
from exporter.validation import sums as sums_module
from exporter.validation.float_sum import scaled
from exporter.validation.sums import ColumnSums

needs_c = pytest.mark.skipif(
    sums_module.C_ROW_SUMS is None, reason="the C extension is not built (no compiler)"
)

COLUMNS = (
    Column("i", "int8", ColumnKind.INTEGER),
    Column("d", "numeric", ColumnKind.DECIMAL),
    Column("f", "float8", ColumnKind.FLOAT),
    Column("t", "text", ColumnKind.STRING),
)

integers = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(2**80), 2**80),  # beyond 64 bits: left to Python
    st.booleans(),  # an int subclass: 1 and 0, as Python's sum adds them
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
)
extremes = st.sampled_from([5e-324, -5e-324, 1.7976931348623157e308])
doubles = st.one_of(st.none(), st.floats(), extremes)
decimals = st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False))


def _figures(rows: list[tuple[Any, ...]], batch: int, in_c: bool) -> tuple[Any, ...]:
    saved = sums_module.C_ROW_SUMS
    sums_module.C_ROW_SUMS = saved if in_c else None
    try:
        sums = ColumnSums(COLUMNS)
        for start in range(0, len(rows), batch):
            sums.add_rows(rows[start : start + batch])
        running = sums.floats["f"]
        return (
            sums.exact_json(),
            running.numerator,
            running.nan,
            running.pos_inf,
            running.neg_inf,
            repr(sums.float_json()["f"]),
        )
    finally:
        sums_module.C_ROW_SUMS = saved


@needs_c
@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(integers, decimals, doubles, st.none() | st.text()), max_size=80),
    st.integers(1, 30),
)
def test_c_sums_equal_python_sums(rows: list[tuple[Any, ...]], batch: int) -> None:
    assert _figures(rows, batch, True) == _figures(rows, batch, False)


@needs_c
def test_c_float_sum_is_the_exact_sum_in_units_of_the_smallest_subnormal() -> None:
    from exporter.canonical._rowtext import float_sum

    values = [0.1, -0.3, 5e-324, 1e308, 1e308, -1e308, 2.5, None, Decimal("0.1"), 7]
    numerator, flags = float_sum([(v,) for v in values], 0)
    present = [float(v) for v in values if v is not None]
    assert numerator == sum(map(scaled, present))
    assert Fraction(numerator, 2**1074) == sum(map(Fraction, present))
    assert flags == 0
    assert float_sum([(math.nan,), (math.inf,), (1.0,)], 0)[1] == 1 | 2
    assert float_sum([(-math.inf,)], 0) == (0, 4)


@needs_c
def test_c_int_sum_adds_64_bit_ints_and_hands_back_the_rest_in_order() -> None:
    from exporter.canonical._rowtext import int_sum

    rows = [(2**63 - 1,), (2**63 - 1,), (-(2**63),), (None,), (2**64,), (Decimal("1.5"),), (True,)]
    total, rest = int_sum(rows, 0)
    assert total == 2 * (2**63 - 1) - 2**63 + 1
    assert rest == [2**64, Decimal("1.5")]


@needs_c
def test_c_sums_raise_what_float_raises_and_read_any_sequence() -> None:
    from exporter.canonical._rowtext import float_sum, int_sum

    with pytest.raises(ValueError):
        float_sum([(1.0,), ("not a number",)], 0)
    with pytest.raises(IndexError):
        int_sum([(1,), ()], 0)
    assert int_sum([[1, 2], [3, 4]], 1) == (6, [])  # lists, not tuples
    assert float_sum(iter([(0.5,), (0.25,)]), 0)[0] == scaled(0.75)
