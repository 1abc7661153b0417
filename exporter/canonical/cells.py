"""The reference rules of the canonical text: one value -> one CSV cell (docs/FORMAT.md in code).

Every other encoder (whole columns: columns.py and rows.py; Arrow batches: arrow.py; a
database's own bulk text, built by its dialect) is a fast path that must produce exactly these
bytes, and tests compare each with these functions. The text is what PostgreSQL's own output
functions print under DateStyle ISO, TimeZone UTC and extra_float_digits 1, which is what lets
a database format cells itself on the bulk path.

- NULL is the null marker, unquoted; STRING and JSON cells are always quoted, so '' is `""`.
  A value whose cell would be the marker fails its table, except under the empty marker
  (Oracle's default, BigQuery's own): BigQuery reads only the unquoted empty field as NULL, so
  '' (text) and b'' (BYTES) are written `""` (`empty_cell`).
- INTEGER and DECIMAL: every digit, never an exponent (Decimal formatted with 'f'); a decimal
  NaN or infinity is refused (BigQuery's NUMERIC types hold neither), and so is one written
  with more than 38 fractional digits (BIGNUMERIC's scale): trailing zeros count, as they are
  written (PostgreSQL's numeric(50, 40) holds 1 as 1.000...0, forty zeros).
- FLOAT: shortest round-trip digits; fixed notation when the decimal exponent is in
  [-4, 15), else `d.ddde+XX` (PostgreSQL's float8out); NaN, Infinity, -Infinity, -0.
- BOOLEAN: true/false. DATE: YYYY-MM-DD. DATETIME: `YYYY-MM-DD HH:MM:SS[.ffffff]` with trailing
  zeros of the fraction dropped. TIMESTAMP: the same in UTC followed by `+00:00` (a naive value
  is taken to be UTC already: dialects convert in SQL). TIME: `HH:MM:SS[.ffffff]`.
- BYTES: standard base64 without line breaks.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from decimal import Context, Decimal
from typing import Any

from exporter.errors import ERR_VALUE_IS_NULL_MARKER, ERR_VALUE_NOT_WRITABLE, ExporterError, error
from exporter.model import Column, ColumnKind

_UTC = dt.timezone.utc


def quote_text(value: str) -> str:
    """RFC 4180 quoting, always applied to text: `a"b` -> `"a""b"`, '' -> `""`."""
    return '"' + value.replace('"', '""') + '"'


def format_float(value: float) -> str:
    """A double as PostgreSQL (12+) prints it: shortest digits, exponent outside [-4, 15)."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    if -1e15 < value < 1e15:
        # The common case, fast: below 1e15 repr() already has PostgreSQL's layout (fixed
        # for decimal exponents in [-4, 15), else d.ddde-XX) except for a trailing ".0", and
        # cannot be a halfway tie (a tie needs |value| >= 2**53; see below).
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    text = repr(value)
    if "e" in text:
        # From 1e16 up repr() writes d.ddde+XX as PostgreSQL does; it can only be a tie
        # when it has fewer than 17 significant digits and |value| >= 2**53.
        mantissa, _, exponent_text = text.partition("e")
        significant = len(mantissa) - ("." in mantissa) - (mantissa[0] == "-")
        if significant == 17 or -_TIE_MIN < value < _TIE_MIN:
            return text
        if not _is_tie(value, mantissa, int(exponent_text)):
            return text
    sign, digits, exponent = _shortest_strictly_inside(value).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    point = exponent + len(text) - 1  # decimal exponent of the leading digit
    prefix = "-" if sign else ""
    if -4 <= point < 15:
        return prefix + format(Decimal((0, digits, exponent)), "f")
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{prefix}{mantissa}e{'+' if point >= 0 else '-'}{abs(point):02d}"


def _is_tie(value: float, mantissa: str, exponent: int) -> bool:
    """Whether repr's `mantissa`e`exponent` lies exactly halfway between `value` and a
    neighbour; in integers, since from 2**53 up every double is one."""
    whole, _, fraction = mantissa.lstrip("-").partition(".")
    shown = int(whole + fraction) * 10 ** (exponent - len(fraction))
    if mantissa[0] == "-":
        shown = -shown
    exact = int(value)
    for neighbour in (math.nextafter(value, math.inf), math.nextafter(value, -math.inf)):
        if math.isfinite(neighbour) and 2 * shown == exact + int(neighbour):
            return True
    return False


_TIE_MIN = 2.0**53  # below this no shortest decimal can lie halfway between two doubles

# Exact decimal arithmetic on doubles: a double has at most 767 significant decimal digits.
_EXACT = Context(prec=800)


