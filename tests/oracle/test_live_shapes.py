"""Live Oracle: how each shape of table is planned and read, by `export`, `plan` and `check`.

Range partitions (one of them empty) and range-hash subpartitions are read per leaf (strategy
"partitions"); a heap table by ROWID ranges ("physical": from DBA_EXTENTS where the test user
may read it, else from a block sample); index-organized tables, whose ROWIDs are logical, on
their primary key ("key"): a composite (VARCHAR2, NUMBER) key cut at a sample, a NUMBER(*,0)
key of 21-26 digits in arithmetic ranges; a table and columns whose names need quotes. One
export with two spawned workers reads them all; expected cells are literals (docs/FORMAT.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.oracle.live_helpers import (
    DSN,
    LIB_DIR,
    USER,
    Live,
    Names,
    bind_rows,
    cli,
    differences,
    drop_table,
    header,
    insert_sql,
    needs_oracle,
    plan_json,
    plan_line,
    q,
    qq,
    records,
    source,
    summary,
    write_config,
)
from tests.oracle.live_helpers import statements as common_statements

pytestmark = needs_oracle

ROLES = ("RANGE", "RHASH", "IOT", "WIDE", "HEAP")
MIXED = "Mixed Case, é"  # the table's name after EXP<run>_
IOT_ROWS = 20_000
HEAP_ROWS = 20_000
WIDE_BASE = 10**20 + 7  # NUMBER(*,0) keys beyond int64: 100000000000000000007 + i * 10**15
RANGE_ROWS = [(1, "low one"), (99, "low, last"), (200, 'high "q"'), (5000, "high\nline")]
RHASH_ROWS = [(3, "a"), (42, "b"), (99, "c"), (100, "d"), (1234, "e"), (99999, "f")]
MIXED_ROWS = [(1, "from", Decimal("1.5"), "x,y"), (2, None, Decimal("-0.25"), '"q"')]


def mixed_name(n: Names) -> str:
    return n.table(MIXED)


def statements(n: Names) -> dict[str, str]:
    t = {role: qq(n.owner, n.table(role)) for role in ROLES}
    pk = q(n.table("IOT_PK"))
    by_id = "(id NUMBER(10) PRIMARY KEY, label VARCHAR2(40))"
    sql = {
        "create_RANGE": f"CREATE TABLE {t['RANGE']} {by_id} PARTITION BY RANGE (id) ("
        "PARTITION p_low VALUES LESS THAN (100), PARTITION p_empty VALUES LESS THAN (200), "
        "PARTITION p_high VALUES LESS THAN (MAXVALUE))",
        "create_RHASH": f"CREATE TABLE {t['RHASH']} {by_id} "
        "PARTITION BY RANGE (id) SUBPARTITION BY HASH (id) ("
        "PARTITION p_a VALUES LESS THAN (100) (SUBPARTITION p_a_1, SUBPARTITION p_a_2), "
        "PARTITION p_b VALUES LESS THAN (MAXVALUE) (SUBPARTITION p_b_1, SUBPARTITION p_b_2))",
        "create_IOT": f"CREATE TABLE {t['IOT']} (region VARCHAR2(20), seq NUMBER(10), "
        f"t VARCHAR2(50), CONSTRAINT {pk} PRIMARY KEY (region, seq)) ORGANIZATION INDEX",
        "fill_IOT": f"INSERT INTO {t['IOT']} (region, seq, t) "
        "SELECT 'r' || MOD(LEVEL, 7) || '-é', LEVEL, 'row ' || LEVEL "
        "FROM DUAL CONNECT BY LEVEL <= :rows",
        "create_WIDE": f"CREATE TABLE {t['WIDE']} (id NUMBER(*, 0) PRIMARY KEY, "
        "label VARCHAR2(40)) ORGANIZATION INDEX",
        "create_HEAP": f"CREATE TABLE {t['HEAP']} (id NUMBER(10) PRIMARY KEY, "
        "label VARCHAR2(120), amount NUMBER(12, 2))",
        "fill_HEAP": f"INSERT INTO {t['HEAP']} (id, label, amount) "
        "SELECT LEVEL, 'row ' || LEVEL, LEVEL + 0.5 FROM DUAL CONNECT BY LEVEL <= :rows",
        "create_MIXED": f"CREATE TABLE {qq(n.owner, mixed_name(n))} ("
        '"Id" NUMBER(10) PRIMARY KEY, "select" VARCHAR2(20), "Amount €" NUMBER(10, 2), '
        '"a,b" VARCHAR2(10))',
        "insert_MIXED": insert_sql(n.owner, mixed_name(n), ["Id", "select", "Amount €", "a,b"]),
        "drop_MIXED": drop_table(n.owner, mixed_name(n)),
        # Every CLOB out of line, in the LOB partition segment of its row's partition.
        "create_LOBPART": f"CREATE TABLE {qq(n.owner, n.table('LOBPART'))} "
        "(id NUMBER(10) PRIMARY KEY, body CLOB) "
        "LOB (body) STORE AS (DISABLE STORAGE IN ROW) PARTITION BY RANGE (id) ("
        "PARTITION p_lob VALUES LESS THAN (1000), PARTITION p_rest VALUES LESS THAN (MAXVALUE))",
        "fill_LOBPART": f"INSERT INTO {qq(n.owner, n.table('LOBPART'))} (id, body) "
        "SELECT LEVEL, TO_CLOB(RPAD('x', 4000, 'x')) FROM DUAL CONNECT BY LEVEL <= 1000",
        "drop_LOBPART": drop_table(n.owner, n.table("LOBPART")),
    }
    for role in ("RANGE", "RHASH", "WIDE"):
        sql[f"insert_{role}"] = insert_sql(n.owner, n.table(role), ["ID", "LABEL"])
    for role in ROLES:
        sql[f"drop_{role}"] = drop_table(n.owner, n.table(role))
    return sql


@pytest.fixture(scope="module")
def shapes(live: Live) -> Iterator[Names]:
    n = live.names
    sql = statements(n)
    for role in (*ROLES, "MIXED"):
        live.create(sql[f"create_{role}"], sql[f"drop_{role}"])
    live.run_many(sql["insert_RANGE"], bind_rows(RANGE_ROWS))
    live.run_many(sql["insert_RHASH"], bind_rows(RHASH_ROWS))
    live.run(sql["fill_IOT"], {"rows": IOT_ROWS})
    wide = [(WIDE_BASE + i * 10**15, f"w{i}") for i in range(3000)] + [(10**25, "big")]
    live.run_many(sql["insert_WIDE"], bind_rows(wide))
    live.run(sql["fill_HEAP"], {"rows": HEAP_ROWS})
    live.run_many(sql["insert_MIXED"], bind_rows(MIXED_ROWS))
    for table in (*(n.table(role) for role in ROLES), mixed_name(n)):
        live.gather_stats(n.owner, table)
    yield n


def _config(folder: Path, n: Names, out: Path, name: str = "config.yaml") -> Path:
    tables = [*(n.table(role) for role in ROLES), mixed_name(n)]
    return write_config(
        folder,
        source(),
        out,
        name=name,
        schemas=[n.owner],
        include=[f"{n.owner}.{t}" for t in tables],
        chunk_threshold_gb=0,
        chunk_size_mb=0.1,
        workers=2,
        enable_row_hash=False,
    )


def _rowid_basis(live: Live) -> str:
    """How ROWID ranges are cut for the test user: from the extents map if it may read
    DBA_EXTENTS (e.g. SELECT_CATALOG_ROLE), else from a block sample."""
    try:
        live.query(common_statements(live.names)["can_read_dba_extents"])
    except Exception:  # noqa: BLE001 - ORA-00942: the view is not visible to this user
        return "block sample"
    return "ROWID ranges from DBA_EXTENTS"


def _leaves(plan: dict[str, Any]) -> set[tuple[str, ...]]:
    return {tuple(leaf) for chunk in plan["chunks"] for leaf in chunk.get("partitions", ())}


def test_every_shape_is_planned_its_way_and_read_whole(
    live: Live, shapes: Names, tmp_path: Path, capsys: Any
) -> None:
    n, o = shapes, shapes.owner
    out = tmp_path / "out"

    ran = cli(["export", "--config", str(_config(tmp_path, n, out)), "--no-progress"], capsys)

    assert ran.code == 0, ran
    report = summary(out)
    assert report["workers"] == 2
    assert all(t["status"] == "SUCCEEDED" for t in report["tables"]), report["tables"]
    plans = {role: plan_json(out, o, n.table(role)) for role in ROLES}
    assert plans["RANGE"]["strategy"] == "partitions"
    assert _leaves(plans["RANGE"]) == {
        ("PARTITION", "P_LOW"),
        ("PARTITION", "P_EMPTY"),
        ("PARTITION", "P_HIGH"),
    }
    assert records(out, o, n.table("RANGE")) == [
        [("1", False), ("low one", True)],
        [("99", False), ("low, last", True)],
        [("200", False), ('high "q"', True)],
        [("5000", False), ("high\nline", True)],
    ]
    assert plans["RHASH"]["strategy"] == "partitions"
    assert _leaves(plans["RHASH"]) == {
        ("SUBPARTITION", "P_A_1"),
        ("SUBPARTITION", "P_A_2"),
        ("SUBPARTITION", "P_B_1"),
        ("SUBPARTITION", "P_B_2"),
    }
    assert records(out, o, n.table("RHASH")) == [
        [("3", False), ("a", True)],
        [("42", False), ("b", True)],
        [("99", False), ("c", True)],
        [("100", False), ("d", True)],
        [("1234", False), ("e", True)],
        [("99999", False), ("f", True)],
    ]
    iot = plans["IOT"]
    assert (iot["strategy"], iot["split_columns"]) == ("key", ["REGION", "SEQ"])
    assert len(iot["chunks"]) > 1
    want = [[(f"r{i % 7}-é", True), (str(i), False), (f"row {i}", True)] for i in range(1, 20001)]
    assert not differences(records(out, o, n.table("IOT"), by=1), want)
    wide = plans["WIDE"]
    assert (wide["strategy"], wide["split_column"]) == ("key", "ID") and len(wide["chunks"]) > 1
    got = records(out, o, n.table("WIDE"))
    assert got[0] == [("100000000000000000007", False), ("w0", True)]
    assert got[2999] == [("102999000000000000007", False), ("w2999", True)]
    assert got[3000] == [("10000000000000000000000000", False), ("big", True)]
    assert len(got) == 3001
    heap = plans["HEAP"]
    assert heap["strategy"] == "physical" and len(heap["chunks"]) > 1
    assert _rowid_basis(live) in heap["reason"], heap["reason"]
    want = [[(str(i), False), (f"row {i}", True), (f"{i}.5", False)] for i in range(1, 20001)]
    assert not differences(records(out, o, n.table("HEAP")), want)
    assert header(out, o, mixed_name(n)) == [
        ("Id", False),
        ("select", False),
        ("Amount €", False),
        ("a,b", True),
    ]
    assert records(out, o, mixed_name(n)) == [
        [("1", False), ("from", True), ("1.5", False), ("x,y", True)],
        [("2", False), ("", False), ("-0.25", False), ('"q"', True)],
    ]


@pytest.mark.parametrize("command", ["plan", "check"])
def test_plan_and_check_name_each_tables_strategy_and_write_nothing(
    live: Live, shapes: Names, tmp_path: Path, capsys: Any, command: str
) -> None:
    n, o = shapes, shapes.owner
    out = tmp_path / "never"

    ran = cli([command, "--config", str(_config(tmp_path, n, out))], capsys)

    assert ran.code == 0, ran
    if command == "check":
        assert ran.out.startswith(f"connected to oracle {USER}@{DSN}: Oracle Database "), ran.out
        assert ("thick mode" if LIB_DIR else "thin mode") in ran.out, ran.out
    expected = {
        "RANGE": (" partitions ", "3 partitions, per partition"),
        "RHASH": (" partitions ", "4 partitions, per partition"),
        "IOT": (" key ", "ranges of primary key (REGION, SEQ) cut at a sample"),
        "WIDE": (" key ", "ranges of integer primary key ID"),
        "HEAP": (" physical ", _rowid_basis(live)),
    }
    for role, (strategy, reason) in expected.items():
        line = plan_line(ran.out, o, n.table(role))
        assert strategy in line and reason in line, line
    assert "ROWID ranges from" in plan_line(ran.out, o, n.table("HEAP"))
    assert plan_line(ran.out, o, mixed_name(n))
    assert not out.exists()


def test_a_partitions_size_counts_its_lob_segments(live: Live) -> None:
    """A leaf's out-of-line LOB data is counted in its size (USER_SEGMENTS here: the test
    user owns the table), so that the planner sees what reading it costs: 999 CLOBs of 4,000
    bytes, stored out of line, in one partition and one row in the other."""
    from exporter.config.loader import parse_config
    from exporter.model import TableRef
    from exporter.sources import get_source

    n = live.names
    table = n.table("LOBPART")
    sql = statements(n)
    live.create(sql["create_LOBPART"], sql["drop_LOBPART"])
    live.run(sql["fill_LOBPART"])
    config = parse_config({"source": source(), "export": {"output_dir": "/nonexistent"}})
    oracle = get_source(config.source)
    conn = oracle.connect()
    try:
        leaves = {
            leaf.table.name: leaf.size_bytes
            for leaf in oracle.partitions(conn, TableRef(n.owner, table))
        }
    finally:
        conn.close()
    assert leaves["P_LOB"] >= 999 * 4000, leaves  # its LOB segment at least
    assert leaves["P_LOB"] > leaves["P_REST"], leaves
