"""canonical/digest.py: the comparison form of values and rows, and the 60-bit digest.

Expected texts are literals written here; the property tests check that a record reads back
one way only (no two different rows share a text) and that value-equal numbers and instants
share one.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporter.canonical.digest import NULL_CELL, compare_cell, compare_record, digest60
from exporter.model import ColumnKind as K

CET = dt.timezone(dt.timedelta(hours=2))


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        (K.INTEGER, 0, "0"),
        (K.INTEGER, -9223372036854775808, "-9223372036854775808"),
        (K.DECIMAL, Decimal("1.50"), "1.5"),
        (K.DECIMAL, Decimal("1.5"), "1.5"),
        (K.DECIMAL, Decimal("100"), "100"),
        (K.DECIMAL, Decimal("1E+2"), "100"),
        (K.DECIMAL, Decimal("-0.000"), "0"),
        (K.DECIMAL, Decimal("0.0000000001"), "0.0000000001"),
        (
            K.DECIMAL,
            Decimal("12345678901234567890123456789.123456789"),
            "12345678901234567890123456789.123456789",
        ),
        (K.DECIMAL, 7, "7"),
        (K.DECIMAL, Decimal("NaN"), "NaN"),
        (K.FLOAT, 0.1, "0.1"),
        (K.FLOAT, 1e20, "1e+20"),
        (K.FLOAT, -0.0, "-0"),
        (K.FLOAT, float("inf"), "Infinity"),
        (K.BOOLEAN, True, "true"),
        (K.BOOLEAN, 0, "false"),
        (K.DATE, dt.date(5, 1, 2), "0005-01-02"),
        (K.DATETIME, dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05.000000"),
        (K.DATETIME, dt.datetime(2024, 1, 2, 3, 4, 5, 120), "2024-01-02 03:04:05.000120"),
        (K.TIMESTAMP, dt.datetime(2024, 1, 2, 12, 0, tzinfo=CET), "2024-01-02 10:00:00.000000"),
        (K.TIMESTAMP, dt.datetime(2024, 1, 2, 10, 0), "2024-01-02 10:00:00.000000"),
        (K.TIME, dt.time(23, 59, 59, 999999), "23:59:59.999999"),
        (K.TIME, dt.time(0, 0), "00:00:00.000000"),
        (K.BYTES, b"\x00\xff", "AP8="),
        (K.BYTES, b"", ""),
        (K.STRING, "", '""'),
        (K.STRING, 'a "b", c\nd', '"a ""b"", c\nd"'),
        (K.STRING, "trailing ", '"trailing "'),
        (K.STRING, 12, '"12"'),
        (K.JSON, {"a": [1, "é"]}, '"{""a"": [1, ""é""]}"'),
        (K.JSON, '{"a":1}', '"{""a"":1}"'),
    ],
)
def test_cells(kind: K, value: Any, text: str) -> None:
    assert compare_cell(kind, value) == text


def test_null_is_the_unquoted_marker_and_never_a_text() -> None:
    assert compare_cell(K.STRING, None) is None
    assert compare_record([K.STRING, K.STRING], [None, "\\N"]) == '\\N,"\\N"'
    assert compare_record([K.STRING], [""]) != compare_record([K.STRING], [None])


def test_a_value_of_the_wrong_type_has_no_form() -> None:
    with pytest.raises(TypeError):
        compare_cell(K.STRING, b"bytes")
    with pytest.raises(TypeError):
        compare_cell(K.DATE, dt.datetime(2024, 1, 1))


def test_digest_is_the_last_15_hex_digits_of_md5() -> None:
    record = '1,"x",\\N'
    full = hashlib.md5(record.encode()).hexdigest()
    assert digest60(record) == int(full[17:], 16) < 2**60


def _cells_of(record: str) -> list[str | None]:
    """Read a record back: `\\N` unquoted is NULL, a quoted cell is text."""
    (row,) = csv.reader([record], strict=True)
    # csv drops the quotes: find which cells were quoted by re-reading positions.
    cells: list[str | None] = []
    position = 0
    for text in row:
        quoted = record[position : position + 1] == '"'
        width = len(text) + text.count('"') + 2 if quoted else len(text)
        cells.append(text if quoted else (None if text == NULL_CELL else text))
        position += width + 1
    return cells


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


@given(st.lists(st.none() | _text, min_size=1, max_size=5))
def test_a_record_of_text_reads_back_to_its_values(values: list[str | None]) -> None:
    record = compare_record([K.STRING] * len(values), values)
    assert _cells_of(record) == values


@given(
    st.lists(st.none() | _text, min_size=1, max_size=4),
    st.lists(st.none() | _text, min_size=1, max_size=4),
)
def test_different_rows_never_share_a_record(a: list[str | None], b: list[str | None]) -> None:
    if a != b:
        assert compare_record([K.STRING] * len(a), a) != compare_record([K.STRING] * len(b), b)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None), st.integers(0, 20))
def test_trailing_zeros_do_not_change_a_number(value: Decimal, zeros: int) -> None:
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    widened = Decimal((sign, (*digits, *[0] * zeros), exponent - zeros))  # 1.5 -> 1.500
    assert widened == value
    assert compare_cell(K.DECIMAL, widened) == compare_cell(K.DECIMAL, value)
    text = compare_cell(K.DECIMAL, value)
    assert text is not None and "E" not in text and "e" not in text
    assert Decimal(text) == value


@given(st.datetimes(timezones=st.timezones()))
def test_one_instant_in_any_zone_is_one_text(moment: dt.datetime) -> None:
    try:
        utc = moment.astimezone(dt.timezone.utc)
    except OverflowError:
        return  # outside years 1-9999 in UTC
    assert compare_cell(K.TIMESTAMP, moment) == compare_cell(K.TIMESTAMP, utc)