def _shortest_strictly_inside(value: float) -> Decimal:
    """The shortest decimal that reads back as `value`, as PostgreSQL's Ryu prints it.

    repr() gives the shortest round-trip digits but accepts a decimal lying exactly halfway
    to a neighbouring double (round-half-even reads it back as `value`); PostgreSQL's float8out
    is built with STRICTLY_SHORTEST 0 and never prints such a tie (1e23 is printed
    9.999999999999999e+22). So a tie is replaced by the shortest decimal strictly inside.
    A tie is x +- ulp/2; below 2**53 that needs more fractional digits than the 17 digits
    repr() ever prints, so only larger values can be ties.
    https://github.com/postgres/postgres/blob/master/src/common/ryu_common.h
    """
    shortest = Decimal(repr(value)).normalize()
    exact = Decimal(value)
    above = _EXACT.divide(_EXACT.subtract(Decimal(math.nextafter(value, math.inf)), exact), 2)
    below = _EXACT.divide(_EXACT.subtract(exact, Decimal(math.nextafter(value, -math.inf))), 2)
    low, high = _EXACT.subtract(exact, below), _EXACT.add(exact, above)
    if low < shortest < high:
        return shortest
    for digits in range(len(shortest.as_tuple().digits), 18):
        nearest = Decimal(f"{value:.{digits - 1}e}")  # correctly rounded to `digits` digits
        step = Decimal(1).scaleb(nearest.adjusted() - digits + 1)  # one unit in the last digit
        inside = [
            c
            for c in (nearest, _EXACT.subtract(nearest, step), _EXACT.add(nearest, step))
            if low < c < high
        ]
        if inside:
            return min(inside, key=lambda c: abs(_EXACT.subtract(c, exact))).normalize()
    return Decimal(f"{value:.16e}").normalize()  # 17 digits are always strictly inside


def _trim_fraction(text: str) -> str:
    # isoformat() writes 6 fractional digits whenever microsecond != 0; PG drops trailing zeros.
    return text.rstrip("0") if "." in text else text


def format_datetime(value: dt.datetime) -> str:
    """A naive date-time: `2024-01-02 03:04:05.5` (year zero-padded to 4 digits)."""
    return _trim_fraction(value.isoformat(sep=" "))


def format_timestamp(value: dt.datetime) -> str:
    """An instant, in UTC: `2024-01-02 03:04:05.5+00:00`."""
    if value.tzinfo is not None:
        # Raises OverflowError when UTC falls outside years 1-9999 (e.g. 0001-01-01 00:00+01).
        value = value.astimezone(_UTC).replace(tzinfo=None)
    return _trim_fraction(value.isoformat(sep=" ")) + "+00:00"


def _naive(fn: Callable[[Any], str]) -> Callable[[Any], str]:
    """`fn` for zone-less kinds: an aware value has no zone-less text, so it is refused
    (its isoformat would carry an offset that the fraction trimming would also corrupt)."""

    def cell(value: Any) -> str:
        if value.tzinfo is not None:
            raise ValueError("a value with a time zone in a column without one")
        return fn(value)

    return cell


MAX_FRACTION_DIGITS = 38
"""BIGNUMERIC's scale: the most fractional digits a DECIMAL cell may have (a load refuses
more, rather than rounding: docs/FORMAT.md)."""

BIGNUMERIC_MAX = Decimal(f"{2**255 - 1}e-{MAX_FRACTION_DIGITS}")  # exact: no context rounding
BIGNUMERIC_MIN = Decimal(f"-{2**255}e-{MAX_FRACTION_DIGITS}")
"""BIGNUMERIC's range, about ±5.79e38: -2^255 * 10^-38 to (2^255 - 1) * 10^-38, a 256-bit
integer scaled by 10^-38, so the least value is one step further from zero than the greatest.
https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#decimal_types"""

SAFE_INTEGER_DIGITS = 38
"""Digits before the point that any BIGNUMERIC holds (10^38 - 1 < BIGNUMERIC_MAX): the fast
encoders write such values as they are, and leave a longer one to `_decimal_cell`, which
compares it with BIGNUMERIC's range exactly."""


def _decimal_cell(value: Decimal | int) -> str:
    """A DECIMAL cell: every digit. NaN and infinities (PostgreSQL's numeric has them) are
    refused: BigQuery's NUMERIC and BIGNUMERIC hold neither, so the load would fail; so are
    values written with more than 38 fractional digits, which BIGNUMERIC cannot hold either,
    and values beyond BIGNUMERIC's range (an unconstrained Oracle NUMBER holds up to 1e126)."""
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{value} is not a number BigQuery's NUMERIC can hold")
    text = str(value) if isinstance(value, int) else format(value, "f")
    digits = fraction_digits(text)
    if digits > MAX_FRACTION_DIGITS:
        raise ValueError(
            f"{text} has {digits} fractional digits; BigQuery's BIGNUMERIC holds "
            f"{MAX_FRACTION_DIGITS}"
        )
    # Decimal and int compare exactly (no context rounding).
    if not BIGNUMERIC_MIN <= value <= BIGNUMERIC_MAX:
        raise ValueError(f"{Decimal(value):e} is beyond BigQuery's BIGNUMERIC (about 5.79e38)")
    return text


