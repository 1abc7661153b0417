"""ArrowEncoder writes exactly what BatchEncoder writes, for the same values.

BatchEncoder's rules are checked against PostgreSQL's own output elsewhere (tests/postgres);
here random values of every kind go through both encoders, as Arrow arrays of the types the
drivers produce and as the Python values the row path gets, and must give identical records.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import struct
from collections.abc import Callable
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.canonical import rows as rows_module
from exporter.canonical.arrow import ArrowEncoder, record_lines
from exporter.canonical.cells import BIGNUMERIC_MAX, BIGNUMERIC_MIN, format_float
from exporter.canonical.rowhash import csv_lines
from exporter.canonical.rows import BatchEncoder
from exporter.errors import DataError
from exporter.model import Column, ColumnKind

UTC = dt.timezone.utc
IN_RANGE = {"min_value": dt.datetime(1, 1, 1), "max_value": dt.datetime(9999, 12, 31, 23, 59)}

# kind -> (Arrow type as drivers deliver it, values)
CASES: dict[str, tuple[ColumnKind, pa.DataType, st.SearchStrategy[object]]] = {
    "int64": (ColumnKind.INTEGER, pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "int16": (ColumnKind.INTEGER, pa.int16(), st.integers(-(2**15), 2**15 - 1)),
    "decimal": (
        ColumnKind.DECIMAL,
        pa.decimal128(38, 10),
        st.decimals(
            min_value=Decimal("-1e27"), max_value=Decimal("1e27"), places=10, allow_nan=False
        ),
    ),
    "float64": (ColumnKind.FLOAT, pa.float64(), st.floats()),
    "bool": (ColumnKind.BOOLEAN, pa.bool_(), st.booleans()),
    "string": (ColumnKind.STRING, pa.string(), st.text()),
    "json": (ColumnKind.JSON, pa.string(), st.text()),
    "date": (ColumnKind.DATE, pa.date32(), st.dates()),
    "datetime": (ColumnKind.DATETIME, pa.timestamp("us"), st.datetimes(**IN_RANGE)),
    "timestamp": (
        ColumnKind.TIMESTAMP,
        pa.timestamp("us", "UTC"),
        st.datetimes(**IN_RANGE).map(lambda v: v.replace(tzinfo=UTC)),
    ),
    "time": (ColumnKind.TIME, pa.time64("us"), st.times()),
    "bytes": (ColumnKind.BYTES, pa.binary(), st.binary()),
    # other Arrow types drivers produce (python-oracledb's data frames: large strings and
    # binaries, second to nanosecond timestamps, decimal256)
    "large_string": (ColumnKind.STRING, pa.large_string(), st.text()),
    "large_binary": (ColumnKind.BYTES, pa.large_binary(), st.binary()),
    "float32": (ColumnKind.FLOAT, pa.float32(), st.floats(width=32)),
    "decimal256": (
        ColumnKind.DECIMAL,
        pa.decimal256(60, 20),
        st.decimals(
            min_value=Decimal("-1e39"), max_value=Decimal("1e39"), places=20, allow_nan=False
        ),
    ),
    # a scale beyond BIGNUMERIC's 38: every value is refused, by both encoders alike
    "decimal256_wide": (
        ColumnKind.DECIMAL,
        pa.decimal256(76, 40),
        st.decimals(
            min_value=Decimal("-1e30"), max_value=Decimal("1e30"), places=40, allow_nan=False
        ),
    ),
    "datetime_s": (
        ColumnKind.DATETIME,
        pa.timestamp("s"),
        st.datetimes(**IN_RANGE).map(lambda v: v.replace(microsecond=0)),
    ),
    "datetime_ms": (
        ColumnKind.DATETIME,
        pa.timestamp("ms"),
        st.datetimes(**IN_RANGE).map(lambda v: v.replace(microsecond=v.microsecond // 1000 * 1000)),
    ),
    "date64": (ColumnKind.DATE, pa.date64(), st.dates()),
    "time32": (
        ColumnKind.TIME,
        pa.time32("ms"),
        st.times().map(lambda v: v.replace(microsecond=v.microsecond // 1000 * 1000)),
    ),
}


def _outcome(encode: Callable[[], list[str]]) -> list[str] | str:
    try:
        return encode()
    except DataError as exc:
        return "refused: " + exc.message.split(" holds ")[0]


def _both(kind: ColumnKind, arrow_type: pa.DataType, values: list[object], marker: str) -> None:
    """The same records from both encoders, or the same column named in both refusals."""
    column = Column("c", str(arrow_type), kind, True)
    batch = pa.record_batch([pa.array(values, arrow_type)], names=["c"])
    expected = _outcome(lambda: BatchEncoder([column], marker).encode([(v,) for v in values]))
    got = _outcome(lambda: ArrowEncoder([column], marker).records(batch).to_pylist())
    assert got == expected


@pytest.mark.parametrize("case", sorted(CASES))
@settings(max_examples=40)
@given(data=st.data())
def test_arrow_cells_equal_row_cells(data: st.DataObject, case: str) -> None:
    kind, arrow_type, strategy = CASES[case]
    values = data.draw(st.lists(st.one_of(st.none(), strategy), max_size=30))
    # '' (Oracle's default) quotes empty text and bytes, '0' refuses zeros, 'a' the text
    # "a": both encoders must write and refuse the same values.
    marker = data.draw(st.sampled_from(["\\N", "", "0", "a"]))
    _both(kind, arrow_type, values, marker)


def test_records_join_columns_and_fill_the_marker() -> None:
    columns = [
        Column("i", "int8", ColumnKind.INTEGER, True),
        Column("s", "text", ColumnKind.STRING, True),
        Column("f", "float8", ColumnKind.FLOAT, True),
    ]
    batch = pa.record_batch(
        [pa.array([1, None]), pa.array(['a "b"', ""]), pa.array([None, 1e-5])],
        names=["i", "s", "f"],
    )
    assert ArrowEncoder(columns, "\\N").records(batch).to_pylist() == [
        '1,"a ""b""",\\N',
        '\\N,"",1e-05',
    ]


