"""The whole-column fast paths write exactly what the checked per-cell path writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.canonical.cells import cell_function, format_float
from exporter.canonical.columns import column_cells
from exporter.canonical.rows import BatchEncoder
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
    cell = cell_function(column)
    return [MARKER if v is None else cell(v) for v in values]


@settings(max_examples=60)
@given(data=st.data(), kind=st.sampled_from(sorted(VALUES, key=lambda k: k.value)))
def test_fast_column_equals_checked_cells(data: st.DataObject, kind: ColumnKind) -> None:
    values = data.draw(st.lists(st.one_of(st.none(), VALUES[kind]), max_size=40))
    column = Column("c", kind.value, kind)
    try:
        want = reference(column, values)
    except Exception:  # the checked path refuses a value; the encoder must refuse it too
        want = None
    try:
        got = [r for r in BatchEncoder([column], MARKER).encode([(v,) for v in values])]
    except Exception:
        got = None
    assert got == want


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
