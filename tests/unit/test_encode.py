"""exporter/canonical (cells.py, rows.py): float layout, CSV cells per column kind, NULL
marker rules, header.

The round-trip property parses what BatchEncoder writes twice: with Python's csv module, and
with a small quote-aware parser (below) that also reports whether each field was quoted, which
csv cannot: NULL must be the *unquoted* marker and '' must be `""`.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import math
import re
from decimal import Context, Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from exporter.canonical.cells import (
    BIGNUMERIC_MAX,
    BIGNUMERIC_MIN,
    cell_function,
    format_datetime,
    format_float,
    format_timestamp,
    header_record,
    quote_text,
)
from exporter.canonical.rows import BatchEncoder
from exporter.errors import DataError
from exporter.model import Column, ColumnKind
from tests.csvcheck import parse_quoted

MARKER = "\\N"  # the two characters backslash, N: the default marker of PostgreSQL/SQLite
UTC = dt.timezone.utc


def col(kind: ColumnKind, name: str = "c") -> Column:
    return Column(name, kind.value.lower(), kind)


def test_parse_quoted_helper_tells_quoted_from_unquoted() -> None:
    text = '1,"",\\N,"a""b\r\nc",\n'
    assert parse_quoted(text) == [
        [("1", False), ("", True), ("\\N", False), ('a"b\r\nc', True), ("", False)]
    ]
    with pytest.raises(AssertionError):
        parse_quoted('a"b\n')


# -- format_float ----------------------------------------------------------------------------

# Outputs of PostgreSQL 12+ `SELECT x::float8::text` (extra_float_digits 1, the default).
PG_FLOAT8_OUT = [
    (0.0, "0"),
    (-0.0, "-0"),
    (1e308, "1e+308"),
    (1e-05, "1e-05"),
    (0.0001, "0.0001"),
    (123456789012345.0, "123456789012345"),
    (1e15, "1e+15"),
    (1.5e15, "1.5e+15"),
    (0.1, "0.1"),
    (-2.5, "-2.5"),
    (100.0, "100"),
    (1e14, "100000000000000"),
    (0.1 + 0.2, "0.30000000000000004"),
    (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (-1.25e-7, "-1.25e-07"),
    (float("nan"), "NaN"),
    (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"),
]


@pytest.mark.parametrize(("value", "expected"), PG_FLOAT8_OUT, ids=[e for _, e in PG_FLOAT8_OUT])
def test_format_float_matches_postgresql_float8out(value: float, expected: str) -> None:
    assert format_float(value) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_float_round_trips_and_keeps_sign_of_zero(x: float) -> None:
    text = format_float(x)
    back = float(text)
    assert back == x
    assert math.copysign(1.0, back) == math.copysign(1.0, x)


_FIXED = re.compile(r"-?\d+(\.\d+)?")
_SCI = re.compile(r"-?\d(\.\d+)?e[+-]\d{2,3}")


def _halfway(x: float, text: str) -> bool:
    """True when the decimal `text` lies exactly halfway between x and a neighbouring double."""
    exact, value = Fraction(x), Fraction(Decimal(text))
    return any(
        math.isfinite(n) and value == (exact + Fraction(n)) / 2
        for n in (math.nextafter(x, math.inf), math.nextafter(x, -math.inf))
    )


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x != 0))
@example(1e23)  # repr '1e+23' is a tie; PostgreSQL prints 9.999999999999999e+22
def test_format_float_layout_is_shortest_digits_with_pg_exponent_rule(x: float) -> None:
    text = format_float(x)
    assert float(text) == x
    exponent = Decimal(text).adjusted()  # decimal exponent of the leading digit
    if -4 <= exponent < 15:
        assert _FIXED.fullmatch(text), text
    else:
        assert _SCI.fullmatch(text), text
    assert not _halfway(x, text)
    # The same significant digits as repr() (the shortest that round-trip), unless repr's
    # lie exactly halfway to a neighbour, which PostgreSQL never prints: then more digits.
    digits = Decimal(text).normalize().as_tuple().digits
    shortest = Decimal(repr(x)).normalize().as_tuple().digits
    if _halfway(x, repr(x)):
        assert len(digits) > len(shortest)
    else:
        assert digits == shortest


# -- BatchEncoder round trip -----------------------------------------------------------------

COLUMNS = (
    col(ColumnKind.INTEGER, "i"),
    col(ColumnKind.DECIMAL, "d"),
    col(ColumnKind.FLOAT, "f"),
    col(ColumnKind.BOOLEAN, "b"),
    col(ColumnKind.STRING, "s"),
    col(ColumnKind.JSON, "j"),
    col(ColumnKind.DATE, "dd"),
    col(ColumnKind.DATETIME, "dt"),
    col(ColumnKind.TIMESTAMP, "ts"),
    col(ColumnKind.TIME, "t"),
    col(ColumnKind.BYTES, "by"),
)

_TRICKY = st.sampled_from(['"', ",", "\r", "\n", "\r\n", "\t", "\\", "N", "'", "é", "😀", " "])
TEXTS = (
    st.lists(st.one_of(_TRICKY, st.characters(codec="utf-8")), max_size=12)
    .map("".join)
    .filter(lambda s: s != MARKER)
)


def _decimal(sign: int, digits: int, scale: int) -> Decimal:
    # Built from a tuple: no context rounding, whatever the digit count.
    return Decimal((sign, tuple(int(c) for c in str(digits)), -scale))


DECIMALS = st.builds(
    _decimal,
    st.integers(0, 1),
    st.one_of(st.integers(0, 10**38 - 1), st.sampled_from([0, 10**38 - 1, 10**37])),
    st.integers(0, 38),
)

FIXED_ZONES = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)
# Aware values keep their UTC instant inside years 1..9999 (BigQuery's range too).
AWARE = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.one_of(FIXED_ZONES, st.timezones()),
)
TIMESTAMPS = st.one_of(st.datetimes(), AWARE)  # naive: already UTC (dialects convert in SQL)

JSON_VALUES = st.one_of(
    TEXTS,
    st.dictionaries(TEXTS, st.one_of(st.integers(-(2**53), 2**53), TEXTS, st.none()), max_size=3),
)

STRATEGIES: dict[ColumnKind, st.SearchStrategy[Any]] = {
    ColumnKind.INTEGER: st.integers(-(2**63), 2**63 - 1),
    ColumnKind.DECIMAL: DECIMALS,
    ColumnKind.FLOAT: st.floats(),
    ColumnKind.BOOLEAN: st.booleans(),
    ColumnKind.STRING: TEXTS,
    ColumnKind.JSON: JSON_VALUES,
    ColumnKind.DATE: st.dates(),
    ColumnKind.DATETIME: st.datetimes(),
    ColumnKind.TIMESTAMP: TIMESTAMPS,
    ColumnKind.TIME: st.times(),
    ColumnKind.BYTES: st.binary(max_size=60),
}

ROWS = st.lists(
    st.tuples(*(st.one_of(st.none(), STRATEGIES[c.kind]) for c in COLUMNS)),
    min_size=1,
    max_size=6,
)

_DATETIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{0,5}[1-9])?")
_TIME_TEXT = re.compile(r"\d{2}:\d{2}:\d{2}(\.\d{0,5}[1-9])?")


def check_cell(column: Column, original: Any, text: str, quoted: bool) -> None:
    """Decode one written cell and compare it with the value it came from."""
    if original is None:
        assert (text, quoted) == (MARKER, False)
        return
    kind = column.kind
    if kind.is_text:
        assert quoted, f"{kind} cells are always quoted"
    else:
        assert not quoted, f"{kind} cells are never quoted"
        assert text != MARKER
    if kind is ColumnKind.INTEGER:
        assert re.fullmatch(r"-?\d+", text)
        assert int(text) == original
    elif kind is ColumnKind.DECIMAL:
        assert re.fullmatch(r"-?\d+(\.\d+)?", text), text  # no exponent, ever
        number = Decimal(text)
        assert number == original
        assert str(number) == str(original)  # scale kept: 1.50 stays 1.50, 0E-7 stays 0E-7
        assert number.as_tuple().exponent == original.as_tuple().exponent
    elif kind is ColumnKind.FLOAT:
        double = float(text)
        if math.isnan(original):
            assert math.isnan(double)
        else:
            assert double == original
            assert math.copysign(1, double) == math.copysign(1, original)
    elif kind is ColumnKind.BOOLEAN:
        assert text == ("true" if original else "false")
    elif kind is ColumnKind.STRING:
        assert text == original
    elif kind is ColumnKind.JSON:
        if isinstance(original, str):
            assert text == original
        else:
            assert json.loads(text) == original
    elif kind is ColumnKind.DATE:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)
        assert dt.date.fromisoformat(text) == original
    elif kind is ColumnKind.DATETIME:
        assert _DATETIME_TEXT.fullmatch(text), text
        assert dt.datetime.fromisoformat(text) == original
    elif kind is ColumnKind.TIMESTAMP:
        assert text.endswith("+00:00")
        assert _DATETIME_TEXT.fullmatch(text.removesuffix("+00:00")), text
        stamp = dt.datetime.fromisoformat(text)
        assert stamp.utcoffset() == dt.timedelta(0)
        # The UTC instant of the original, computed without astimezone().
        offset = original.utcoffset() or dt.timedelta(0)
        instant = original.replace(tzinfo=None) - offset
        assert stamp.replace(tzinfo=None) == instant
    elif kind is ColumnKind.TIME:
        assert _TIME_TEXT.fullmatch(text), text
        assert dt.time.fromisoformat(text) == original
    elif kind is ColumnKind.BYTES:
        assert "\n" not in text
        assert base64.b64decode(text, validate=True) == original
    else:  # pragma: no cover - a new kind needs a decoder here
        raise AssertionError(f"no decoder for {kind}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ROWS)
def test_batch_encoder_round_trip(rows: list[tuple[Any, ...]]) -> None:
    records = BatchEncoder(COLUMNS, MARKER).encode(rows)
    assert len(records) == len(rows)
    text = "\n".join(records) + "\n"  # as CsvGzipWriter joins them
    text.encode("utf-8")  # the writer encodes UTF-8: must not fail

    by_csv = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    by_quotes = parse_quoted(text)
    assert [[v for v, _ in r] for r in by_quotes] == by_csv
    assert len(by_quotes) == len(rows)
    for row, fields in zip(rows, by_quotes, strict=True):
        assert len(fields) == len(COLUMNS)
        for column, original, (value, quoted) in zip(COLUMNS, row, fields, strict=True):
            check_cell(column, original, value, quoted)


@given(st.lists(st.one_of(st.none(), TEXTS), min_size=1, max_size=10))
def test_null_and_empty_string_stay_apart(values: list[str | None]) -> None:
    records = BatchEncoder([col(ColumnKind.STRING)], MARKER).encode([(v,) for v in values])
    for value, record in zip(values, records, strict=True):
        if value is None:
            assert record == MARKER
        else:
            assert record == '"' + value.replace('"', '""') + '"'


def test_empty_string_is_two_quotes_and_null_is_unquoted_marker() -> None:
    enc = BatchEncoder([col(ColumnKind.STRING, "a"), col(ColumnKind.INTEGER, "b")], MARKER)
    assert enc.encode([("", None), (None, 0), ('a"b', -5)]) == [
        '"",\\N',
        "\\N,0",
        '"a""b",-5',
    ]


def test_empty_batch_gives_no_records() -> None:
    assert BatchEncoder(COLUMNS, MARKER).encode([]) == []


# -- NULL marker collisions and type errors --------------------------------------------------


@pytest.mark.parametrize("kind", [ColumnKind.STRING, ColumnKind.JSON])
@pytest.mark.parametrize("marker", [MARKER, "NULL"])
def test_text_value_equal_to_marker_raises(kind: ColumnKind, marker: str) -> None:
    enc = BatchEncoder([col(kind, "comment")], marker)
    assert enc.encode([("ok",)]) == ['"ok"']
    with pytest.raises(DataError) as info:
        enc.encode([("fine",), (marker,), (None,)])
    assert "comment" in info.value.one_line()
    assert "null marker" in info.value.one_line()


def test_oracle_style_empty_marker_writes_null_as_empty_unquoted_field() -> None:
    enc = BatchEncoder([col(ColumnKind.INTEGER), col(ColumnKind.STRING)], "")
    assert enc.encode([(None, None), (1, "x")]) == [",", '1,"x"']


@pytest.mark.parametrize("value", ["1", 1.0, Decimal("1"), b"1", dt.date(2024, 1, 1)])
def test_integer_column_rejects_other_python_types(value: object) -> None:
    enc = BatchEncoder([col(ColumnKind.INTEGER, "qty")], MARKER)
    with pytest.raises(DataError) as info:
        enc.encode([(value,)])
    line = info.value.one_line()
    assert "qty" in line and type(value).__name__ in line and "INTEGER" in line


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (ColumnKind.DECIMAL, 1.5),
        (ColumnKind.DECIMAL, "1.5"),
        (ColumnKind.FLOAT, "1.5"),
        (ColumnKind.BOOLEAN, "true"),
        (ColumnKind.DATE, "2024-01-01"),
        (ColumnKind.DATETIME, dt.date(2024, 1, 1)),
        (ColumnKind.TIMESTAMP, "2024-01-01 00:00:00"),
        (ColumnKind.TIME, dt.datetime(2024, 1, 1)),
        (ColumnKind.BYTES, "aGk="),
        (ColumnKind.STRING, b"raw"),
    ],
)
def test_wrong_python_type_raises_data_error(kind: ColumnKind, value: object) -> None:
    with pytest.raises(DataError):
        BatchEncoder([col(kind)], MARKER).encode([(value,)])


# -- specific layouts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2024, 1, 2, 3, 4, 5, 500000), "2024-01-02 03:04:05.5"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),
        (dt.datetime(2024, 1, 2, 3, 4, 0, 10), "2024-01-02 03:04:00.00001"),
        (dt.datetime(2024, 1, 2, 3, 4, 5, 120300), "2024-01-02 03:04:05.1203"),
        (dt.datetime(1, 1, 1), "0001-01-01 00:00:00"),
        (dt.datetime(9999, 12, 31, 23, 59, 59, 999999), "9999-12-31 23:59:59.999999"),
    ],
)
def test_datetime_drops_trailing_fraction_zeros(value: dt.datetime, expected: str) -> None:
    assert format_datetime(value) == expected
    assert BatchEncoder([col(ColumnKind.DATETIME)], MARKER).encode([(value,)]) == [expected]


def test_timestamp_is_written_in_utc() -> None:
    plus2 = dt.timezone(dt.timedelta(hours=2))
    aware = dt.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=plus2)
    assert format_timestamp(aware) == "2024-01-02 01:04:05.5+00:00"
    naive = dt.datetime(2024, 1, 2, 3, 4, 5)
    assert format_timestamp(naive) == "2024-01-02 03:04:05+00:00"
    # Crossing midnight backwards, and a zone with a half-hour offset.
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert format_timestamp(dt.datetime(2024, 3, 1, 1, 0, tzinfo=india)) == (
        "2024-02-29 19:30:00+00:00"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1E+5"), "100000"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("1.50"), "1.50"),
        (Decimal("-0.00"), "-0.00"),
        (Decimal("9" * 38), "9" * 38),
        (Decimal("0." + "0" * 37 + "1"), "0." + "0" * 37 + "1"),
        (12345678901234567890123, "12345678901234567890123"),
    ],
)
def test_decimal_every_digit_no_exponent(value: Decimal | int, expected: str) -> None:
    assert BatchEncoder([col(ColumnKind.DECIMAL)], MARKER).encode([(value,)]) == [expected]


def test_other_kinds_layouts() -> None:
    columns = [
        col(ColumnKind.BOOLEAN, "b"),
        col(ColumnKind.DATE, "d"),
        col(ColumnKind.TIME, "t"),
        col(ColumnKind.BYTES, "y"),
        col(ColumnKind.JSON, "j"),
        col(ColumnKind.FLOAT, "f"),
    ]
    row = (True, dt.date(5, 6, 7), dt.time(3, 4, 5, 250000), bytes(range(100)), {"k": "é"}, 7)
    (record,) = BatchEncoder(columns, MARKER).encode([row])
    b, d, t, y, j, f = next(csv.reader([record]))
    assert (b, d, t, f) == ("true", "0005-06-07", "03:04:05.25", "7")
    assert y == base64.b64encode(bytes(range(100))).decode()  # 100 bytes: no line breaks
    assert json.loads(j) == {"k": "é"} and "é" in j


def test_quote_text() -> None:
    assert quote_text("") == '""'
    assert quote_text('a"b') == '"a""b"'
    assert quote_text('""') == '""""""'


def test_header_record_quotes_only_where_needed() -> None:
    names = ["id", "a,b", 'q"x', " lead", "trail ", "line\nbreak", "cr\r", "plain_name", "é"]
    header = header_record(names)
    assert header == 'id,"a,b","q""x"," lead","trail ","line\nbreak","cr\r",plain_name,é'
    assert next(csv.reader(io.StringIO(header, newline=""))) == names


# -- defects found while writing these tests, now fixed ---------------------------------------


def test_date_column_rejects_datetime_value() -> None:
    enc = BatchEncoder([col(ColumnKind.DATE)], MARKER)
    with pytest.raises(DataError):
        enc.encode([(dt.datetime(2024, 1, 2, 3, 4, 5),)])


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (
            ColumnKind.DATETIME,
            dt.datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
        (ColumnKind.TIME, dt.time(3, 4, 5, 500000, tzinfo=UTC)),
    ],
)
def test_aware_value_in_naive_column_is_rejected(kind: ColumnKind, value: object) -> None:
    enc = BatchEncoder([col(kind)], MARKER)
    with pytest.raises(DataError):
        enc.encode([(value,)])


def test_non_text_cell_equal_to_marker_raises() -> None:
    # base64 of three zero bytes is AAAA: it would load as NULL under that marker.
    enc = BatchEncoder([col(ColumnKind.BYTES, "blob")], "AAAA")
    with pytest.raises(DataError, match="'blob'"):
        enc.encode([(b"\x01",), (b"\x00\x00\x00",)])
    with pytest.raises(DataError, match="null marker"):
        BatchEncoder([col(ColumnKind.INTEGER)], "0").encode([(0,)])


def test_empty_values_under_the_empty_marker_are_quoted_not_null() -> None:
    # Oracle's default marker is '': NULL is the unquoted empty field, and an empty CLOB ('')
    # or BLOB (b'') is the quoted one, on the fast path and the checked path alike.
    enc = BatchEncoder([col(ColumnKind.STRING), col(ColumnKind.BYTES)], "")
    rows = [("", b""), (None, None), ("x", b"a")]
    assert enc.encode(rows) == ['"",""', ",", '"x",YQ==']
    mixed = [(1, bytearray()), ("", b"")]  # an int and a bytearray: the checked per-cell path
    assert enc.encode(mixed) == ['"1",""', '"",""']
    # Any other marker keeps an empty BYTES cell unquoted: BigQuery loads it as empty bytes.
    assert BatchEncoder([col(ColumnKind.BYTES)], MARKER).encode([(b"",)]) == [""]


def test_timestamp_outside_utc_range_is_a_data_error() -> None:
    # 0001-01-01 00:30 at +01:00 is 0000-12-31 23:30 UTC: no such datetime in Python or BigQuery.
    early = dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    enc = BatchEncoder([col(ColumnKind.TIMESTAMP)], MARKER)
    with pytest.raises(DataError, match="TIMESTAMP|timestamp"):
        enc.encode([(early,)])


@pytest.mark.parametrize(("kind", "value"), [(ColumnKind.INTEGER, 0), (ColumnKind.BOOLEAN, True)])
def test_user_marker_equal_to_a_number_or_boolean_cell_raises(
    kind: ColumnKind,
    value: object,
) -> None:
    marker = "0" if kind is ColumnKind.INTEGER else "true"
    enc = BatchEncoder([col(kind)], marker)
    assert enc.encode([(None,)]) == [marker]  # a NULL alone is fine
    with pytest.raises(DataError, match="null marker"):
        enc.encode([(None,), (value,)])


def test_float_column_refuses_an_integer_no_double_holds() -> None:
    enc = BatchEncoder([col(ColumnKind.FLOAT)], MARKER)
    assert enc.encode([(2**53,), (Decimal("0.5"),), (3,)]) == ["9.007199254740992e+15", "0.5", "3"]
    for value in (2**53 + 1, 12345678901234567, Decimal("0.1")):
        with pytest.raises(DataError, match="more digits than a double holds"):
            enc.encode([(value,)])


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_decimal_column_refuses_what_bigquery_numeric_cannot_hold(value: str) -> None:
    enc = BatchEncoder([col(ColumnKind.DECIMAL)], MARKER)
    assert enc.encode([(Decimal("-0.50"),), (None,)]) == ["-0.50", MARKER]
    with pytest.raises(DataError, match="NUMERIC"):
        enc.encode([(Decimal("1"),), (Decimal(value),)])


# -- DECIMAL: at most BIGNUMERIC's 38 fractional digits ------------------------------------

WIDE_DECIMALS = st.builds(_decimal, st.integers(0, 1), st.integers(0, 10**45), st.integers(0, 60))


@settings(max_examples=200)
@given(values=st.lists(WIDE_DECIMALS, min_size=1, max_size=8))
@example(values=[Decimal("1." + "0" * 40)])  # trailing zeros are written, so they count
@example(values=[Decimal("1E-38"), Decimal("-1E-39")])
def test_decimals_with_more_than_38_fractional_digits_fail_naming_the_column(
    values: list[Decimal],
) -> None:
    too_long = any(-int(v.as_tuple().exponent) > 38 for v in values)
    too_big = any(v.copy_abs() > BIGNUMERIC_MAX for v in values)
    fast = [(v,) for v in values]  # Decimals only: the whole-column fast path
    checked = [(7,), *fast]  # an int among them: the checked per-cell path
    for rows in (fast, checked):
        enc = BatchEncoder([col(ColumnKind.DECIMAL, "amount")], MARKER)
        if too_long:  # the first refused value names its problem: fraction digits come first
            with pytest.raises(DataError, match="'amount'.*(fractional digits.*38|BIGNUMERIC)"):
                enc.encode(rows)
        elif too_big:
            with pytest.raises(DataError, match="'amount'.*beyond BigQuery's BIGNUMERIC"):
                enc.encode(rows)
        else:
            written = enc.encode(rows)
            assert [Decimal(t) for t in written] == [r[0] for r in rows]
            assert all(len(t.partition(".")[2]) <= 38 for t in written)


def test_decimal_limits_are_by_the_written_digits() -> None:
    enc = BatchEncoder([col(ColumnKind.DECIMAL)], MARKER)
    assert enc.encode([(Decimal("-0." + "9" * 38),)]) == ["-0." + "9" * 38]
    assert enc.encode([(10**37,), (Decimal("1E+37"),)]) == ["1" + "0" * 37, "1" + "0" * 37]
    with pytest.raises(DataError, match="has 39 fractional digits"):
        enc.encode([(Decimal("0." + "0" * 38 + "1"),)])


# -- DECIMAL: within BIGNUMERIC's range, (2^255 - 1) * 10^-38 -------------------------------

_NEXT_UP = Context(prec=100).add(BIGNUMERIC_MAX, Decimal("1E-38"))  # exact: 77 digits
assert _NEXT_UP.copy_negate() == BIGNUMERIC_MIN  # the range is a 256-bit integer's
INSIDE = [
    BIGNUMERIC_MAX,
    BIGNUMERIC_MAX.copy_negate(),  # unary minus would round to the context's 28 digits
    _NEXT_UP.copy_negate(),  # the least value, one step beyond -BIGNUMERIC_MAX: -2^255e-38
    Decimal("5E+38"),  # 39 integer digits, inside: an exponent form, written in full
    5 * 10**38,  # an int beyond 64 bits, inside
    10**38 - 1,
    Decimal("-" + "9" * 38 + "." + "9" * 38),
]
OUTSIDE = [
    _NEXT_UP,
    Context(prec=100).subtract(_NEXT_UP.copy_negate(), Decimal("1E-38")),  # below the least
    Decimal("6E+38"),
    Decimal("1E+125"),  # an unconstrained Oracle NUMBER reaches 9.99...e125
    6 * 10**38,
    -(10**60),
    Decimal("578960446186580977117854925043439539267"),  # an integer just past the maximum
]


@pytest.fixture(params=["c", "python"])
def encoder_in(request: Any, monkeypatch: Any) -> str:
    """The C encoder where it was built (CI builds it), or the Python one alone."""
    from exporter.canonical import rows

    if request.param == "python":
        monkeypatch.setattr(rows, "_c_encode", None)
    else:
        assert rows._c_encode is not None
    return str(request.param)


@pytest.mark.parametrize("fast_path", [True, False])
def test_decimals_inside_bignumerics_range_are_written_in_full(
    fast_path: bool, encoder_in: str
) -> None:
    enc = BatchEncoder([col(ColumnKind.DECIMAL, "amount")], MARKER)
    for value in INSIDE:
        # Alone (the C encoder, or the whole-column path), or after an int (per cell).
        rows = [(value,)] if fast_path else [(7,), (value,)]
        cell = enc.encode(rows)[-1]
        assert Decimal(cell) == value and "E" not in cell.upper()
        assert cell_function(col(ColumnKind.DECIMAL))(value) == cell


@pytest.mark.parametrize("value", OUTSIDE, ids=str)
def test_decimals_beyond_bignumerics_range_fail_naming_the_column(
    value: Decimal | int, encoder_in: str
) -> None:
    """Every encoder refuses them, one value alone or among others (BigQuery's load would
    fail on them: docs/FORMAT.md)."""
    enc = BatchEncoder([col(ColumnKind.DECIMAL, "amount")], MARKER)
    for rows in ([(value,)], [(Decimal("1.5"),), (value,)], [(7,), (value,), (None,)]):
        with pytest.raises(DataError, match="'amount'.*beyond BigQuery's BIGNUMERIC"):
            enc.encode(rows)