def _random_doubles(count: int) -> list[float]:
    rng = random.Random(20261130)
    doubles = [
        struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(count)
    ]
    # the common magnitudes, with every digit count
    doubles += [
        round(rng.uniform(-1, 1) * 10.0 ** rng.randint(-20, 20), rng.randint(0, 17))
        for _ in range(count)
    ]
    # and the neighbourhood of every power of ten, where the notation changes
    for exponent in range(-330, 310):
        base = 10.0**exponent if -324 < exponent < 309 else 0.0
        doubles += [base, math.nextafter(base, 0), math.nextafter(base, math.inf), -base]
    return doubles


def test_float_layout_matches_format_float_on_many_doubles() -> None:
    doubles = _random_doubles(100_000)
    column = Column("f", "float8", ColumnKind.FLOAT, True)
    batch = pa.record_batch([pa.array(doubles, pa.float64())], names=["f"])
    got = ArrowEncoder([column], "\\N").records(batch).to_pylist()
    mismatches = [(d, g) for d, g in zip(doubles, got, strict=True) if g != format_float(d)]
    assert mismatches == []


def test_postgres_numeric_text_is_kept_and_nan_refused() -> None:
    column = Column("n", "numeric", ColumnKind.DECIMAL, True)
    encoder = ArrowEncoder([column], "\\N")
    text = [
        "123.4500000000",
        "-0.000000000000000000001",
        None,
        "99999999999999999999999999999999999999",
    ]
    batch = pa.record_batch([pa.array(text, pa.string())], names=["n"])
    assert encoder.records(batch).to_pylist() == [t if t else "\\N" for t in text]
    for special in ("NaN", "-inf", "Infinity"):
        with pytest.raises(DataError, match="'n'"):
            encoder.records(pa.record_batch([pa.array([special])], names=["n"]))


