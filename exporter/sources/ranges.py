"""Pure range arithmetic for chunks: how many parts, where their bounds fall, and the one
WHERE clause every dialect reads a half-open range with. No I/O."""

from __future__ import annotations

import math

BYTES_PER_GB = 1024**3
BYTES_PER_MB = 1024**2


def parts_for(size_bytes: int, threshold_bytes: float, chunk_bytes: float) -> int:
    """How many chunks a table of `size_bytes` gets: 1 up to the threshold, else about
    size / chunk size (at least 2, so crossing the threshold always splits)."""
    if size_bytes <= threshold_bytes:
        return 1
    return max(2, math.ceil(size_bytes / chunk_bytes))


def split_int_range(lo: int, hi: int, parts: int) -> list[tuple[int | None, int | None]]:
    """Half-open ranges [a, b) covering every integer, cut at equal steps between lo and hi.

    The first range has no lower bound and the last no upper bound, so values outside
    [lo, hi] (rows inserted after planning, say) still fall in exactly one range.
    `split_int_range(1, 100, 4)` -> [(None, 26), (26, 51), (51, 76), (76, None)].
    """
    if parts < 1:
        raise ValueError("parts must be >= 1")
    width = hi - lo + 1
    parts = max(1, min(parts, width))
    cuts = [lo + (width * i) // parts for i in range(1, parts)]
    lowers: list[int | None] = [None, *cuts]
    uppers: list[int | None] = [*cuts, None]
    return list(zip(lowers, uppers, strict=False))


def range_where(
    locator: str, lower: object, upper: object, placeholder: str
) -> tuple[str, dict[str, object]]:
    """` WHERE locator >= lower AND locator < upper` for the ends that are set (a chunk's
    half-open range), with the values bound: `placeholder` formats a parameter name into the
    engine's bind syntax, e.g. ":{}" or "CAST(%({})s AS tid)". ("", {}) when both are open."""
    parts: list[str] = []
    params: dict[str, object] = {}
    for name, value, op in (("lower", lower, ">="), ("upper", upper, "<")):
        if value is not None:
            parts.append(f"{locator} {op} {placeholder.format(name)}")
            params[name] = value
    return (" WHERE " + " AND ".join(parts)) if parts else "", params
