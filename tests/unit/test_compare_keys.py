"""compare/keys.py and compare/plan.py: key values survive JSON with their types, match across
engines by their comparison form, and chunk ranges cover every key once."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from exporter.compare.keys import match_key, shown_key
from exporter.compare.plan import KeyRange, PairPlan, TablePair, compatible, ranges_from
from exporter.keys import decode_key, encode_key, sort_keys
from exporter.model import Column, ColumnKind, TableRef

_values = (
    st.integers(-(2**70), 2**70)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.binary(max_size=20)
    | st.booleans()
    | st.dates()
    | st.datetimes()
    # Drivers hand over instants with a fixed offset (a zone's name is not a key's business).
    | st.datetimes(
        timezones=st.builds(
            dt.timezone, st.timedeltas(dt.timedelta(hours=-23), dt.timedelta(hours=23))
        )
    )
    | st.times()
    | st.floats(allow_nan=False)
    | st.none()
)


@given(st.lists(_values, min_size=1, max_size=4))
# An offset with a fraction of a second, which Python 3.11's fromisoformat drops.
@example([dt.datetime(2000, 1, 1, tzinfo=dt.timezone(dt.timedelta(microseconds=1)))])
def test_a_key_survives_json_with_its_types(values: list[Any]) -> None:
    back = decode_key(json.loads(json.dumps(encode_key(values))))
    assert back == tuple(values)
    assert [type(v) for v in back] == [type(v) for v in values]
    for before, after in zip(values, back, strict=True):
        if isinstance(before, dt.datetime):
            assert before.utcoffset() == after.utcoffset()


def test_keys_match_across_engines_by_their_comparison_form() -> None:
    kinds = [ColumnKind.DECIMAL, ColumnKind.TIMESTAMP]
    cet = dt.timezone(dt.timedelta(hours=1))
    one = match_key(kinds, [5, dt.datetime(2024, 1, 1, 11, 0, tzinfo=cet)])
    other = match_key(kinds, [Decimal("5.000"), dt.datetime(2024, 1, 1, 10, 0, tzinfo=dt.UTC)])
    assert one == other
    assert match_key([ColumnKind.STRING], ["5"]) != match_key([ColumnKind.STRING], ["5 "])


def test_keys_are_shown_as_plain_values_where_json_has_them() -> None:
    kinds = [ColumnKind.INTEGER, ColumnKind.STRING, ColumnKind.DATE, ColumnKind.DECIMAL]
    shown = shown_key(kinds, [7, "a b", dt.date(2024, 2, 29), Decimal("1.50")])
    assert shown == [7, "a b", "2024-02-29", "1.5"]


@given(st.lists(st.integers(-1000, 1000), unique=True, max_size=30), st.integers(-1100, 1100))
def test_ranges_hold_every_key_exactly_once(cuts: list[int], key: int) -> None:
    ranges = ranges_from(sort_keys([(c,) for c in cuts]))
    holding = [
        r
        for r in ranges
        if (r.lower is None or (key,) >= r.lower) and (r.upper is None or (key,) < r.upper)
    ]
    assert len(holding) == 1
    assert [r.index for r in ranges] == list(range(len(cuts) + 1))


def test_a_plan_survives_json() -> None:
    cols = (
        Column("id", "int8", ColumnKind.INTEGER),
        Column("name", "text", ColumnKind.STRING),
    )
    pair = TablePair(TableRef("s", "t"), TableRef("S", "T"), cols, cols, (0, 1))
    plan = PairPlan(pair, ranges_from([(5, "b"), (9, "a")]), 1000, "2026-01-01T00:00:00+00:00")
    back = PairPlan.from_json(json.loads(json.dumps(plan.to_json())))
    assert back == plan
    assert back.ranges[1] == KeyRange(1, (5, "b"), (9, "a"))
    assert back.pair.source_key == cols and back.pair.key_kinds == (
        ColumnKind.INTEGER,
        ColumnKind.STRING,
    )


def test_exact_numbers_compare_with_each_other_and_nothing_else_does() -> None:
    assert compatible(ColumnKind.INTEGER, ColumnKind.DECIMAL)
    assert compatible(ColumnKind.STRING, ColumnKind.STRING)
    assert not compatible(ColumnKind.FLOAT, ColumnKind.DECIMAL)
    assert not compatible(ColumnKind.DATE, ColumnKind.DATETIME)


def test_keys_stored_before_offsets_were_kept_apart_still_read() -> None:
    stored = [["datetime", "2024-03-01T12:00:00+05:30"]]
    (value,) = decode_key(stored)
    assert value.utcoffset() == dt.timedelta(hours=5, minutes=30) and value.hour == 12
