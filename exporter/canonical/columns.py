"""Whole-column fast paths for the batch encoder: C-level `map()` over a column.

A database driver hands over a batch as row tuples of Python objects; converting them one
cell at a time through checked closures costs a Python frame per cell. Here a column whose
values all have the one expected type is converted by `map()` over a C function
(`str`, `format`, `date.isoformat`, `str.replace`, ...), which produces exactly the text of
the checked per-cell path in `cells.py` (a test compares the two on random values). Any
column that does not qualify (mixed types, an aware value in a zone-less column, a value out
of range) gets `None` back and takes the checked path, which names the offending value.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from itertools import repeat
from operator import attrgetter, methodcaller

from exporter.canonical.cells import SAFE_INTEGER_DIGITS, safe_decimal_text
from exporter.model import ColumnKind

_UTC = dt.timezone.utc
_ZERO = dt.timedelta(0)
_TZINFO = attrgetter("tzinfo")
_UTCOFFSET = methodcaller("utcoffset")  # each value's own offset: zones with DST differ per date
_BOOL_TEXT = {True: "true", False: "false"}
_SPACE_ISO = methodcaller("isoformat", " ")
_TO_UTC = methodcaller("astimezone", _UTC)
_DROP_ZONE = methodcaller("replace", tzinfo=None)
_QUOTED = '"{}"'.format
_UTC_SUFFIX = "{}+00:00".format
# isoformat() lengths without a fraction: a longer text has 6 fractional digits, >= 1 nonzero.
_DATETIME_WIDTH = len("2024-01-02 03:04:05")
_TIME_WIDTH = len("03:04:05")
# A decimal's text with more than 38 fractional or integer digits is longer than 38 characters.
_SAFE_TEXT_WIDTH = SAFE_INTEGER_DIGITS
_SAFE_INT = 10**SAFE_INTEGER_DIGITS - 1  # a DECIMAL column's ints up to this are written as is


def _trim(texts: Iterable[str], width: int) -> list[str]:
    # Trailing zeros of the fraction are dropped, as PostgreSQL prints them.
    return [t.rstrip("0") if len(t) > width else t for t in texts]


def _naive(values: Sequence[object]) -> bool:
    return set(map(_TZINFO, values)) == {None}


def _floats(values: Sequence[float], format_float: Callable[[float], str]) -> list[str]:
    # Finite and below 1e15, repr() is PostgreSQL's text but for a trailing ".0" (the fast
    # path of format_float, inlined); NaN fails the comparison and takes format_float too.
    return [
        (t[:-2] if t[-2:] == ".0" else t) if -1e15 < v < 1e15 else format_float(v)
        for v, t in zip(values, map(float.__repr__, values), strict=True)
    ]


def _timestamps(values: Sequence[dt.datetime]) -> list[str] | None:
    zones = set(map(_TZINFO, values))
    if None not in zones and set(map(_UTCOFFSET, values)) == {_ZERO}:
        # Already in UTC (what drivers return under TimeZone UTC): isoformat() ends with
        # "+00:00"; only the fraction needs trimming.
        return [
            t[:-6].rstrip("0") + "+00:00" if len(t) > _DATETIME_WIDTH + 6 else t
            for t in map(_SPACE_ISO, values)
        ]
    if zones == {None}:
        naive: Iterable[dt.datetime] = values  # taken to be UTC already (dialects convert)
    elif None in zones:
        return None  # aware and naive mixed: let the checked path decide each one
    else:
        try:
            naive = list(map(_DROP_ZONE, map(_TO_UTC, values)))
        except OverflowError:
            return None  # outside years 1-9999 in UTC: the checked path names the value
    return list(map(_UTC_SUFFIX, _trim(map(_SPACE_ISO, naive), _DATETIME_WIDTH)))


def _strings(values: Sequence[str]) -> list[str]:
    return list(map(_QUOTED, map(str.replace, values, repeat('"'), repeat('""'))))


def _base64(values: Sequence[bytes]) -> list[str]:
    return list(map(bytes.decode, map(base64.b64encode, values), repeat("ascii")))


def column_cells(
    kind: ColumnKind, values: Sequence[object], format_float: Callable[[float], str]
) -> list[str] | None:
    """The cells of non-NULL `values` of a column of `kind`, or None when the column must take
    the checked per-cell path."""
    types = set(map(type, values))
    if len(types) != 1:
        return None if types else []
    (only,) = types
    # Exact type matches only: bool is an int and datetime a date, with other texts.
    if kind is ColumnKind.STRING and only is str:
        return _strings(values)  # type: ignore[arg-type]
    if kind is ColumnKind.INTEGER and only is int:
        return list(map(str, values))
    if kind is ColumnKind.DECIMAL and only is Decimal:
        if not all(map(Decimal.is_finite, values)):  # type: ignore[arg-type]
            return None  # NaN or infinity: the checked path refuses it by name
        texts = list(map(format, values, repeat("f")))
        if texts and max(map(len, texts)) > _SAFE_TEXT_WIDTH:
            if not all(map(safe_decimal_text, texts)):
                return None  # the checked path writes it or refuses it by name
        return texts
    if kind is ColumnKind.DECIMAL and only is int:
        ints: Sequence[int] = values  # type: ignore[assignment]
        if values and not -_SAFE_INT <= min(ints) <= max(ints) <= _SAFE_INT:
            return None  # beyond 38 digits: the checked path compares with BIGNUMERIC's range
        return list(map(str, ints))
    if kind is ColumnKind.FLOAT and only is float:
        return _floats(values, format_float)  # type: ignore[arg-type]
    if kind is ColumnKind.BOOLEAN and only is bool:
        return list(map(_BOOL_TEXT.__getitem__, values))  # type: ignore[arg-type]
    if kind is ColumnKind.DATE and only is dt.date:
        return list(map(dt.date.isoformat, values))  # type: ignore[arg-type]
    if kind is ColumnKind.DATETIME and only is dt.datetime and _naive(values):
        return _trim(map(_SPACE_ISO, values), _DATETIME_WIDTH)
    if kind is ColumnKind.TIMESTAMP and only is dt.datetime:
        return _timestamps(values)  # type: ignore[arg-type]
    if kind is ColumnKind.TIME and only is dt.time and _naive(values):
        return _trim(map(dt.time.isoformat, values), _TIME_WIDTH)  # type: ignore[arg-type]
    if kind is ColumnKind.BYTES and only is bytes:
        return _base64(values)  # type: ignore[arg-type]
    return None
