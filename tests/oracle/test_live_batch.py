"""Live Oracle, the batch path (`fetch_path: batch`, exporter/sources/oracle_arrow.py): the
chunks are read with python-oracledb's fetch_df_batches and written from Arrow, and the files
are what the rows path writes. `auto` stays on Python rows until this suite has passed on a
real database (docs/ORACLE.md, "The batch path").

test_live_types.py runs every type on fetch paths auto, batch and rows; this module adds the
types the two paths read differently (NUMBERs of every precision and scale, read as int64,
decimal128 or TO_CHAR's text; ROWID and UROWID; TIMESTAMP(9)), checks the read path each
chunk record names, repeats test_live.py's awkward values on the batch path, and reads a
resumed table at the SCN pinned in its plan (the session's flashback or AS OF SCN around
fetch_df_batches). Expected
cells are literals from Oracle's storage rules: NUMBER(p, s) rounds half away from zero to s
places (NUMBER(5, -2) to hundreds), keeps no trailing zero, and python-oracledb cuts
TIMESTAMP(9) to microseconds on both paths.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exporter.export.run import run_export
from exporter.layout import ExportLayout
from exporter.model import TableRef
from tests.conftest import make_config
from tests.csvcheck import table_rows
from tests.oracle.live_helpers import (
    Live,
    Names,
    bind_rows,
    drop_table,
    insert_sql,
    metadata_json,
    needs_oracle,
    plan_json,
    qq,
    records,
    source,
)
from tests.oracle.test_live import AWKWARD_DDL, COLUMNS, _same, awkward_rows, stored

pytestmark = needs_oracle

N = ("", False)  # NULL under Oracle's '' marker
NUM_COLUMNS = "ID P S W STAR NEG TINY FREE FL TS9 RID URID".split()
NUM_DDL = (
    "(id NUMBER(10) PRIMARY KEY, p NUMBER(10, 2), s NUMBER(20, 12), w NUMBER(38, 0), "
    "star NUMBER(*, 0), neg NUMBER(5, -2), tiny NUMBER(3, 5), free NUMBER, fl FLOAT, "
    "ts9 TIMESTAMP(9), rid ROWID, urid UROWID)"
)
A_ROWID = "AAAR3sAAEAAAACXAAA"  # object AAAR3s, file AAE, block AAAACX, row AAA
BIG = "1234567890123456789012345678901234567"  # 37 digits, x 1e64 in row 4
NUM_ROWS: list[tuple[Any, ...]] = [
    (1, Decimal("1.5"), Decimal("1e-7"), 10**38 - 1, 12345678901234567890123456, 12345)
    + (Decimal("0.00012"), Decimal("0.5"), Decimal("0.1"), None, A_ROWID, A_ROWID),
    (2, Decimal("-0.01"), 0, -1, 0, -149, Decimal("-0.00001"), Decimal("-0.5"), 0)
    + (None, None, None),
    (3, *[None] * 11),
    (4, Decimal("99999999.99"), Decimal("99999999.999999999999"), 1)
    + (-12345678901234567890123456, 0, 0, Decimal(f"{BIG}E64"), Decimal("1e-38"))
    + (None, None, None),
]
EXPECTED = [
    [("1", False), ("1.5", False), ("0.0000001", False), ("9" * 38, False)]
    + [("12345678901234567890123456", False), ("12300", False), ("0.00012", False)]
    + [("0.5", False), ("0.1", False), ("2024-01-02 03:04:05.123456", False)]
    + [(A_ROWID, True), (A_ROWID, True)],
    [("2", False), ("-0.01", False), ("0", False), ("-1", False), ("0", False)]
    + [("-100", False), ("-0.00001", False), ("-0.5", False), ("0", False)]
    + [("0001-01-01 00:00:00", False), N, N],
    [("3", False), *[N] * 11],
    [("4", False), ("99999999.99", False), ("99999999.999999999999", False), ("1", False)]
    + [("-12345678901234567890123456", False), ("0", False), ("0", False)]
    # 101 digits: TO_CHAR writes them in scientific notation (beyond 64 characters)
    + [(BIG + "0" * 64, False), ("0." + "0" * 37 + "1", False)]
    + [("9999-12-31 23:59:59.999999", False), N, N],
]


def statements(n: Names) -> dict[str, str]:
    awkward, nums, snap = n.table("BAWK"), n.table("BNUM"), n.table("BSNAP")
    return {
        "create_awkward": f"CREATE TABLE {qq(n.owner, awkward)} {AWKWARD_DDL}",
        "insert_awkward": insert_sql(n.owner, awkward, COLUMNS),
        "zoned_awkward": f"UPDATE {qq(n.owner, awkward)} "
        "SET tstz = TIMESTAMP '2024-06-30 23:59:59.123456 -07:00', "
        "tsltz = TIMESTAMP '2024-01-01 12:00:00 +05:30' WHERE id = 2",
        "drop_awkward": drop_table(n.owner, awkward),
        "create_nums": f"CREATE TABLE {qq(n.owner, nums)} {NUM_DDL}",
        "insert_nums": insert_sql(n.owner, nums, NUM_COLUMNS),
        # Nanoseconds as literals: a bound datetime holds microseconds.
        "ts9_nums": f"UPDATE {qq(n.owner, nums)} SET ts9 = CASE id "
        "WHEN 1 THEN TIMESTAMP '2024-01-02 03:04:05.123456789' "
        "WHEN 2 THEN TIMESTAMP '0001-01-01 00:00:00' "
        "WHEN 4 THEN TIMESTAMP '9999-12-31 23:59:59.999999999' END",
        "drop_nums": drop_table(n.owner, nums),
        "create_snap": f"CREATE TABLE {qq(n.owner, snap)} "
        "(id NUMBER(10) PRIMARY KEY, n NUMBER(12, 2), c CLOB)",
        "fill_snap": f"INSERT INTO {qq(n.owner, snap)} (id, n, c) "
        "SELECT LEVEL, LEVEL + 0.5, TO_CLOB('row ' || LEVEL) FROM DUAL CONNECT BY LEVEL <= 3",
        "update_snap": f"UPDATE {qq(n.owner, snap)} SET n = -n, c = EMPTY_CLOB() WHERE id = 1",
        "delete_snap": f"DELETE FROM {qq(n.owner, snap)} WHERE id = 2",
        "append_snap": f"INSERT INTO {qq(n.owner, snap)} (id, n, c) VALUES (4, 4, NULL)",
        "drop_snap": drop_table(n.owner, snap),
    }


@pytest.fixture(scope="module")
def tables(live: Live) -> dict[str, str]:
    sql = statements(live.names)
    live.create(sql["create_awkward"], sql["drop_awkward"])
    for row in bind_rows(awkward_rows()):  # one by one: row 1 is all NULL, so untyped
        live.run(sql["insert_awkward"], row)
    live.run(sql["zoned_awkward"])
    live.create(sql["create_nums"], sql["drop_nums"])
    for row in bind_rows(NUM_ROWS):
        live.run(sql["insert_nums"], row)
    live.run(sql["ts9_nums"])
    return {"awkward": live.names.table("BAWK"), "nums": live.names.table("BNUM")}


def _export(live: Live, table: str, out: Path, fetch_path: str) -> Any:
    owner = live.names.owner
    config = make_config(
        source(),
        out,
        schemas=[owner],
        include=[f"{owner}.{table}"],
        fetch_path=fetch_path,
        enable_row_hash=False,
    )
    (result,) = run_export(config, inline=True, show_progress=False).results
    assert (result.status, result.errors) == ("SUCCEEDED", [])
    return result


@pytest.mark.parametrize(
    ("fetch_path", "read_path"), [("batch", "arrow"), ("rows", "rows"), ("auto", "rows")]
)
def test_numbers_and_rowids_are_written_alike_on_every_path(
    live: Live, tables: dict[str, str], tmp_path: Path, fetch_path: str, read_path: str
) -> None:
    out = tmp_path / "out"
    result = _export(live, tables["nums"], out, fetch_path)
    assert {s.read_path for s in result.stats} == {read_path}
    assert records(out, live.names.owner, tables["nums"]) == EXPECTED


def test_every_awkward_value_round_trips_on_the_batch_path(
    live: Live, tables: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = _export(live, tables["awkward"], out, "batch")
    assert {s.read_path for s in result.stats} == {"arrow"}
    columns = list(result.plan.columns)
    got = sorted(table_rows(out, live.names.owner, tables["awkward"], columns, ""), key=_first)
    want = sorted((stored(r) for r in awkward_rows()), key=_first)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        for column, gv, wv in zip(columns, g, w, strict=True):
            assert _same(gv, wv), (g[0], column.name, gv, wv)


def _first(row: tuple[Any, ...]) -> Any:
    return row[0]


def test_a_resumed_batch_export_reads_the_scn_pinned_in_its_plan(
    live: Live, tmp_path: Path
) -> None:
    n = live.names
    sql = statements(n)
    live.create(sql["create_snap"], sql["drop_snap"])
    live.run(sql["fill_snap"])
    table, out = n.table("BSNAP"), tmp_path / "out"
    image = [
        [("1", False), ("1.5", False), ("row 1", True)],
        [("2", False), ("2.5", False), ("row 2", True)],
        [("3", False), ("3.5", False), ("row 3", True)],
    ]
    _export(live, table, out, "batch")
    scn = plan_json(out, n.owner, table)["snapshot"]
    assert scn and records(out, n.owner, table) == image
    # Chunk files deleted, the rows changed by another session: the plan (and its SCN) is
    # reused, and the batch path reads the image of that SCN, not today's rows.
    for path in ExportLayout(out).existing_chunk_files(TableRef(n.owner, table)).values():
        path.unlink()
    for key in ("update_snap", "delete_snap", "append_snap"):
        live.run(sql[key])

    result = _export(live, table, out, "batch")

    assert {s.read_path for s in result.stats} == {"arrow"}
    assert plan_json(out, n.owner, table)["snapshot"] == scn
    assert metadata_json(out, n.owner, table)["snapshot"] == scn
    assert records(out, n.owner, table) == image
