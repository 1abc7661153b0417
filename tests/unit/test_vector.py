"""The whole-column fast paths write exactly what the checked per-cell path writes, and refuse
what it refuses with the same error: on enumerated edge cases, and on random batches drawn
the same way every run (derandomized)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.canonical.cells import cell_function, format_float, marker_error
from exporter.canonical.columns import column_cells
from exporter.canonical.rows import BatchEncoder
from exporter.errors import DataError
from exporter.model import Column, ColumnKind

MARKER = "\\N"
ZONES = st.sampled_from(
    [
        dt.timezone.utc,
        dt.timezone(dt.timedelta(hours=5, minutes=30)),
        dt.timezone(-dt.timedelta(hours=8)),
    ]
)
VALUES: dict[ColumnKind, st.SearchStrategy[Any]] = {
    ColumnKind.INTEGER: st.integers(min_value=-(2**63), max_value=2**63 - 1),
    ColumnKind.DECIMAL: st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=10), st.integers()
    ),
    ColumnKind.FLOAT: st.floats(),
    ColumnKind.BOOLEAN: st.booleans(),
    ColumnKind.STRING: st.text(),
    ColumnKind.DATE: st.dates(),
    ColumnKind.DATETIME: st.datetimes(),
    ColumnKind.TIMESTAMP: st.one_of(
        st.datetimes(
            min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=ZONES
        ),
        st.datetimes(),
    ),
    ColumnKind.TIME: st.times(),
    ColumnKind.BYTES: st.binary(),
}


def reference(column: Column, values: list[Any]) -> list[str]:
    """The checked per-cell path: the cells, or the refusal of a value equal to the marker."""
    cell = cell_function(column)
    if column.kind.is_text and MARKER in values:
        raise marker_error(column.name, MARKER)
    return [MARKER if v is None else cell(v) for v in values]


def outcome(fn: Callable[[], list[str]]) -> tuple[str, Any]:
    """What a path did: its cells, or the type of what it raised (two paths that both crash
    are equal only when they crash alike)."""
    try:
        return ("cells", fn())
    except Exception as exc:  # noqa: BLE001 - compared by type below
        return ("refused", type(exc))


def encoded(column: Column, values: list[Any]) -> list[str]:
    return BatchEncoder([column], MARKER).encode([(v,) for v in values])


def check(kind: ColumnKind, values: list[Any]) -> None:
    column = Column("c", kind.value, kind)
    want = outcome(lambda: reference(column, values))
    got = outcome(lambda: encoded(column, values))
    assert got == want, (kind, values)
    if want[0] == "refused":  # the checked path names what it refuses in a DataError
        assert want[1] is DataError, want


# The cases that matter, every time: bounds, NULL beside values, the values each fast path
# must hand to the checked one (mixed types, aware values in zone-less columns, NaN decimals).
AWARE = dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
CASES: list[tuple[ColumnKind, list[Any]]] = [
    (ColumnKind.INTEGER, [-(2**63), 2**63 - 1, 0, None]),
    (ColumnKind.INTEGER, [1, True]),  # a bool is no integer cell
    (ColumnKind.DECIMAL, [Decimal("1E+3"), Decimal("-0.000"), Decimal("1e-30"), 7, None]),
    (ColumnKind.DECIMAL, [Decimal("NaN")]),
    (ColumnKind.DECIMAL, [Decimal("Infinity"), Decimal(1)]),
    (ColumnKind.FLOAT, [0.1, -0.0, 1e15, 1e16, 1e-5, 1e23, float("nan"), float("-inf"), None]),
    (ColumnKind.FLOAT, [2**53 + 1]),  # an integer no double holds: refused
    (ColumnKind.BOOLEAN, [True, False, None]),
    (ColumnKind.STRING, ["", '"', "a,b\nc", "😀", None]),
    (ColumnKind.STRING, ["\\N"]),  # the marker itself
    (ColumnKind.STRING, [1, "x"]),
    (ColumnKind.DATE, [dt.date(1, 1, 1), dt.date(9999, 12, 31), None]),
    (ColumnKind.DATE, [dt.datetime(2024, 1, 2)]),  # a datetime is no date
    (ColumnKind.DATETIME, [dt.datetime(1, 1, 1), dt.datetime(2024, 1, 2, 3, 4, 5, 600)]),
    (ColumnKind.DATETIME, [AWARE]),  # a zone in a column without one
    (ColumnKind.TIMESTAMP, [AWARE, dt.datetime(2024, 1, 2), None]),
    (ColumnKind.TIMESTAMP, [dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))]),
    (ColumnKind.TIME, [dt.time(0), dt.time(23, 59, 59, 999999), None]),
    (ColumnKind.TIME, [dt.time(1, tzinfo=dt.timezone.utc)]),
    (ColumnKind.BYTES, [b"", b"\x00\xff", None]),
    (ColumnKind.BYTES, [bytearray(b"x"), b"y"]),
]


@pytest.mark.parametrize(("kind", "values"), CASES, ids=lambda v: str(v)[:40])
def test_edge_cases_agree(kind: ColumnKind, values: list[Any]) -> None:
    check(kind, values)


@settings(max_examples=200, derandomize=True)
@given(data=st.data(), kind=st.sampled_from(sorted(VALUES, key=lambda k: k.value)))
def test_fast_column_equals_checked_cells(data: st.DataObject, kind: ColumnKind) -> None:
    check(kind, data.draw(st.lists(st.one_of(st.none(), VALUES[kind]), max_size=40)))


@given(st.lists(st.datetimes(timezones=st.just(dt.timezone.utc)), min_size=1, max_size=30))
def test_utc_timestamps_take_the_fast_path(values: list[dt.datetime]) -> None:
    cells = column_cells(ColumnKind.TIMESTAMP, values, format_float)
    assert cells == reference(Column("t", "timestamptz", ColumnKind.TIMESTAMP), values)


def test_mixed_types_are_left_to_the_checked_path() -> None:
    assert column_cells(ColumnKind.INTEGER, [1, True], format_float) is None
    assert column_cells(ColumnKind.DATE, [dt.datetime(2024, 1, 2)], format_float) is None
    assert column_cells(ColumnKind.DECIMAL, [Decimal(1), 2], format_float) is None
    aware = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    assert column_cells(ColumnKind.DATETIME, [aware], format_float) is None
    assert (
        column_cells(ColumnKind.TIMESTAMP, [aware, dt.datetime(2024, 1, 2)], format_float) is None
    )


class _ZeroOnlyWithoutADate(dt.tzinfo):
    """A zone whose offset for no particular date is 0 but is +01:00 on every real date."""

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0) if when is None else dt.timedelta(hours=1)

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)


def test_fast_timestamps_use_each_values_own_offset() -> None:
    values = [dt.datetime(2024, 1, 2, 3, tzinfo=_ZeroOnlyWithoutADate())]
    column = Column("t", "timestamptz", ColumnKind.TIMESTAMP)
    assert BatchEncoder([column], MARKER).encode([(v,) for v in values]) == [
        "2024-01-02 02:00:00+00:00"
    ]
