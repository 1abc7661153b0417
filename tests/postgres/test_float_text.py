"""encode.format_float must write a double exactly as PostgreSQL's float8out does in the session
the PostgreSQL source opens (extra_float_digits 1 and the rest of SESSION_SETTINGS): the batch
path's cells, and the row hashes over them, must equal the bulk COPY path's byte for byte.

PostgreSQL builds its Ryu with STRICTLY_SHORTEST 0 (src/common/ryu_common.h): it never prints
a decimal that lies exactly halfway between two doubles, even when that decimal is the
shortest, while Python's repr() does, under round-half-even (1e23: PostgreSQL prints
9.999999999999999e+22, repr 1e+23). format_float corrects for that; TIES pins such values.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from exporter.canonical.cells import format_float
from exporter.sources import get_source
from exporter.sources.dialect import Query
from exporter.sources.postgres_sql import SESSION_SETTINGS
from tests.conftest import make_config, pg_source

pytestmark = pytest.mark.postgres

SMALLEST_SUBNORMAL = 5e-324
LARGEST_SUBNORMAL = 2.225073858507201e-308
SMALLEST_NORMAL = 2.2250738585072014e-308
LARGEST = 1.7976931348623157e308

# Doubles whose shortest decimal is exactly halfway to a neighbour (found against PG 15).
TIES = [1e23, 3.092535278770144e18, 6.429560891534334e16, -5.526157682459064e17]

# Every bit pattern is a double: uniform over bits reaches huge, tiny and subnormal values
# (and NaNs with payloads) far more often than uniform over values would.
any_bits = st.integers(min_value=0, max_value=2**64 - 1).map(
    lambda bits: struct.unpack("<d", struct.pack("<Q", bits))[0]
)
doubles = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True),
    st.floats(min_value=-SMALLEST_NORMAL, max_value=SMALLEST_NORMAL),  # zeros and subnormals
    st.floats(min_value=1e-6, max_value=1e17),  # around the fixed / exponent boundaries
    st.integers(min_value=-(2**70), max_value=2**70).map(float),  # whole numbers beyond 2**53
    any_bits,
)


def is_tie(value: float) -> bool:
    """True when repr(value) is exactly halfway between `value` and a neighbouring double."""
    if not math.isfinite(value) or value == 0:
        return False
    shortest, exact = Decimal(repr(value)), Decimal(value)  # both exact, no rounding
    if shortest == exact:
        return False
    neighbour = math.nextafter(value, math.inf if shortest > exact else -math.inf)
    return 2 * shortest == exact + Decimal(neighbour)


@pytest.fixture(scope="module")
def pg_float_session(pg_available: None) -> Iterator[Any]:
    """One connection opened exactly as the exporter's PostgreSQL source opens its sessions."""
    config = make_config(pg_source(), Path("unused-output"))
    conn = get_source(config.source).connect()
    try:
        for name, value in SESSION_SETTINGS.items():  # the settings really are in effect
            ((shown,),) = conn.fetch_all(Query(f"SHOW {name}"))
            assert str(shown).replace(" ", "") == value.replace(" ", ""), (name, shown)
        yield conn
    finally:
        conn.close()


def pg_text(conn: Any, value: float) -> str:
    """PostgreSQL's text for `value`. The parameter goes over as repr() (or NaN, Infinity,
    -Infinity), which the server parses back to the very same double."""
    ((text,),) = conn.fetch_all(Query("SELECT CAST(CAST(%(v)s AS float8) AS text)", {"v": value}))
    return str(text)


def check(conn: Any, value: float) -> None:
    if not math.isnan(value):  # the server holds the same double we format
        ((back,),) = conn.fetch_all(Query("SELECT CAST(%(v)s AS float8)", {"v": value}))
        assert struct.pack("<d", back) == struct.pack("<d", value), (value, back)
    assert format_float(value) == pg_text(conn, value), (value.hex(), repr(value))


def with_examples(test: Any) -> Any:
    for value in (
        0.0,
        -0.0,
        math.inf,
        -math.inf,
        math.nan,
        SMALLEST_SUBNORMAL,
        -SMALLEST_SUBNORMAL,
        3 * SMALLEST_SUBNORMAL,
        -2.5e-310,
        LARGEST_SUBNORMAL,
        SMALLEST_NORMAL,
        LARGEST,
        -LARGEST,
        1e15,
        999999999999999.9,
        123456789012345.67,
        1e16,
        2.0**53,
        2.0**53 + 2,
        1e-4,
        9.999999999999999e-05,
        0.0001234,
        1e-5,
        0.1,
        1 / 3,
        1e22,
        1.7000000001234568e18,
    ):
        test = example(value=value)(test)
    return test


@settings(max_examples=300, deadline=None)
@given(value=doubles)
@with_examples
@example(value=TIES[0])
def test_format_float_equals_postgresql_float8_text(pg_float_session: Any, value: float) -> None:
    check(pg_float_session, value)


def test_halfway_ties_are_printed_as_postgresql_prints_them(pg_float_session: Any) -> None:
    # repr() would print these shortest decimals that lie exactly halfway to a neighbouring
    # double; PostgreSQL's Ryu never prints a tie, and neither may format_float.
    for value in TIES:
        assert is_tie(value), value
        ours, theirs = format_float(value), pg_text(pg_float_session, value)
        assert ours == theirs and float(ours) == value, (ours, theirs)
