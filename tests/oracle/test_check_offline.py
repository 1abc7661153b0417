"""`check` on Oracle without a server: the real command, through a scripted connection that
answers each catalog query by what it reads, refuses what the user may not read the way a
session does (ORA-00942, ORA-01031), and fails the test on any query that would cut chunks
(an extents map, a block sample, a key range, a count): check tells the strategy and why,
and the privileges each step needs, without computing a single boundary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.cli import main
from exporter.sources.dialect import Query
from exporter.sources.oracle import OracleSource
from exporter.sources.oracle_conn import OracleConn

driver: Any = pytest.importorskip("oracledb.errors")
oracledb: Any = pytest.importorskip("oracledb")

GIB = 2**30
BLOCK = 8192
# SQL that only cutting chunks asks: DBA_EXTENTS turned into ROWIDs, block samples, a key's
# MIN/MAX, the row estimate a key sample starts from, a table's count, NTILE over ROWIDs.
CUTTING = ("ROWID_CREATE", "SAMPLE", "ROWIDTOCHAR", "MIN(", "MAX(", "NTILE", 'COUNT(*) FROM "')
CUTTING += ("num_rows FROM all_tables",)


def server(message: str) -> BaseException:
    """An ORA- error as thin mode raises it (an _Error with the number, then its class)."""
    err = driver._Error(message, code=int(message[4:9]))
    exc: BaseException = err.exc_type(err)
    return exc


Answer = Callable[[Query], list[tuple[Any, ...]]]


class _Cursor:
    def __init__(self, raw: _Raw) -> None:
        self.raw = raw

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def callproc(self, name: str, args: Any = ()) -> None:
        self.raw.db.procedures.append(name)
        if name in self.raw.db.refused_procedures:
            raise server("ORA-08185: Flashback not supported for user SYS")


class _Raw:
    """The python-oracledb connection's attributes check reads."""

    version = "19.24.0.0.0"

    def __init__(self, db: _Database) -> None:
        self.db, self.thin = db, db.thin

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def is_healthy(self) -> bool:
        return True

    def close(self) -> None:
        pass


class _Database:
    """What the scripted sessions answer, and every statement they were asked."""

    def __init__(self, answers: dict[str, Answer | list[tuple[Any, ...]]], thin: bool = True):
        self.answers = answers
        self.thin = thin
        self.asked: list[str] = []
        self.procedures: list[str] = []
        self.refused_procedures: set[str] = set()
        self.cutting: list[str] = []

    def session(self) -> OracleConn:
        db = self

        class _Scripted(OracleConn):
            def fetch_all(self, query: Query) -> list[tuple[Any, ...]]:
                db.asked.append(query.sql)
                if any(marker in query.sql for marker in CUTTING):
                    db.cutting.append(query.sql)  # check catches a table's error: kept here
                    raise AssertionError(f"check cut chunks: {query.sql}")
                for marker, answer in db.answers.items():
                    if marker in query.sql:
                        return answer(query) if callable(answer) else answer
                raise AssertionError(f"unexpected query: {query.sql}")

        return _Scripted(_Raw(self))


def _refused(query: Query) -> list[tuple[Any, ...]]:
    raise server("ORA-00942: table or view does not exist")


def _by_table(rows: dict[str, list[tuple[Any, ...]]]) -> Answer:
    return lambda query: rows.get(str(query.params.get("name")), [])


