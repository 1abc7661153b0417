"""Arrow's text of doubles and times, laid out as PostgreSQL prints them (docs/FORMAT.md).

Arrow's shortest digits for a double are the right digits (both are shortest round-trip
digits, closest to the value) except where a halfway tie lets two algorithms choose
differently; only the layout differs: Arrow keeps fixed notation only from 1e-6 to about
1e10 and writes `1e-7`, `nan`, `inf`, where PostgreSQL's float8out uses fixed notation for
decimal exponents in [-4, 15) and pads exponents to two digits. These functions re-lay the
text out inside Arrow and leave the rare rest to `encode.format_float`.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from exporter.canonical.cells import format_float

# Fixed notation in PostgreSQL's float8out: decimal exponents in [-4, 15).
# (Arrow scalars, made once: a Python number is converted on every call, see arrow_scalars.)
_FIXED_LOW, _FIXED_HIGH = pa.scalar(1e-4), pa.scalar(1e15)
_TIE_MIN = pa.scalar(float(2**53))  # below this no shortest-digit choice can be a halfway tie
_ZERO, _ONE = pa.scalar(0.0), pa.scalar(1.0)
_FALSE, _TRUE = pa.scalar(False), pa.scalar(True)


def float_cells(values: pa.Array) -> pa.Array:
    """Doubles (NULL stays NULL) as PostgreSQL prints them: Arrow's digits, PostgreSQL's layout."""
    text = pc.cast(values, pa.string())
    size = pc.abs(values)
    has_exponent = pc.match_substring(text, "e")
    fixed_here = pc.and_(pc.greater_equal(size, _FIXED_LOW), pc.less(size, _FIXED_HIGH))
    # Arrow switches to exponent form from about 1e10 up: such values are shifted back below.
    shift = pc.and_(pc.and_(fixed_here, has_exponent), pc.greater_equal(size, _ONE))
    same_layout = pc.or_(
        pc.and_(fixed_here, pc.invert(has_exponent)),
        pc.and_(pc.invert(fixed_here), has_exponent),
    )
    # From 2**53 up the two algorithms can differ only where fewer than 17 digits suffice
    # (a halfway tie): 17 significant digits are the same in both.
    tie_free = pc.or_(
        pc.less(size, _TIE_MIN), pc.match_substring_regex(text, r"^-?[0-9]\.[0-9]{16}e\+")
    )
    # Zero is "0" or "-0" in both; NaN compares false everywhere, so it is never kept.
    kept = pc.or_(pc.and_(pc.or_(same_layout, shift), tie_free), pc.equal(size, _ZERO))
    kept = pc.or_kleene(kept, pc.is_null(values))  # NULL stays NULL
    padded = pc.fill_null(pc.and_(has_exponent, pc.less(size, _FIXED_LOW)), _FALSE)
    if pc.any(padded).as_py():  # 1e-7 -> 1e-07, on those rows only (a regex costs)
        small = pc.replace_substring_regex(pc.filter(text, padded), r"e-([0-9])$", r"e-0\1")
        text = pc.replace_with_mask(text, padded, small)
    if pc.any(shift).as_py():
        text = _exponent_to_fixed(text, pc.fill_null(shift, _FALSE))
    # Below 1e-4 Arrow still writes fixed notation down to 1e-6: written here as exponents.
    tiny = pc.and_(pc.greater(size, _ZERO), pc.less(size, _FIXED_LOW))
    unshift = pc.fill_null(pc.and_(tiny, pc.invert(has_exponent)), _FALSE)
    if pc.any(unshift).as_py():
        text, converted = _fixed_to_exponent(text, unshift)
        kept = pc.or_(kept, converted)
    redo = pc.invert(pc.fill_null(kept, _TRUE))
    if not pc.any(redo).as_py():
        return text
    slow = pc.filter(values, redo).to_pylist()
    return pc.replace_with_mask(text, redo, pa.array(list(map(format_float, slow)), pa.string()))


def _fixed_to_exponent(text: pa.Array, rows: pa.Array) -> tuple[pa.Array, pa.Array]:
    """`0.0000123` -> `1.23e-05` and `0.00000123` -> `1.23e-06` for the `rows`; also returns
    which rows were converted (any other layout is left to Python)."""
    part = pc.filter(text, rows)
    out, matched = part, pc.is_null(part)  # all false: the strings hold no NULL
    for zeros in (4, 5):
        pattern = f"^(-?)0\\.0{{{zeros}}}([1-9])([0-9]*)$"
        hit = pc.match_substring_regex(part, pattern)
        written = pc.replace_substring_regex(part, pattern, f"\\1\\2.\\3e-{zeros + 1:02d}")
        out, matched = pc.if_else(hit, written, out), pc.or_(matched, hit)
    out = pc.replace_substring(out, ".e", "e")  # one digit: `1.e-05` -> `1e-05`
    return pc.replace_with_mask(text, rows, out), pc.replace_with_mask(rows, rows, matched)


def _exponent_to_fixed(text: pa.Array, rows: pa.Array) -> pa.Array:
    """`4.2336845476229316e+12` -> `4233684547622.9316` for the `rows` (positive exponents):
    the digits padded with zeros, the point put back after exponent + 1 of them, trimmed."""
    part = pc.filter(text, rows)
    exponents = pc.cast(pc.extract_regex(part, r"e\+(?P<e>[0-9]+)$").field("e"), pa.int32())
    shifted = part
    for exponent in pc.unique(exponents).to_pylist():
        these = pc.equal(exponents, exponent)
        digits = pc.replace_substring_regex(
            pc.filter(part, these),
            r"^(-?)([0-9])\.?([0-9]*)e\+[0-9]+$",
            r"\1\2\3" + "0" * (exponent + 1),
        )
        pointed = pc.replace_substring_regex(
            digits, f"^(-?[0-9]{{{exponent + 1}}})([0-9]*)$", r"\1.\2"
        )
        shifted = pc.replace_with_mask(shifted, these, trim_fraction(pointed))
    return pc.replace_with_mask(text, rows, shifted)


def trim_fraction(text: pa.Array) -> pa.Array:
    """`03:04:05.120000` -> `03:04:05.12`, `03:04:05.000000` -> `03:04:05`. Every value must
    have a point (Arrow writes six fractional digits), which stops the trimming of zeros."""
    return pc.ascii_rtrim(pc.ascii_rtrim(text, characters="0"), characters=".")
