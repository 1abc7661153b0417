"""Live Oracle, with a DBA connection (EXPORTER_TEST_ORACLE_ADMIN_USER / _PASSWORD; skipped
with that reason when unset): what an export user that owns nothing and reads no DBA view
gets, and a schema whose name needs quotes.

The reader has CREATE SESSION and SELECT on one table, nothing else. Without EXECUTE on
DBMS_FLASHBACK the run must stop with the hint that names DBMS_FLASHBACK and
export.consistent_snapshot: false; with consistent_snapshot false the planning ladder falls
back to the statistics' size (ALL_TABLES.BLOCKS) and ROWID ranges from a block sample, and a
table never analyzed is flagged; once the DBA grants EXECUTE on DBMS_FLASHBACK the snapshot
works (session flashback). docs/ORACLE.md, "Privileges", lists what each step needs.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exporter.layout import ExportLayout
from exporter.model import TableRef
from tests.oracle.live_helpers import (
    READER_PASSWORD_ENV,
    Live,
    Names,
    bind_rows,
    cli,
    differences,
    drop_table,
    drop_user,
    header,
    insert_sql,
    metadata_json,
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

pytestmark = needs_oracle

ROWS = 20_000
MIXED_TABLE = "odd/name, é %"  # '/' and '%' are percent-encoded in the folder name
MIXED_COLUMNS = ["Id", "lower case", "Amount €"]
MIXED_ROWS = [(1, "é", Decimal("1.5")), (2, None, Decimal("-0.25")), (3, "x", Decimal("0"))]


def statements(n: Names, password: str = "Offline_Pw_1") -> dict[str, str]:
    owned = qq(n.owner, n.table("PRIV"))
    fresh = qq(n.owner, n.table("PRIVNEW"))
    mixed = qq(n.mixed, MIXED_TABLE)
    shape = "(id NUMBER(10) PRIMARY KEY, label VARCHAR2(120) NOT NULL, amount NUMBER(12, 2))"
    fill = (
        "(id, label, amount) SELECT LEVEL, 'row ' || LEVEL, LEVEL + 0.5 "
        "FROM DUAL CONNECT BY LEVEL <= :rows"
    )
    return {
        "create_table": f"CREATE TABLE {owned} {shape}",
        "fill_table": f"INSERT INTO {owned} {fill}",
        "drop_table": drop_table(n.owner, n.table("PRIV")),
        "create_fresh": f"CREATE TABLE {fresh} {shape}",  # never analyzed
        "fill_fresh": f"INSERT INTO {fresh} {fill}",
        "drop_fresh": drop_table(n.owner, n.table("PRIVNEW")),
        # by the DBA
        "create_reader": f"CREATE USER {q(n.reader)} IDENTIFIED BY {q(password)}",
        "drop_reader": drop_user(n.reader),
        "reader_session": f"GRANT CREATE SESSION TO {q(n.reader)}",
        "reader_flashback": f"GRANT EXECUTE ON SYS.DBMS_FLASHBACK TO {q(n.reader)}",
        # by the owner
        "reader_select": f"GRANT SELECT ON {owned} TO {q(n.reader)}",
        "reader_select_fresh": f"GRANT SELECT ON {fresh} TO {q(n.reader)}",
        "reader_flashback_table": f"GRANT FLASHBACK ON {owned} TO {q(n.reader)}",
        # a schema that needs quotes, made by the DBA, read by the test user
        "create_mixed_user": f"CREATE USER {q(n.mixed)} IDENTIFIED BY {q(password)} "
        f"DEFAULT TABLESPACE {q(n.tablespace)} QUOTA UNLIMITED ON {q(n.tablespace)}",
        "drop_mixed_user": drop_user(n.mixed),
        "create_mixed": f'CREATE TABLE {mixed} ("Id" NUMBER(10) PRIMARY KEY, '
        '"lower case" VARCHAR2(20), "Amount €" NUMBER(10, 2))',
        "insert_mixed": insert_sql(n.mixed, MIXED_TABLE, MIXED_COLUMNS),
        "mixed_select": f"GRANT SELECT ON {mixed} TO {q(n.owner)}",
        "mixed_flashback": f"GRANT FLASHBACK ON {mixed} TO {q(n.owner)}",
    }


def row(i: int) -> list[tuple[str, bool]]:
    return [(str(i), False), (f"row {i}", True), (f"{i}.5", False)]


@pytest.fixture(scope="module")
def reader(live: Live, admin: Live) -> Iterator[dict[str, Any]]:
    """The reader user and the two tables it may SELECT (one analyzed, one never)."""
    n = live.names
    password = f"Rd_{secrets.token_hex(8)}_9"
    sql = statements(n, password)
    for table in ("table", "fresh"):
        live.create(sql[f"create_{table}"], sql[f"drop_{table}"])
        live.run(sql[f"fill_{table}"], {"rows": ROWS})
    live.gather_stats(n.owner, n.table("PRIV"))
    admin.create(sql["create_reader"], sql["drop_reader"])
    admin.run(sql["reader_session"])
    live.run(sql["reader_select"])
    live.run(sql["reader_select_fresh"])
    with pytest.MonkeyPatch.context() as env:
        env.setenv(READER_PASSWORD_ENV, password)  # spawned workers inherit it
        yield {"sql": sql, "source": source(n.reader, READER_PASSWORD_ENV)}


def _config(tmp_path: Path, reader: dict[str, Any], n: Names, out: Path, **extra: Any) -> Path:
    return write_config(
        tmp_path,
        reader["source"],
        out,
        schemas=[n.owner],
        include=[f"{n.owner}.{n.table('PRIV')}"],
        chunk_threshold_gb=0,
        chunk_size_mb=0.5,
        workers=2,
        enable_row_hash=False,
        **extra,
    )


def test_without_dbms_flashback_the_run_stops_with_the_grant_to_ask_for(
    live: Live, reader: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    n = live.names
    out = tmp_path / "out"
    ran = cli(
        ["export", "--config", str(_config(tmp_path, reader, n, out)), "--no-progress"], capsys
    )

    assert ran.code in (1, 2), ran
    said = ran.err + ran.out
    if (out / "summary_report.json").exists():  # a per-table failure, if it comes to that
        said += " ".join(t["error"] or "" for t in summary(out)["tables"])
    assert "DBMS_FLASHBACK" in said and "export.consistent_snapshot: false" in said, said
    assert not ExportLayout(out).existing_chunk_files(TableRef(n.owner, n.table("PRIV")))


def test_without_dba_views_sizes_come_from_statistics_and_ranges_from_a_block_sample(
    live: Live, reader: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    n = live.names
    table = n.table("PRIV")
    out = tmp_path / "out"
    config = _config(tmp_path, reader, n, out, consistent_snapshot=False)
    both = write_config(
        tmp_path,
        reader["source"],
        tmp_path / "nothing",
        name="both.yaml",
        schemas=[n.owner],
        include=[f"{n.owner}.{table}", f"{n.owner}.{n.table('PRIVNEW')}"],
        chunk_threshold_gb=0,
        chunk_size_mb=0.5,
        consistent_snapshot=False,
    )

    checked = cli(["check", "--config", str(both)], capsys)

    assert checked.code == 0, checked
    assert "DBMS_FLASHBACK" in checked.out and "DBA_EXTENTS" in checked.out, checked.out
    line = plan_line(checked.out, n.owner, table)
    assert " physical " in line and "estimated from optimizer statistics" in line, line
    assert "ROWID ranges from a" in line and "block sample" in line, line
    fresh = plan_line(checked.out, n.owner, n.table("PRIVNEW"))
    assert "never analyzed" in fresh and "DBMS_STATS.GATHER_TABLE_STATS" in fresh, fresh
    assert not (tmp_path / "nothing").exists()  # check writes nothing

    ran = cli(["export", "--config", str(config), "--no-progress"], capsys)

    assert ran.code == 0, ran
    plan = plan_json(out, n.owner, table)
    assert plan["strategy"] == "physical" and len(plan["chunks"]) > 1, plan["reason"]
    assert "block sample" in plan["reason"] and "statistics" in plan["reason"]
    assert plan.get("snapshot") is None
    meta = metadata_json(out, n.owner, table)
    assert meta["snapshot"] is None and meta["source_row_count"] == ROWS
    assert not differences(records(out, n.owner, table), [row(i) for i in range(1, ROWS + 1)])


def _grant_dbms_flashback(admin: Live, reader: dict[str, Any]) -> None:
    import oracledb

    try:
        admin.run(reader["sql"]["reader_flashback"])
    except oracledb.DatabaseError as exc:  # SYSTEM may not grant on SYS's objects
        pytest.skip(f"the admin user cannot grant EXECUTE ON SYS.DBMS_FLASHBACK ({exc}): use SYS")


def test_with_execute_on_dbms_flashback_the_reader_reads_one_scn(
    live: Live, admin: Live, reader: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    n = live.names
    _grant_dbms_flashback(admin, reader)
    out = tmp_path / "out"

    ran = cli(
        ["export", "--config", str(_config(tmp_path, reader, n, out)), "--no-progress"], capsys
    )

    assert ran.code == 0, ran
    scn = str(plan_json(out, n.owner, n.table("PRIV"))["snapshot"])
    assert scn.isdigit(), scn
    assert str(metadata_json(out, n.owner, n.table("PRIV"))["snapshot"]) == scn
    got = records(out, n.owner, n.table("PRIV"))
    assert not differences(got, [row(i) for i in range(1, ROWS + 1)])


def test_with_flashback_on_the_table_the_reader_reads_it_as_of_the_scn(
    live: Live, admin: Live, reader: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    # EXECUTE on DBMS_FLASHBACK still reads the run's SCN; FLASHBACK on the table lets its
    # queries name that SCN (AS OF) instead of flashing the session back.
    n = live.names
    _grant_dbms_flashback(admin, reader)
    live.run(reader["sql"]["reader_flashback_table"])
    out = tmp_path / "out"

    ran = cli(
        ["export", "--config", str(_config(tmp_path, reader, n, out)), "--no-progress"], capsys
    )

    assert ran.code == 0, ran
    scn = str(plan_json(out, n.owner, n.table("PRIV"))["snapshot"])
    assert scn.isdigit() and str(metadata_json(out, n.owner, n.table("PRIV"))["snapshot"]) == scn
    got = records(out, n.owner, n.table("PRIV"))
    assert not differences(got, [row(i) for i in range(1, ROWS + 1)])


def test_a_schema_and_table_that_need_quotes(
    live: Live, admin: Live, tmp_path: Path, capsys: Any
) -> None:
    n = live.names
    sql = statements(n, f"Mx_{secrets.token_hex(8)}_9")
    admin.create(sql["create_mixed_user"], sql["drop_mixed_user"])
    admin.run(sql["create_mixed"])  # dropped with its user
    admin.run_many(sql["insert_mixed"], bind_rows(MIXED_ROWS))
    admin.gather_stats(n.mixed, MIXED_TABLE)
    admin.run(sql["mixed_select"])
    admin.run(sql["mixed_flashback"])
    out = tmp_path / "out"
    config = write_config(
        tmp_path,
        source(),
        out,
        schemas=[n.mixed],
        include=[f"{n.mixed}.{MIXED_TABLE}"],
        chunk_threshold_gb=0,
        chunk_size_mb=0.01,
        enable_row_hash=False,
    )

    ran = cli(["export", "--config", str(config), "--no-progress"], capsys)

    assert ran.code == 0, ran
    assert (out / n.mixed / "odd%2Fname, é %25" / "data_chunk_0.csv.gz").is_file()
    assert header(out, n.mixed, MIXED_TABLE) == [
        ("Id", False),
        ("lower case", False),
        ("Amount €", False),
    ]
    assert records(out, n.mixed, MIXED_TABLE) == [
        [("1", False), ("é", True), ("1.5", False)],
        [("2", False), ("", False), ("-0.25", False)],
        [("3", False), ("x", True), ("0", False)],
    ]
    entry = summary(out)["by_table"][f"{n.mixed}.{MIXED_TABLE}"]
    assert entry["status"] == "SUCCEEDED", entry["errors"]
