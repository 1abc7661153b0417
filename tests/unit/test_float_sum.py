"""validation/float_sum.py: exact sums of doubles, inside Arrow and in Python, against Fraction."""

from __future__ import annotations

import math
import struct
from fractions import Fraction

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.validation.float_sum import ExactFloatSum, float_total, scaled

# Every kind of double: normal, subnormal, zeros of both signs, the extremes, and values
# whose sum cancels or overflows.
DOUBLES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e-300, max_value=1e-300),  # subnormals and zeros
    st.sampled_from(
        [
            5e-324,
            -5e-324,
            2.2250738585072014e-308,
            1.7976931348623157e308,
            -1.7976931348623157e308,
            1e20,
            -1e20,
            1.0,
            -0.0,
            0.0,
        ]
    ),
)


def _reference(values: list[float]) -> float:
    """The exact sum by Fraction, rounded once (with IEEE infinities and NaN)."""
    if any(math.isnan(v) for v in values) or (math.inf in values and -math.inf in values):
        return math.nan
    if math.inf in values or -math.inf in values:
        return math.inf if math.inf in values else -math.inf
    exact = sum(map(Fraction, values), Fraction(0))
    try:
        return float(exact)
    except OverflowError:
        return math.inf if exact > 0 else -math.inf


def _same(a: float, b: float) -> bool:
    # An exact zero sum is +0.0 whatever the signs of the zeros added.
    return (math.isnan(a) and math.isnan(b)) or (a == b and (a != 0 or not math.copysign(1, a) < 0))


@settings(max_examples=300)
@given(st.lists(DOUBLES, max_size=50), st.lists(st.integers(0, 50), max_size=5))
def test_arrow_and_python_sums_are_the_exact_sum_rounded_once(
    values: list[float], cuts: list[int]
) -> None:
    edges = [0, *sorted(min(c, len(values)) for c in cuts), len(values)]
    in_arrow, in_python = ExactFloatSum(), ExactFloatSum()
    for lo, hi in zip(edges, edges[1:], strict=False):
        in_arrow.add_arrow(pa.array(values[lo:hi], pa.float64()))
        in_python.add_values(values[lo:hi])
    expected = _reference(values)
    assert in_arrow.numerator == in_python.numerator
    assert _same(in_arrow.total(), expected)
    assert _same(in_python.total(), expected)


@given(st.lists(st.one_of(st.none(), DOUBLES, st.sampled_from([math.inf, -math.inf, math.nan]))))
def test_arrow_sum_skips_nulls_and_takes_ieee_specials(values: list[float | None]) -> None:
    present = [v for v in values if v is not None]
    running = ExactFloatSum()
    running.add_arrow(pa.array(values, pa.float64()))
    assert _same(running.total(), _reference(present))


def test_a_sliced_array_is_read_from_its_offset() -> None:
    array = pa.array([1e300, 1.5, -2.25, 1e-300, 7.0], pa.float64()).slice(1, 3)
    running = ExactFloatSum()
    running.add_arrow(array)
    assert running.numerator == sum(map(scaled, [1.5, -2.25, 1e-300]))


@given(st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), max_size=30))
def test_float32_is_widened_exactly(values: list[float]) -> None:
    running = ExactFloatSum()
    running.add_arrow(pa.array(values, pa.float32()))
    assert _same(running.total(), _reference(values))


def test_batches_that_round_or_overflow_alone_still_give_the_exact_sum() -> None:
    running = ExactFloatSum()
    for batch in ([1e308, 1e308], [-1e308, -1e308], [5.0], [1e20], [1.0, -1e20]):
        running.add_arrow(pa.array(batch, pa.float64()))
    assert running.total() == 6.0
    assert float_total([1e308] * 3) == math.inf
    assert float_total([-1e308] * 3) == -math.inf


def test_scaled_is_the_value_in_units_of_the_smallest_subnormal() -> None:
    smallest = struct.unpack("<d", struct.pack("<q", 1))[0]
    assert scaled(smallest) == 1
    assert scaled(-1.0) == -(2**1074)
    assert scaled(0.5) == 2**1073


def test_many_values_with_the_widest_significand_do_not_overflow_a_half() -> None:
    widest = 1.9999999999999998  # significand 2**53 - 1
    running = ExactFloatSum()
    running.add_arrow(pa.array([widest, -widest / 2**600] * 150_000, pa.float64()))
    assert running.numerator == 150_000 * (scaled(widest) + scaled(-widest / 2**600))


def test_python_floats_alone_never_import_pyarrow() -> None:
    """The coordinator and the row-path workers sum Python floats only: pyarrow costs a
    process some 50 MB, so it must not be imported for them."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from exporter.validation.float_sum import ExactFloatSum, float_total\n"
        "s = ExactFloatSum(); s.add_values([1.5, 1e300, -1e300]); assert s.total() == 1.5\n"
        "assert float_total([0.1] * 10) == 1.0\n"
        "assert 'pyarrow' not in sys.modules, 'pyarrow imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_chunked_array_is_summed_chunk_by_chunk() -> None:
    values = [1e20, 1.0, -1e20, 2.5]
    running = ExactFloatSum()
    running.add_arrow(pa.chunked_array([values[:2], values[2:]], pa.float64()))
    assert running.total() == 3.5