# SALES.ORDERS: a 50 GB heap; ITEMS: an index-organized table, composite key; EVENTS:
# partitioned; SMALL: small; HIDDEN: listed (ALL_TABLES shows it) but not SELECTable.
TABLES = [("SALES", t) for t in ("EVENTS", "HIDDEN", "ITEMS", "ORDERS", "SMALL")]
COLUMNS = {
    "ORDERS": [("ID", "NUMBER", 10, 0, 1), ("NOTE", "VARCHAR2", None, None, 0)],
    "ITEMS": [("ORDER_ID", "NUMBER", 10, 0, 1), ("LINE_NO", "NUMBER", 5, 0, 1)],
    "EVENTS": [("ID", "NUMBER", 18, 0, 1), ("AT", "DATE", None, None, 1)],
    "SMALL": [("CODE", "VARCHAR2", None, None, 1)],
    "HIDDEN": [("ID", "NUMBER", 10, 0, 1)],
}
KEYS = {"ORDERS": [("ID",)], "ITEMS": [("ORDER_ID",), ("LINE_NO",)], "EVENTS": [("ID",)]}
STATISTICS = {  # blocks, num_rows, avg_row_len, analyzed, block size
    "ORDERS": [(50 * GIB // BLOCK, 10**9, 50, 1, BLOCK)],
    "ITEMS": [(5 * GIB // BLOCK, 10**8, 50, 1, BLOCK)],
    "EVENTS": [(3 * GIB // BLOCK, 10**8, 30, 1, BLOCK)],
    "SMALL": [(10, 100, 10, 1, BLOCK)],
    "HIDDEN": [(10, 100, 10, 1, BLOCK)],
}
ORGANIZATION = {name: [("IOT" if name == "ITEMS" else None,)] for _, name in TABLES}
LEAVES = {
    "EVENTS": [
        ("PARTITION", "P2024", 2 * GIB // BLOCK, 10**7, 30, BLOCK),
        ("PARTITION", "P2025", GIB // BLOCK, 10**7, 30, BLOCK),
    ]
}


def _selectable(query: Query) -> list[tuple[Any, ...]]:
    if '"HIDDEN"' in query.sql:
        raise server("ORA-01031: insufficient privileges")
    return []


def _answers(dba: bool, flashback_any: bool) -> dict[str, Answer | list[tuple[Any, ...]]]:
    dba_view: Answer | list[tuple[Any, ...]] = [] if dba else _refused
    return {
        "SELECT USER FROM DUAL": [("EXPORTER",)],
        "t.temporary": TABLES,  # list_tables
        "FROM dba_extents WHERE 1 = 0": dba_view,
        "FROM dba_segments": [(60 * GIB,)] if dba else _refused,
        "FROM dba_lobs WHERE 1 = 0": dba_view,
        "FROM dba_indexes WHERE 1 = 0": dba_view,
        "FROM user_extents WHERE 1 = 0": [],
        "WHERE 1 = 0": _selectable,
        "FROM session_privs": [(1 if flashback_any else 0,)],
        "FROM all_tab_privs": _by_table({"ORDERS": [(1,)]}),
        "GET_SYSTEM_CHANGE_NUMBER": [(987654321,)],
        "FROM v$parameter": [("900",)],
        "FROM all_tab_columns": _by_table(COLUMNS),
        "FROM all_constraints": _by_table(KEYS),
        "FROM all_tab_partitions": _by_table(LEAVES),
        "t.blocks": _by_table(STATISTICS),  # table_statistics
        "iot_type FROM all_tables": _by_table(ORGANIZATION),
    }


@pytest.fixture()
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXPORTER_TEST_ORA_PASSWORD", "tiger")
    data = {
        "source": {
            "engine": "oracle",
            "host": "db.example.com",
            "service": "ORCLPDB1",
            "user": "EXPORTER",
            "password_env": "EXPORTER_TEST_ORA_PASSWORD",
        },
        "export": {"schemas": ["SALES"], "output_dir": str(tmp_path / "out")},
    }
    path = tmp_path / "oracle.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _check(
    db: _Database, config: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[int, dict[str, str], dict[str, list[str]], str]:
    """Run `check`; its exit code, probe lines by name, table rows by name, and all output."""
    monkeypatch.setattr(OracleSource, "connect", lambda self: db.session())
    code = main(["check", "--config", str(config)])
    out = capsys.readouterr().out
    assert db.cutting == []
    lines = out.splitlines()
    start = lines.index("privileges:") + 1
    header = next(i for i, line in enumerate(lines) if line.startswith("TABLE "))
    probes = {}
    for line in lines[start:header]:
        status, rest = line.split(None, 1)
        name, detail = rest.split(": ", 1)
        probes[name] = f"{status} {detail}"
    # TABLE (40) SIZE (12) STRATEGY (10) CHUNKS (6) REASON, as cli.py lays them out
    rows = {
        line[:40].strip(): [
            line[:40].strip(),
            line[41:53].strip(),
            line[54:64].strip(),
            line[65:71].strip(),
            line[73:],
        ]
        for line in lines[header + 1 :]
    }
    return code, probes, rows, out


@pytest.fixture()
def no_output(config: Path) -> Iterator[None]:
    yield
    assert not (config.parent / "out").exists()


def test_a_user_without_dba_views(
    config: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, no_output: None
) -> None:
    db = _Database(_answers(dba=False, flashback_any=False))
    code, probes, rows, out = _check(db, config, capsys, monkeypatch)

    assert code == 1  # SALES.HIDDEN cannot be read
    assert "connected to oracle EXPORTER@db.example.com:1521/ORCLPDB1: Oracle Database 19" in out
    assert f"client: python-oracledb {oracledb.__version__}, thin mode (no Oracle Client)" in out
    assert probes["SELECT on SALES.ORDERS"].startswith("ok ")
    assert probes["SELECT on SALES.HIDDEN"].startswith("missing ORA-01031")
    assert probes["FLASHBACK on SALES.ORDERS"] == "ok its queries read AS OF the run's SCN"
    assert probes["FLASHBACK on SALES.ITEMS"].startswith("missing its sessions are flashed back")
    assert probes["EXECUTE on DBMS_FLASHBACK"].startswith("ok ")
    assert db.procedures == [
        "DBMS_FLASHBACK.ENABLE_AT_SYSTEM_CHANGE_NUMBER",
        "DBMS_FLASHBACK.DISABLE",
    ]
    assert probes["DBA_EXTENTS"].startswith("missing ROWID ranges cut at a seeded block sample")
    assert "no FILE_ID or BLOCK_ID" in probes["USER_EXTENTS"].replace("without", "no")
    for view in ("DBA_SEGMENTS", "DBA_LOBS", "DBA_INDEXES"):
        assert probes[view].startswith("missing the size query reads DBA_SEGMENTS")
    assert probes["V$PARAMETER"].startswith("ok UNDO_RETENTION = 900 s (15 min): undo must")

    assert rows["SALES.ORDERS"][2:4] == ["physical", "~100"]
    assert rows["SALES.ORDERS"][4] == (
        "50.0 GB > 1.0 GB threshold (estimated from optimizer statistics), "
        "ROWID ranges from a block sample"
    )
    assert rows["SALES.ITEMS"][2] == "key"  # an index-organized table has no ROWID ranges
    assert rows["SALES.ITEMS"][4].endswith(
        "ranges of primary key (ORDER_ID, LINE_NO) cut at a sample"
    )
    assert rows["SALES.EVENTS"][2:4] == ["partitions", "~6"]  # 4 + 2 ranges of 512 MB
    assert rows["SALES.SMALL"][2:4] == ["whole", "1"]
    assert rows["SALES.HIDDEN"][2] == "ERROR" and "ORA-01031" in rows["SALES.HIDDEN"][4]


def test_a_user_with_dba_views_and_flashback_any_table(
    config: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, no_output: None
) -> None:
    db = _Database(_answers(dba=True, flashback_any=True), thin=False)
    monkeypatch.setattr(oracledb, "clientversion", lambda: (23, 5, 0, 24, 7))
    db.refused_procedures.add("DBMS_FLASHBACK.ENABLE_AT_SYSTEM_CHANGE_NUMBER")
    code, probes, rows, out = _check(db, config, capsys, monkeypatch)

    assert code == 1  # still only SALES.HIDDEN: a missing privilege is printed, not an error
    assert "thick mode (Oracle Client 23.5.0.24.7)" in out
    assert probes["FLASHBACK ANY TABLE"] == "ok every table: its queries read AS OF the run's SCN"
    assert not [name for name in probes if name.startswith("FLASHBACK on")]
    assert probes["EXECUTE on DBMS_FLASHBACK"].startswith("missing ORA-08185")
    assert "consistent_snapshot: false" in probes["EXECUTE on DBMS_FLASHBACK"]
    for view in ("DBA_EXTENTS", "DBA_SEGMENTS", "DBA_LOBS", "DBA_INDEXES"):
        assert probes[view].startswith("ok ")
    assert rows["SALES.ORDERS"][2] == "physical"
    assert rows["SALES.ORDERS"][4].endswith(", ROWID ranges from DBA_EXTENTS")
    assert rows["SALES.ORDERS"][1] == str(60 * GIB)  # allocated, LOB segments included
    assert not [sql for sql in db.asked if "ORDER BY" in sql and "dba_extents" in sql]


def test_check_without_any_table_error_exits_zero(
    config: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, no_output: None
) -> None:
    answers = _answers(dba=False, flashback_any=False)
    answers["t.temporary"] = [t for t in TABLES if t[1] != "HIDDEN"]
    answers["FROM v$parameter"] = _refused
    code, probes, _, _ = _check(_Database(answers), config, capsys, monkeypatch)
    assert code == 0
    assert probes["V$PARAMETER"].startswith("missing UNDO_RETENTION not visible")


def test_rowid_ranges_from_parallel_execute_are_told_without_creating_a_task(
    config: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch, no_output: None
) -> None:
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["source"]["rowid_ranges_from"] = "parallel_execute"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    db = _Database(_answers(dba=False, flashback_any=False))
    _, _, rows, _ = _check(db, config, capsys, monkeypatch)

    assert rows["SALES.ORDERS"][2] == "physical"
    assert rows["SALES.ORDERS"][4].endswith(", ROWID ranges from DBMS_PARALLEL_EXECUTE")
    assert not [p for p in db.procedures if "PARALLEL_EXECUTE" in p]  # no task: nothing written