@settings(max_examples=100)
@given(
    texts=st.lists(
        st.builds(
            lambda whole, fraction: f"{whole}.{fraction}" if fraction else str(whole),
            st.integers(-(10**20), 10**20),
            st.text("0123456789", max_size=45),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_postgres_numeric_text_beyond_38_fractional_digits_is_refused_like_rows(
    texts: list[str],
) -> None:
    """PostgreSQL's numeric as ADBC's text: the Arrow path writes it as is up to 38
    fractional digits and refuses more, exactly as the row path does with the Decimals."""
    column = Column("n", "numeric", ColumnKind.DECIMAL, True)
    batch = pa.record_batch([pa.array(texts, pa.string())], names=["n"])
    got = _outcome(lambda: ArrowEncoder([column], "\\N").records(batch).to_pylist())
    rows = [(Decimal(t),) for t in texts]
    assert got == _outcome(lambda: BatchEncoder([column], "\\N").encode(rows))
    if any(len(t.partition(".")[2]) > 38 for t in texts):
        assert isinstance(got, str) and "'n'" in got
    else:
        assert got == texts


@pytest.mark.parametrize(
    ("text", "inside"),
    [
        (str(BIGNUMERIC_MAX), True),  # the edge: 39 integer digits, 38 fractional
        (str(BIGNUMERIC_MIN), True),  # the other edge, one step further from zero
        ("-578960446186580977117854925043439539266.34992332820282019728792003956564819969", False),
        ("-5" + "0" * 38, True),
        ("9" * 38, True),
        ("578960446186580977117854925043439539267", False),  # just past the edge
        ("-" + "9" * 45, False),
        ("1" + "0" * 125, False),  # an unconstrained NUMBER's reach
    ],
)
def test_numeric_text_beyond_bignumerics_range_is_refused_like_rows(
    text: str, inside: bool
) -> None:
    """Text of more than 38 integer digits leaves Arrow's fast path; the reference writes it
    in full up to BIGNUMERIC's maximum and refuses it beyond, on both paths alike."""
    column = Column("n", "numeric", ColumnKind.DECIMAL, True)
    batch = pa.record_batch([pa.array(["1.5", text], pa.string())], names=["n"])
    got = _outcome(lambda: ArrowEncoder([column], "\\N").records(batch).to_pylist())
    rows = [(Decimal("1.5"),), (Decimal(text),)]
    assert got == _outcome(lambda: BatchEncoder([column], "\\N").encode(rows))
    if inside:
        assert got == ["1.5", text]
    else:
        with pytest.raises(DataError, match="'n'.*beyond BigQuery's BIGNUMERIC"):
            ArrowEncoder([column], "\\N").records(batch)


def test_small_arrow_decimals_are_written_without_exponent() -> None:
    values = [Decimal("0.0000000010"), Decimal("-0.0000000001"), Decimal("0E-10")]
    _both(ColumnKind.DECIMAL, pa.decimal128(20, 10), values, "\\N")


@pytest.mark.parametrize(
    ("kind", "arrow_type", "value"),
    [
        (ColumnKind.DATE, pa.date32(), -800_000),  # before year 1, as days since 1970
        (ColumnKind.DATE, pa.date32(), 3_000_000),  # after 9999
        (ColumnKind.DATETIME, pa.timestamp("us"), -(2**62)),
        (ColumnKind.TIMESTAMP, pa.timestamp("us", "UTC"), 2**62),
    ],
)
def test_values_outside_bigquery_years_fail(
    kind: ColumnKind, arrow_type: pa.DataType, value: int
) -> None:
    column = Column("d", "x", kind, True)
    storage = pa.array([value], pa.int32() if arrow_type == pa.date32() else pa.int64())
    batch = pa.record_batch([storage.cast(arrow_type)], names=["d"])
    with pytest.raises(DataError, match="outside years 1-9999"):
        ArrowEncoder([column], "\\N").records(batch)


@pytest.mark.parametrize(
    ("kind", "arrow_type", "value", "marker"),
    [
        (ColumnKind.STRING, pa.string(), "\\N", "\\N"),
        (ColumnKind.INTEGER, pa.int64(), 0, "0"),
        (ColumnKind.FLOAT, pa.float64(), 1e-5, "1e-05"),
    ],
)
def test_a_value_written_as_the_marker_fails(
    kind: ColumnKind, arrow_type: pa.DataType, value: object, marker: str
) -> None:
    column = Column("c", "x", kind, True)
    batch = pa.record_batch([pa.array([value], arrow_type)], names=["c"])
    with pytest.raises(DataError, match="null marker"):
        ArrowEncoder([column], marker).records(batch)


def test_zoned_values_in_a_datetime_column_fail() -> None:
    column = Column("d", "timestamp", ColumnKind.DATETIME, True)
    batch = pa.record_batch(
        [pa.array([dt.datetime(2020, 1, 1, tzinfo=UTC)], pa.timestamp("us", "UTC"))], names=["d"]
    )
    with pytest.raises(DataError, match="time zone"):
        ArrowEncoder([column], "\\N").records(batch)


def test_other_zones_are_written_in_utc() -> None:
    column = Column("t", "timestamptz", ColumnKind.TIMESTAMP, True)
    moment = dt.datetime(2020, 1, 1, 12, 30, 0, 250000, tzinfo=UTC)
    batch = pa.record_batch([pa.array([moment], pa.timestamp("us", "Asia/Kolkata"))], names=["t"])
    assert ArrowEncoder([column], "\\N").records(batch).to_pylist() == [
        "2020-01-01 12:30:00.25+00:00"
    ]


def test_common_values_are_formatted_without_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot loop stays in Arrow: no per-value Python for typical values of each kind."""
    import exporter.canonical.arrow_text as arrow_text

    def refuse(*_args: object) -> list[str]:
        raise AssertionError("per-value Python was used")

    monkeypatch.setattr(arrow_text, "format_float", refuse)
    monkeypatch.setattr(BatchEncoder, "encode_column", refuse)
    rng = random.Random(7)
    arrays = {
        ColumnKind.INTEGER: pa.array([rng.randint(-(10**12), 10**12) for _ in range(500)]),
        ColumnKind.DECIMAL: pa.array(
            [f"{rng.randint(-(10**9), 10**9)}.{rng.randint(0, 99):02d}" for _ in range(500)]
        ),
        ColumnKind.FLOAT: pa.array(
            [rng.uniform(-1e13, 1e13) for _ in range(500)] + [0.0, -0.0, 1e-30, 5e15]
        ),
        ColumnKind.STRING: pa.array(["x", 'q"', None] * 100),
        ColumnKind.DATE: pa.array([dt.date(2024, 1, 2)] * 10),
        ColumnKind.TIMESTAMP: pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)] * 10),
        ColumnKind.BOOLEAN: pa.array([True, False, None]),
    }
    for kind, values in arrays.items():
        column = Column("c", "x", kind, True)
        records = ArrowEncoder([column], "\\N").records(pa.record_batch([values], names=["c"]))
        assert len(records) == len(values)


@pytest.mark.parametrize("with_hash", [False, True])
def test_record_lines_equal_the_row_paths_lines(with_hash: bool) -> None:
    records = ['1,"a"', '\\N,"\u00e9\U0001f389"', '3,""', '4,"x\ny"'] * 3
    array = pa.array(records, pa.string())
    expected = csv_lines(records, with_hash)
    assert bytes(record_lines(array, with_hash)) == expected
    # a slice of a larger array (record_lines joins into a fresh array, offset 0)
    assert bytes(record_lines(array.slice(5, 4), with_hash)) == csv_lines(records[5:9], with_hash)
    assert bytes(record_lines(array.slice(0, 0), with_hash)) == b""


def test_nanoseconds_are_refused_not_dropped() -> None:
    column = Column("t", "TIMESTAMP(9)", ColumnKind.DATETIME, True)
    values = pa.array([1_700_000_000_123_456_789], pa.int64()).cast(pa.timestamp("ns"))
    with pytest.raises(DataError, match="cannot express"):
        ArrowEncoder([column], "").records(pa.record_batch([values], names=["t"]))
    whole = pa.array([1_700_000_000_123_456_000], pa.int64()).cast(pa.timestamp("ns"))
    records = ArrowEncoder([column], "").records(pa.record_batch([whole], names=["t"]))
    assert records.to_pylist() == ["2023-11-14 22:13:20.123456"]


def test_time_24_00_is_refused() -> None:
    column = Column("t", "time", ColumnKind.TIME, True)
    day = pa.array([86_399_999_999, 86_400_000_000], pa.int64()).cast(pa.time64("us"))
    with pytest.raises(DataError, match="outside the day"):
        ArrowEncoder([column], "\\N").records(pa.record_batch([day], names=["t"]))


@pytest.mark.skipif(rows_module._c_encode is None, reason="the C extension is not built")
def test_doubles_and_bytes_go_through_the_c_encoder_with_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import exporter.canonical.arrow as arrow_module

    doubles = _random_doubles(20_000) + [math.nan, math.inf, -math.inf, -0.0]
    blobs = [bytes([i % 256]) * (i % 7) for i in range(len(doubles))]
    columns = [
        Column("f", "float8", ColumnKind.FLOAT, True),
        Column("b", "bytea", ColumnKind.BYTES, True),
    ]
    batch = pa.record_batch(
        [pa.array(doubles + [None], pa.float64()), pa.array(blobs + [None], pa.binary())],
        names=["f", "b"],
    )
    in_c = ArrowEncoder(columns, "\\N").records(batch).to_pylist()

    def refuse(*_args: object) -> None:
        raise AssertionError("Arrow's or Python's per-column path was used")

    monkeypatch.setattr(arrow_module, "float_cells", refuse)
    monkeypatch.setattr(BatchEncoder, "encode_column", refuse)
    assert ArrowEncoder(columns, "\\N").records(batch).to_pylist() == in_c
    monkeypatch.undo()
    monkeypatch.setattr(rows_module, "_c_encode", None)  # not built: Arrow's and Python's
    assert ArrowEncoder(columns, "\\N").records(batch).to_pylist() == in_c
    reference = BatchEncoder(columns, "\\N").encode_columns([doubles + [None], blobs + [None]])
    assert in_c == reference
