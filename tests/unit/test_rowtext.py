"""exporter/canonical/_rowtext.c (Python rows -> CSV records in C) against the Python encoder of
exporter/canonical/rows.py, the reference: the same bytes for every kind and value type, in
each of its modes, and the same error (raised by the Python encoder, to which the extension
hands every batch it does not write) where a value cannot be written."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import struct
import zoneinfo
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.canonical import rows
from exporter.canonical.cells import BIGNUMERIC_MAX, BIGNUMERIC_MIN
from exporter.canonical.rows import BatchEncoder
from exporter.errors import DataError
from exporter.model import Column, ColumnKind

COMPILER = shutil.which("cc") or shutil.which("gcc")
MARKER = "\\N"


@pytest.fixture(autouse=True)
def _extension_built() -> None:
    """As for _rowhash: optional only where it cannot be built."""
    if rows._c_encode is not None:
        return
    if COMPILER or os.environ.get("CI"):
        pytest.fail(
            "exporter.canonical._rowtext was not built or failed its self-test (compiler: "
            f"{COMPILER}): reinstall (delete .venv, ./run.sh) and read its log"
        )
    pytest.skip("no C compiler here and CI is unset: the Python encoder writes the records")


def col(kind: ColumnKind, name: str = "c") -> Column:
    return Column(name, kind.value.lower(), kind)


def outcome(fn: Callable[[], Any]) -> tuple[Any, ...]:
    """What a call did: its result, or the type and text of what it raised."""
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 - compared below
        text = exc.one_line() if isinstance(exc, DataError) else str(exc)
        return ("raised", type(exc), text)


def python_only(fn: Callable[[], Any]) -> tuple[Any, ...]:
    native, rows._c_encode = rows._c_encode, None
    try:
        return outcome(fn)
    finally:
        rows._c_encode = native


def agree(columns: list[Column], batch: list[tuple[Any, ...]], marker: str = MARKER) -> None:
    """Every way of encoding `batch` gives what the Python encoder gives (or raises)."""
    encoder = BatchEncoder(columns, marker)
    transposed = list(zip(*batch, strict=True))
    calls: dict[str, Callable[[], Any]] = {
        "encode": lambda: encoder.encode(batch),
        "lines": lambda: encoder.lines(transposed, False),
        "hashed": lambda: encoder.lines(transposed, True),
        "row_lines": lambda: encoder.row_lines(batch, False),
        "hashed_rows": lambda: encoder.row_lines(batch, True),
    }
    for name, call in calls.items():
        assert outcome(call) == python_only(call), name


def written_in_c(columns: list[Column], batch: list[tuple[Any, ...]], marker: str = MARKER) -> bool:
    """Whether the extension wrote the batch itself (rather than handing it over)."""
    encoder = BatchEncoder(columns, marker)
    return encoder._in_c(list(zip(*batch, strict=True)), 0) is not None


ZONES = st.one_of(
    st.timedeltas(
        min_value=-dt.timedelta(hours=23, minutes=59), max_value=dt.timedelta(hours=23)
    ).map(dt.timezone),
    st.sampled_from(
        [zoneinfo.ZoneInfo(z) for z in ("Europe/Paris", "America/St_Johns", "Asia/Kathmandu")]
    ),
)
# Decimals as drivers return them: any digits, exponents from 8 down to -38 (more fractional
# digits are refused: BIGNUMERIC holds 38), negative zeros included.
DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).filter(
        lambda d: d.as_tuple().exponent >= -38  # type: ignore[operator]
    ),
    st.builds(
        lambda sign, digits, exponent: Decimal((sign, tuple(map(int, str(digits))), exponent)),
        st.integers(0, 1),
        st.integers(0, 10**40),
        st.integers(-38, 8),
    ),
)
# Text with what CSV must quote around: quotes, commas, CR/LF, the marker inside a text, NUL,
# characters of 2, 3 and 4 UTF-8 bytes.
_TRICKY = st.sampled_from(['"', ",", "\r", "\n", "\r\n", "\\N", "\x00", "é", "日", "😀", " "])
TEXTS = st.one_of(st.text(), st.lists(st.one_of(_TRICKY, st.text(max_size=3))).map("".join))
# What drivers hand over for each kind: every one of these is written in C. Decimals within
# BIGNUMERIC's range (beyond it the reference refuses them: ODD).
_IN_RANGE = st.integers(-(10**38) + 1, 10**38 - 1)
COMMON: dict[ColumnKind, st.SearchStrategy[Any]] = {
    ColumnKind.INTEGER: st.integers(),
    ColumnKind.DECIMAL: st.one_of(
        DECIMALS.filter(lambda d: BIGNUMERIC_MIN <= d <= BIGNUMERIC_MAX), _IN_RANGE
    ),
    ColumnKind.FLOAT: st.floats(),
    ColumnKind.BOOLEAN: st.booleans(),
    ColumnKind.STRING: TEXTS,
    ColumnKind.JSON: TEXTS,
    ColumnKind.DATE: st.dates(),
    ColumnKind.DATETIME: st.datetimes(),
    ColumnKind.TIMESTAMP: st.one_of(  # aware ones whose instant is within years 1-9999
        st.datetimes(),
        st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30), timezones=ZONES),
    ),
    ColumnKind.TIME: st.times(),
    ColumnKind.BYTES: st.binary(),
}
# Values of other types, or ones the reference refuses or decides itself.
ODD: dict[ColumnKind, st.SearchStrategy[Any]] = {
    ColumnKind.INTEGER: st.sampled_from([True, 1.0, Decimal(1), "1", 2**20000]),
    ColumnKind.DECIMAL: st.sampled_from(
        [Decimal("NaN"), Decimal("-Infinity"), Decimal("sNaN"), 1.5, True, Decimal("-1.0e-39")]
        + [Decimal("6E+38"), -(10**39), 10**60, BIGNUMERIC_MAX, BIGNUMERIC_MIN, 5 * 10**38]
    ),
    ColumnKind.FLOAT: st.one_of(st.integers(-(2**60), 2**60), st.sampled_from([True])),
    ColumnKind.BOOLEAN: st.one_of(st.integers(), st.sampled_from(["true", 1.0])),
    ColumnKind.STRING: st.one_of(
        st.integers(), st.floats(), DECIMALS, st.sampled_from([b"x", "\ud800", "a\udfffb"])
    ),
    ColumnKind.JSON: st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ColumnKind.DATE: st.datetimes(),
    ColumnKind.DATETIME: st.one_of(st.datetimes(timezones=ZONES), st.dates()),
    ColumnKind.TIMESTAMP: st.sampled_from(
        [
            dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            dt.datetime(1, 1, 1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
            dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=2))),
            dt.date(2024, 1, 2),
        ]
    ),
    ColumnKind.TIME: st.times(timezones=st.just(dt.timezone.utc)),
    ColumnKind.BYTES: st.one_of(st.binary().map(bytearray), st.text(max_size=3)),
}
KINDS = sorted(COMMON, key=lambda k: k.value)


@st.composite
def batches(draw: st.DrawFn, values: dict[ColumnKind, st.SearchStrategy[Any]]) -> Any:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=5))
    height = draw(st.integers(1, 12))
    columns = [col(k, f"c{i}") for i, k in enumerate(kinds)]
    cells = [st.one_of(st.none(), values[k]) for k in kinds]
    batch = draw(st.lists(st.tuples(*cells), min_size=height, max_size=height))
    return columns, batch


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(COMMON))
def test_common_values_are_written_in_c_as_the_python_encoder_writes_them(case: Any) -> None:
    columns, batch = case
    agree(columns, batch)
    if not any(
        isinstance(v, str) and (v == MARKER or any("\ud800" <= ch <= "\udfff" for ch in v))
        for row in batch
        for v in row
    ):
        assert written_in_c(columns, batch)


MIXED = {k: st.one_of(COMMON[k], ODD[k]) for k in KINDS}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(MIXED), st.sampled_from([MARKER, "", "0", "NULL", "true", "AA=="]))
def test_any_values_and_markers_give_the_python_encoders_bytes_or_error(
    case: Any, marker: str
) -> None:
    columns, batch = case
    agree(columns, batch, marker)


def _double(bits: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


# Doubles from their bits: every exponent equally likely (subnormals, the largest, NaNs).
DOUBLE_BITS = st.integers(0, 2**64 - 1).map(_double)
# Doubles at or above 2**53 whose repr digits lie halfway between two doubles (cells.py
# then finds other digits): 1e23, and powers of ten and their neighbours up to 1e30.
HALFWAY = [1e23, 9.5e21, 5e22, 8.6e22, 2.0**60, 2.0**53, 2.0**54 + 2, 1.7976931348623157e308]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.one_of(DOUBLE_BITS, st.floats()), min_size=1, max_size=30))
def test_doubles_from_every_exponent(values: list[float]) -> None:
    agree([col(ColumnKind.FLOAT)], [(v,) for v in values])


def _around(value: float, steps: int) -> Iterator[float]:
    import math

    low = high = value
    for _ in range(steps):
        low, high = math.nextafter(low, -math.inf), math.nextafter(high, math.inf)
        yield low
        yield high


@pytest.mark.parametrize("value", HALFWAY + [10.0**k for k in range(15, 31)], ids=repr)
def test_doubles_near_ties_and_powers_of_ten(value: float) -> None:
    values = [value, -value, *_around(value, 50)]
    agree([col(ColumnKind.FLOAT)], [(v,) for v in values])


def test_short_decimals_above_two_to_the_53() -> None:
    # Where repr's digits are few, they can lie halfway between two doubles (1e23, 9.5e21).
    values = [float(f"{d}e{k}") for d in range(1, 1000) for k in range(13, 40)]
    agree([col(ColumnKind.FLOAT)], [(v,) for v in values])


def test_the_doubles_of_postgresql_float8out() -> None:
    cases = [
        (0.0, "0"), (-0.0, "-0"), (1e308, "1e+308"), (1e-05, "1e-05"), (0.0001, "0.0001"),
        (123456789012345.0, "123456789012345"), (1e15, "1e+15"), (1.5e15, "1.5e+15"),
        (5e-324, "5e-324"), (1e23, "9.999999999999999e+22"), (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"), (1.7976931348623157e308, "1.7976931348623157e+308"),
    ]  # fmt: skip
    encoder = BatchEncoder([col(ColumnKind.FLOAT)], MARKER)
    got = encoder.lines([tuple(v for v, _ in cases)], False)
    assert got == "".join(text + "\n" for _, text in cases).encode()


@pytest.mark.parametrize(
    "value",
    [Decimal("-0"), Decimal("-0.000"), Decimal("0E+5"), Decimal("1E+3"), Decimal("1e-30"),
     Decimal("-12345678901234567890123456789.0123456789"), Decimal("1." + "0" * 38),
     Decimal("1." + "0" * 39), Decimal("NaN"), Decimal("-sNaN"), Decimal("Infinity")],
    ids=str,
)  # fmt: skip
def test_decimal_exponents_zeros_and_specials(value: Decimal) -> None:
    agree([col(ColumnKind.DECIMAL)], [(value,), (None,), (Decimal(2),)])


class _Offset(dt.tzinfo):
    """A zone whose utcoffset is whatever it was given (None, a day, 90 seconds...)."""

    def __init__(self, offset: Any) -> None:
        self.offset = offset

    def utcoffset(self, when: dt.datetime | None) -> Any:
        return self.offset

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)


ODD_OFFSETS = [
    dt.timedelta(seconds=90),
    dt.timedelta(hours=-23, minutes=-59, seconds=-59, microseconds=-999999),
    dt.timedelta(microseconds=1),
    dt.timedelta(days=1),  # refused by datetime: offsets are less than a day
    "+01:00",  # refused: not a timedelta
]


@pytest.mark.parametrize("offset", ODD_OFFSETS, ids=str)
def test_timestamps_with_odd_offsets(offset: Any) -> None:
    stamps = [
        dt.datetime(2000, 1, 1, 0, 0, 0, 5, tzinfo=_Offset(offset)),
        dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=_Offset(offset)),
        dt.datetime(2024, 2, 29, 12, tzinfo=_Offset(offset)),
    ]
    agree([col(ColumnKind.TIMESTAMP)], [(s,) for s in stamps])


def test_timestamps_in_zones_with_daylight_saving_and_folds() -> None:
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    stamps = [
        dt.datetime(2024, 10, 27, 2, 30, tzinfo=paris),
        dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=paris),
        dt.datetime(2024, 3, 31, 2, 30, tzinfo=paris),  # does not exist: the zone decides
        dt.datetime(1, 1, 1, 0, 30, tzinfo=paris),
    ]
    agree([col(ColumnKind.TIMESTAMP)], [(s,) for s in stamps])


def test_every_date_of_a_leap_cycle_shifted_to_utc() -> None:
    zone = dt.timezone(dt.timedelta(hours=13, minutes=45))
    days = [dt.date(1600, 1, 1) + dt.timedelta(days=n) for n in range(0, 146097, 7)]
    stamps = [(dt.datetime(d.year, d.month, d.day, 5, tzinfo=zone),) for d in days]
    agree([col(ColumnKind.TIMESTAMP)], stamps)
    assert written_in_c([col(ColumnKind.TIMESTAMP)], stamps)


@pytest.mark.parametrize("marker", [MARKER, "NULL", "x"])
def test_a_text_equal_to_the_marker_fails_with_the_references_error(marker: str) -> None:
    columns = [col(ColumnKind.INTEGER, "n"), col(ColumnKind.STRING, "comment")]
    batch = [(1, "fine"), (2, marker), (None, None)]
    agree(columns, batch, marker)
    with pytest.raises(DataError, match="comment"):
        BatchEncoder(columns, marker).lines(list(zip(*batch, strict=True)), True)


@pytest.mark.parametrize(
    ("kind", "value", "marker"),
    [
        (ColumnKind.INTEGER, 0, "0"),
        (ColumnKind.BOOLEAN, True, "true"),
        (ColumnKind.BYTES, b"\x00\x00\x00", "AAAA"),
        (ColumnKind.BYTES, b"", ""),  # written `""`: BigQuery reads that as empty, not NULL
        (ColumnKind.FLOAT, float("nan"), "NaN"),
    ],
)
def test_a_cell_equal_to_the_marker(kind: ColumnKind, value: Any, marker: str) -> None:
    agree([col(kind)], [(value,), (None,)], marker)


def test_lone_surrogates_fail_where_the_python_encoder_fails() -> None:
    encoder = BatchEncoder([col(ColumnKind.STRING)], MARKER)
    assert encoder.encode([("a\udc80",)]) == ['"a\udc80"']
    with pytest.raises(UnicodeEncodeError):
        encoder.lines([("a\udc80",)], True)


def test_unicode_text_of_every_width() -> None:
    texts = ["", '"', '""', "a,b", "\r\n", "\x00", "é", 'ÿ"', "日本語", "😀", 'a😀"é', "\U0010ffff"]
    agree([col(ColumnKind.STRING), col(ColumnKind.JSON)], [(t, t) for t in texts])
    assert written_in_c([col(ColumnKind.STRING)], [(t,) for t in texts])


def test_huge_integers_beyond_the_digit_limit_behave_alike() -> None:
    agree([col(ColumnKind.INTEGER)], [(10**5000,), (-(2**64),), (2**63,)])


def test_empty_batches_and_shapes_the_python_encoder_refuses() -> None:
    encoder = BatchEncoder([col(ColumnKind.INTEGER), col(ColumnKind.STRING)], MARKER)
    assert encoder.lines([], True) == encoder.row_lines([], False) == b""
    assert encoder.encode_columns([(), ()]) == []
    for columns in ([(1, 2), ("a",)], [(1,)], [(1,), ("a",), (2,)]):
        assert outcome(lambda c=columns: encoder.lines(c, False)) == python_only(
            lambda c=columns: encoder.lines(c, False)
        )


def test_implementation_names_the_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "C extension" in rows.implementation()
    monkeypatch.setattr(rows, "_c_encode", None)
    assert rows.implementation().startswith("Python")
    encoder = BatchEncoder([col(ColumnKind.INTEGER)], MARKER)
    assert encoder.lines([(1, None)], True).startswith(b"1,")


def test_an_extension_that_writes_other_bytes_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from exporter.canonical import _rowtext

    real = _rowtext.encode

    def wrong(*args: Any) -> Any:
        result = real(*args)
        return [r + " " for r in result] if isinstance(result, list) else result

    monkeypatch.setattr(_rowtext, "encode", wrong)
    assert rows._load_c_encode() is None
    monkeypatch.setattr(_rowtext, "encode", real)
    assert rows._load_c_encode() is not None
