"""ExactFloatSum: the exact sum of any number of doubles, fed batch by batch, rounded once.

Every finite double is an integer multiple of 2**-1074 (the smallest subnormal), so the exact
sum of any of them is one Python integer, N * 2**-1074, and adding batches is adding
integers: no batch boundary can change the result. The total is N / 2**1074 correctly
rounded (Python's int division rounds correctly), an infinity where it overflows, and the
IEEE result where the values hold infinities or NaN.

Two ways in:
- `add_arrow`, for Arrow arrays (the Arrow batch path and the read-back of files): inside Arrow,
  with no Python object per value. Each double's bits are split into sign, exponent and 53-bit
  significand; the significands are summed per exponent (sorted by exponent, running sums)
  as two halves of 26 and 27 bits, which no 64-bit sum can overflow here, and only the
  per-exponent sums, at most 2046 of them, become Python integers.
- `add_values`, for Python floats (the row paths): math.fsum, then the fsum of what is left,
  until nothing is; each fsum is correctly rounded, so a few terms hold the exact sum.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from exporter.canonical.arrow_scalars import scalar

SCALE_BITS = 1074  # 2**-1074: the smallest subnormal double, of which all doubles are multiples
_HALF_BITS = 26
_SLICE = 2**30  # values summed per Arrow pass: far below the 2**36 that would overflow a half
# Arrow arrays are held until this many values, then summed in one pass: a pass costs about
# a millisecond whatever its size, against 20-30 ns a value. 2**15 keeps a
# process's memory flat: with 2**17, a read-back process peaked 10 MB higher on 375k-row
# chunks than on 37k-row ones (the allocator keeping the larger passes' arrays).
_PENDING_VALUES = 2**15
_MAX_TERMS = 64  # fsum remainders; an exact sum of doubles needs far fewer


def _i64(value: int) -> Any:
    return scalar(value, "int64")


def scaled(value: float) -> int:
    """A finite double as an integer number of 2**-1074."""
    numerator, denominator = value.as_integer_ratio()
    return numerator << (SCALE_BITS - denominator.bit_length() + 1)


class ExactFloatSum:
    """A running exact sum of doubles: `numerator` units of 2**-1074, and which of NaN, +inf
    and -inf were seen."""

    def __init__(self) -> None:
        self._numerator = 0
        self.nan = self.pos_inf = self.neg_inf = False
        # Doubles added as Arrow arrays and not yet summed: their bytes, copied (add_arrow).
        self._pending = bytearray()

    @property
    def numerator(self) -> int:
        """The exact sum so far, in units of 2**-1074 (infinities and NaN aside)."""
        self._sum_pending()
        return self._numerator

    def add_values(self, values: Iterable[float]) -> None:
        """Add Python floats."""
        numbers = list(values)
        if not numbers:
            return
        try:
            terms = [math.fsum(numbers)]
        except (OverflowError, ValueError):  # an intermediate overflow, or +inf with -inf
            terms = []
        if not terms or not math.isfinite(terms[0]):
            self._add_one_by_one(numbers)
            return
        work = [*numbers, -terms[0]]  # the values less the terms so far
        while len(terms) < _MAX_TERMS:
            try:
                rest = math.fsum(work)
            except OverflowError:
                break
            if rest == 0:
                self._numerator += sum(map(scaled, terms))
                return
            terms.append(rest)
            work.append(-rest)
        self._add_one_by_one(numbers)

    def add_scaled(self, numerator: int, flags: int) -> None:
        """Add a sum taken elsewhere (canonical/_rowsums.c): `numerator` units of 2**-1074
        over finite values, and flags 1, 2, 4 where NaN, +inf, -inf were among them."""
        self._numerator += numerator
        self.nan |= bool(flags & 1)
        self.pos_inf |= bool(flags & 2)
        self.neg_inf |= bool(flags & 4)

    def _add_one_by_one(self, numbers: list[float]) -> None:
        for value in numbers:
            if math.isfinite(value):
                self._numerator += scaled(value)
            else:
                self._special(value)

    def _special(self, value: float) -> None:
        if math.isnan(value):
            self.nan = True
        elif value > 0:
            self.pos_inf = True
        else:
            self.neg_inf = True

    def add_arrow(self, values: Any) -> None:
        """Add an Arrow array of doubles (or float32, widened exactly); NULLs are skipped."""
        import pyarrow as pa

        if isinstance(values, pa.ChunkedArray):
            for chunk in values.chunks:
                self.add_arrow(chunk)
            return
        doubles = values.drop_null().cast(pa.float64())
        # Copied out, so that no Arrow array outlives the reader's block it came from.
        start = doubles.offset * 8
        self._pending += doubles.buffers()[1][start : start + len(doubles) * 8]
        if len(self._pending) >= _PENDING_VALUES * 8:
            self._sum_pending()

    def _sum_pending(self) -> None:
        if not self._pending:
            return  # before importing pyarrow: processes that never add Arrow arrays skip it
        import pyarrow as pa
        import pyarrow.compute as pc

        data, self._pending = self._pending, bytearray()  # never resized once Arrow holds it
        doubles = pa.Array.from_buffers(pa.float64(), len(data) // 8, [None, pa.py_buffer(data)])
        for start in range(0, len(doubles), _SLICE):
            part = doubles.slice(start, _SLICE)
            # The doubles' bits as int64, no copy: sign, 11 exponent bits, 52 fraction bits.
            bits = pa.Array.from_buffers(
                pa.int64(), len(part), [None, part.buffers()[1]], offset=part.offset
            )
            biased = pc.bit_wise_and(pc.shift_right(bits, _i64(52)), _i64(0x7FF))
            special = pc.equal(biased, _i64(0x7FF))
            if pc.any(special).as_py():
                for value in pc.filter(part, special).to_pylist():
                    self._special(value)
                finite = pc.invert(special)
                bits, biased = pc.filter(bits, finite), pc.filter(biased, finite)
            self._numerator += _arrow_scaled_sum(bits, biased)
        # Hand the passes' scratch memory back: without this, a read-back process's peak was
        # 25 MB higher (Arrow's allocator keeping freed pages), with no measurable CPU cost.
        pa.default_memory_pool().release_unused()

    def total(self) -> float:
        """The correctly rounded sum (0.0 for no values)."""
        numerator = self.numerator
        if self.nan or (self.pos_inf and self.neg_inf):
            return math.nan
        if self.pos_inf or self.neg_inf:
            return math.inf if self.pos_inf else -math.inf
        try:
            return numerator / (1 << SCALE_BITS)
        except OverflowError:
            return math.inf if numerator > 0 else -math.inf


def _arrow_scaled_sum(bits: Any, biased: Any) -> int:
    """The exact sum, in units of 2**-1074, of finite doubles given as their int64 bits and
    biased exponents. A double is (-1)**sign * significand * 2**(max(biased, 1) - 1075), the
    significand holding the implicit leading 1 where biased > 0 (normal numbers)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if len(bits) == 0:
        return 0
    fraction = pc.bit_wise_and(bits, _i64(2**52 - 1))
    significand = pc.if_else(
        pc.greater(biased, _i64(0)), pc.bit_wise_or(fraction, _i64(2**52)), fraction
    )
    negative = pc.less(bits, _i64(0))
    high = pc.shift_right(significand, _i64(_HALF_BITS))
    low = pc.bit_wise_and(significand, _i64(2**_HALF_BITS - 1))
    exponent = pc.max_element_wise(biased, _i64(1))
    high = pc.if_else(negative, pc.negate(high), high)
    low = pc.if_else(negative, pc.negate(low), low)
    # Grouped by exponent without Arrow's group-by (Acero: some 20 MB more per process):
    # sorted by exponent, each group's sum is the difference of the running sums at its last
    # row and at the previous group's. Running sums stay below 2**57 (at most 2**30 values of
    # under 2**27 each).
    order = pc.sort_indices(exponent)
    exponent = pc.take(exponent, order)
    running_high = pc.cumulative_sum(pc.take(high, order))
    running_low = pc.cumulative_sum(pc.take(low, order))
    count = len(exponent)
    changes = pc.not_equal(exponent.slice(0, count - 1), exponent.slice(1))
    last_rows = pa.array([*pc.indices_nonzero(changes).to_pylist(), count - 1], pa.int64())
    total = previous_high = previous_low = 0
    for group_exponent, high_sum, low_sum in zip(
        pc.take(exponent, last_rows).to_pylist(),
        pc.take(running_high, last_rows).to_pylist(),
        pc.take(running_low, last_rows).to_pylist(),
        strict=True,
    ):
        group = ((high_sum - previous_high) << _HALF_BITS) + (low_sum - previous_low)
        previous_high, previous_low = high_sum, low_sum
        # significand * 2**(exponent - 1075) is significand * 2**(exponent - 1) units.
        total += group << (group_exponent - 1)
    return total


def float_total(values: Iterable[float]) -> float:
    """The correctly rounded sum of doubles, also where math.fsum gives up: an intermediate
    overflow (1e308 + 1e308 - 1e308 is 1e308), +inf with -inf (NaN, as IEEE addition gives)."""
    running = ExactFloatSum()
    running.add_values(values)
    return running.total()