def safe_decimal_text(text: str) -> bool:
    """True when a decimal's plain text (format 'f', or a database's own) may be written as it
    is: at most 38 fractional digits and SAFE_INTEGER_DIGITS before the point. Any other
    value goes to `_decimal_cell`, which writes it or says why BigQuery cannot hold it."""
    point = text.find(".")
    integer_digits = (len(text) if point < 0 else point) - text.startswith("-")
    return integer_digits <= SAFE_INTEGER_DIGITS and fraction_digits(text) <= MAX_FRACTION_DIGITS


def fraction_digits(text: str) -> int:
    """How many digits a decimal's text has after its point (`1.50` -> 2, `7` -> 0)."""
    point = text.find(".")
    return 0 if point < 0 else len(text) - point - 1


def _float_cell(value: float | int | Decimal) -> str:
    """A FLOAT cell; an integer or decimal that no double equals (SQLite's NUMERIC affinity
    keeps 9007199254740993 as an exact integer) is refused, never rounded."""
    number = float(value)
    if not isinstance(value, float) and number != value:
        raise ValueError(f"{value} has more digits than a double holds")
    return format_float(number)


def _type_error(column: Column, value: object, why: str = "") -> ExporterError:
    return error(
        ERR_VALUE_NOT_WRITABLE,
        column=column.name,
        native_type=column.native_type,
        value_type=type(value).__name__,
        kind=column.kind.value,
        why=f": {why}" if why else "",
    )


def cell_function(column: Column) -> Callable[[Any], str]:
    """The function turning one non-NULL value of `column` into its CSV cell."""
    kind = column.kind

    def checked(
        allowed: tuple[type, ...], fn: Callable[[Any], str], refused: tuple[type, ...] = ()
    ) -> Callable[[Any], str]:
        def cell(value: Any) -> str:
            if not isinstance(value, allowed) or isinstance(value, refused):
                raise _type_error(column, value)
            try:
                return fn(value)
            except (ValueError, OverflowError) as exc:
                raise _type_error(column, value, str(exc)) from exc

        return cell

    if kind is ColumnKind.INTEGER:
        return checked((int,), lambda v: str(int(v)))
    if kind is ColumnKind.DECIMAL:
        return checked((Decimal, int), _decimal_cell)
    if kind is ColumnKind.FLOAT:
        return checked((float, int, Decimal), _float_cell)
    if kind is ColumnKind.BOOLEAN:
        return checked((bool, int), lambda v: "true" if v else "false")
    if kind is ColumnKind.DATE:
        # datetime is a date subclass whose isoformat() has a 'T' and a time: refuse it.
        return checked((dt.date,), lambda v: v.isoformat(), refused=(dt.datetime,))
    if kind is ColumnKind.DATETIME:
        return checked((dt.datetime,), _naive(format_datetime))
    if kind is ColumnKind.TIMESTAMP:
        return checked((dt.datetime,), format_timestamp)
    if kind is ColumnKind.TIME:
        return checked((dt.time,), _naive(lambda v: _trim_fraction(v.isoformat())))
    if kind is ColumnKind.BYTES:
        return checked(
            (bytes, bytearray, memoryview), lambda v: base64.b64encode(bytes(v)).decode("ascii")
        )
    if kind is ColumnKind.JSON:
        return lambda v: quote_text(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
    return checked(
        (str, int, float, Decimal), lambda v: quote_text(v if isinstance(v, str) else str(v))
    )


EMPTY_QUOTED = '""'
"""The cell of an empty value (text or BYTES) under the empty null marker: quoted, which
BigQuery loads as an empty value, where the unquoted empty field is NULL. Third-party record
of BigQuery's reading: https://github.com/keboola/connection-docs/pull/908 (`,,` NULL, `""`
''); BigQuery's own CsvOptions.nullMarker documents the empty STRING and BYTES value under a
custom marker."""


def empty_cell(kind: ColumnKind, marker: str) -> str | None:
    """What an empty cell of `kind` (an empty BYTES value: base64 of b'') is written as when
    it equals the marker: `""` under the empty marker; None where it must fail its table."""
    return EMPTY_QUOTED if marker == "" and kind is ColumnKind.BYTES else None


def marker_error(column_name: str, marker: str) -> ExporterError:
    """The error for a value whose cell would equal the null marker: it would load as NULL."""
    return error(ERR_VALUE_IS_NULL_MARKER, column=column_name, marker=marker)


def header_record(names: Sequence[str]) -> str:
    """The header line: names quoted only where CSV needs it."""

    def cell(name: str) -> str:
        needs = any(ch in name for ch in ',"\r\n') or name != name.strip()
        return quote_text(name) if needs else name

    return ",".join(cell(n) for n in names)
