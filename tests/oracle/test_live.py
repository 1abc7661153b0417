"""The Oracle source against a real database: opt-in, run when EXPORTER_TEST_ORACLE_DSN is set
(docs/ORACLE.md, "The live suite", says how to start Oracle Database Free in a container and
which users and grants the suite needs):

    EXPORTER_TEST_ORACLE_DSN=localhost:1521/FREEPDB1 EXPORTER_TEST_ORACLE_USER=exporter_test \\
    EXPORTER_TEST_ORACLE_PASSWORD=... ./run.sh test tests/oracle

This module: awkward values of the everyday types survive the trip, and NUMBER values beyond
BIGNUMERIC's 38 fractional digits fail their table by column. The others: test_live_snapshot
(one SCN across kill -9 and resume), test_live_privileges (a user without DBA views or
flashback; a schema that needs quotes), test_live_shapes (partitions, index-organized tables,
wide keys; `plan` and `check`), test_live_types (every type, cell by cell) and
test_live_workers (spawned workers, thin and thick). Each creates its objects under names
unique to the run and drops them afterwards (conftest.py, live_helpers.py).

The expected values here follow Oracle's storage rules, written out below (not the exporter's
conversion code): '' is NULL; CHAR pads with blanks; NUMBER(p, s) rounds half away from zero
to s places; BINARY_FLOAT keeps a float32, which a double holds exactly.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest

from exporter.export.run import run_export
from tests.conftest import make_config
from tests.csvcheck import table_rows
from tests.oracle.live_helpers import (
    Live,
    Names,
    bind_rows,
    drop_table,
    insert_sql,
    needs_oracle,
    qq,
    records,
    source,
)

pytestmark = needs_oracle

TEXTS = [
    "plain",
    'say "hi"',
    "a,b",
    "line\nbreak",
    "cr\r\nlf",
    "tab\there",
    "back\\slash",
    "\\N",
    "héllo",
    "東京",
    "emoji 🎉",
    " padded ",
    '"',
    ",",
]
COLUMNS = "ID TXT NTXT CH BIG MONEY FREE FL BD BF D TS TSTZ TSLTZ CL BL RW".split()
AWKWARD_DDL = (
    "(id NUMBER(10) PRIMARY KEY, txt VARCHAR2(200), ntxt NVARCHAR2(100), ch CHAR(5 CHAR), "
    "big NUMBER(38, 0), money NUMBER(38, 10), free NUMBER, fl FLOAT, "
    "bd BINARY_DOUBLE, bf BINARY_FLOAT, d DATE, ts TIMESTAMP(9), "
    "tstz TIMESTAMP(6) WITH TIME ZONE, tsltz TIMESTAMP(6) WITH LOCAL TIME ZONE, "
    "cl CLOB, bl BLOB, rw RAW(64))"
)
UTC = dt.timezone.utc
BIGNUMERIC_EDGE_38 = Decimal("5.7896044618658097711785492504343953926E+38")  # <= BIGNUMERIC_MAX


def statements(n: Names) -> dict[str, str]:
    awkward = n.table("AWKWARD")
    return {
        "create_awkward": f"CREATE TABLE {qq(n.owner, awkward)} {AWKWARD_DDL}",
        "insert_awkward": insert_sql(n.owner, awkward, COLUMNS),
        # Zoned values as literals: what a bind would do with a zone is the driver's business.
        "zoned_awkward": f"UPDATE {qq(n.owner, awkward)} "
        "SET tstz = TIMESTAMP '2024-06-30 23:59:59.123456 -07:00', "
        "tsltz = TIMESTAMP '2024-01-01 12:00:00 +05:30' WHERE id = 2",
        "drop_awkward": drop_table(n.owner, awkward),
        **{
            f"{verb}_{role}": sql
            for role in ("WIDE", "NARROW")
            for verb, sql in (
                ("create", f"CREATE TABLE {qq(n.owner, n.table(role))} (id NUMBER(10), n NUMBER)"),
                ("insert", insert_sql(n.owner, n.table(role), ["ID", "N"])),
                ("drop", drop_table(n.owner, n.table(role))),
            )
        },
    }


def awkward_rows() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [
        (1, *[None] * 16),  # every column NULL
        (
            2,
            *("", "", " "),
            *(10**38 - 1, Decimal("9999999999999999999999999999.9999999999")),
            *(Decimal("0.000000000000000000000000000000000001"), Decimal("1.5")),
            *(1e308, 0.1),
            *(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)),
            *(None, None),
            *("x" * 3000, bytes(range(256)) * 5, b"\x00\xff"),
        ),
        # FREE: the edge of BIGNUMERIC's range in 38 digits (beyond it fails: test below).
        (
            3,
            None,
            None,
            None,
            -(10**38 - 1),
            Decimal("-0.0000000001"),
            BIGNUMERIC_EDGE_38.copy_negate(),
        )
        + (None, float("nan"), float("-inf"), None, None, None, None, "", b"", None),
    ]
    for i, text in enumerate(TEXTS):
        rows.append(
            (100 + i, text, text, text[:5], i, Decimal(i) / 7, Decimal(f"{i}e-{i}"), None)
            + (i / 3, None, dt.datetime(2001, 1, 1, 1, 1, 1), None, None, None)
            + (text * 3, text.encode(), text.encode()[:64])
        )
    return rows


def stored(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """The values Oracle keeps of an inserted row, as Python values."""
    out = [None if v in ("", b"") else v for v in row]  # '' and an empty RAW are NULL
    ident = out[0]
    if out[3] is not None:
        out[3] = out[3].ljust(5)  # CHAR(5 CHAR) pads with blanks
    if out[5] is not None:
        with localcontext() as wide:  # 38 digits: beyond the default context's 28
            wide.prec = 60
            out[5] = out[5].quantize(Decimal("1e-10"), ROUND_HALF_UP)  # NUMBER(38, 10)
    if out[9] is not None:
        out[9] = struct.unpack("f", struct.pack("f", out[9]))[0]  # BINARY_FLOAT
    if ident == 2:  # the literals of "zoned_awkward", in UTC
        out[12] = dt.datetime(2024, 7, 1, 6, 59, 59, 123456, tzinfo=UTC)
        out[13] = dt.datetime(2024, 1, 1, 6, 30, tzinfo=UTC)
    return tuple(out)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return bool(a == b)


@pytest.fixture(scope="module")
def awkward(live: Live) -> str:
    sql = statements(live.names)
    live.create(sql["create_awkward"], sql["drop_awkward"])
    for row in bind_rows(awkward_rows()):  # one by one: row 1 is all NULL, so untyped
        live.run(sql["insert_awkward"], row)
    live.run(sql["zoned_awkward"])
    return live.names.table("AWKWARD")


@pytest.mark.parametrize("fetch_path", ["auto", "rows"])
def test_every_awkward_value_round_trips(
    live: Live, awkward: str, tmp_path: Path, fetch_path: str
) -> None:
    owner = live.names.owner
    out = tmp_path / "out"
    config = make_config(
        source(), out, schemas=[owner], include=[f"{owner}.{awkward}"], fetch_path=fetch_path
    )
    (result,) = run_export(config, inline=True, show_progress=False).results
    assert (result.status, result.errors) == ("SUCCEEDED", [])
    assert result.plan is not None
    columns = list(result.plan.columns)
    assert [c.name for c in columns] == COLUMNS
    got = sorted(table_rows(out, owner, awkward, columns, ""), key=lambda r: r[0])
    want = sorted((stored(r) for r in awkward_rows()), key=lambda r: r[0])
    assert len(got) == len(want) == 3 + len(TEXTS)
    for g, w in zip(got, want, strict=True):
        for column, gv, wv in zip(columns, g, w, strict=True):
            assert _same(gv, wv), (g[0], column.name, gv, wv)


@pytest.mark.parametrize(
    ("bad", "why", "good", "good_text"),
    [
        # More than BIGNUMERIC's 38 fractional digits; 38 are written in full.
        (
            Decimal("1e-39"),
            "39 fractional digits",
            Decimal("-1e-38"),
            "-0.00000000000000000000000000000000000001",
        ),
        # Beyond BIGNUMERIC's range (an unconstrained NUMBER reaches 9.99e125); its edge is
        # written in full.
        (
            Decimal("-1e125"),
            "beyond BigQuery's BIGNUMERIC",
            BIGNUMERIC_EDGE_38,
            "578960446186580977117854925043439539260",
        ),
    ],
    ids=["fraction", "range"],
)
def test_numbers_bigquery_cannot_hold_fail_their_table(
    live: Live, tmp_path: Path, bad: Decimal, why: str, good: Decimal, good_text: str
) -> None:
    n = live.names
    sql = statements(n)
    for role, rows in (
        ("WIDE", [(1, Decimal("1.5")), (2, bad)]),
        ("NARROW", [(1, good)]),
    ):
        live.create(sql[f"create_{role}"], sql[f"drop_{role}"])
        live.run_many(sql[f"insert_{role}"], bind_rows(rows))
    out = tmp_path / "out"
    config = make_config(
        source(),
        out,
        schemas=[n.owner],
        include=[f"{n.owner}.{n.table('WIDE')}", f"{n.owner}.{n.table('NARROW')}"],
        enable_row_hash=False,
    )
    results = {
        r.table.name: r for r in run_export(config, inline=True, show_progress=False).results
    }
    narrow, wide = results[n.table("NARROW")], results[n.table("WIDE")]
    assert narrow.status == "SUCCEEDED", narrow.errors
    assert records(out, n.owner, n.table("NARROW")) == [[("1", False), (good_text, False)]]
    assert wide.status == "FAILED"
    error = wide.errors[0]
    assert n.table("WIDE") in error and "column 'N'" in error, error
    assert why in error, error
