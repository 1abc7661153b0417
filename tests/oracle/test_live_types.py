"""Live Oracle: every column type the exporter reads, cell by cell, and the ones it refuses.

Expected cells are literals written from docs/FORMAT.md, never from the exporter's code. The
null marker is Oracle's default, '': NULL is the unquoted empty field and an empty value the
quoted one, "" (EMPTY_CLOB(), EMPTY_BLOB()). TIMESTAMP WITH TIME ZONE is the instant in UTC;
Europe/Paris is UTC+1 (CET) and UTC+2 (CEST), and 2024-10-27 02:30 happened twice: TZD picks
one, and without it Oracle takes standard time (ERROR_ON_OVERLAP_TIME false, the default;
SQL Language Reference, "Datetime Literals"). Intervals are TO_CHAR's text of the column's
precision, INTERVAL YEAR(2) TO MONTH and DAY(2) TO SECOND(6) by default. JSON (21c+) is
JSON_SERIALIZE's compact text; BOOLEAN (23ai) needs the server, and in thick mode a 23 client
(python-oracledb tests/conftest.py, skip_unless_native_boolean_supported).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.oracle.live_helpers import (
    LIB_DIR,
    Live,
    Names,
    cli,
    drop_table,
    drop_type,
    needs_oracle,
    plan_line,
    qq,
    records,
    source,
    summary,
    write_config,
)

pytestmark = needs_oracle

N = ("", False)  # NULL under the '' marker
E = ("", True)  # an empty value: EMPTY_CLOB(), EMPTY_BLOB()


def statements(n: Names) -> dict[str, str]:
    t = {r: qq(n.owner, n.table(r)) for r in ("TYPES", "LONG", "LRAW", "JSON", "BOOL")}
    t.update({r: qq(n.owner, n.table(r)) for r in ("BFILE", "OBJ", "UDT")})
    point, nums, times = (qq(n.owner, name) for name in refused_types(n))
    cols = "(id, nc, c, b, x, vj, iym, ids, tz)"
    return {
        "create_TYPES": f"CREATE TABLE {t['TYPES']} (id NUMBER(10) PRIMARY KEY, nc NCLOB, "
        "c CLOB, b BLOB, x XMLTYPE, vj VARCHAR2(200) CHECK (vj IS JSON), "
        "iym INTERVAL YEAR TO MONTH, ids INTERVAL DAY TO SECOND, tz TIMESTAMP WITH TIME ZONE)",
        "types_1": f"INSERT INTO {t['TYPES']} (id) VALUES (1)",
        "types_2": f"INSERT INTO {t['TYPES']} {cols} VALUES (2, EMPTY_CLOB(), EMPTY_CLOB(), "
        "EMPTY_BLOB(), XMLTYPE('<a>é</a>'), '{ \"k\" :[1,2.50] }', "
        "INTERVAL '1-2' YEAR TO MONTH, INTERVAL '1 2:3:4.5' DAY TO SECOND, "
        "TIMESTAMP '2024-03-31 01:30:00 Europe/Paris')",
        "types_3": f"INSERT INTO {t['TYPES']} {cols} VALUES (3, N'ü€', 'x', HEXTORAW('00FF10'), "
        "NULL, '[]', NUMTOYMINTERVAL(-14, 'MONTH'), NUMTODSINTERVAL(-90061.000001, 'SECOND'), "
        "TIMESTAMP '2024-03-31 03:30:00 Europe/Paris')",
        "types_4": f"INSERT INTO {t['TYPES']} (id, tz) "
        "VALUES (4, TIMESTAMP '2024-10-27 02:30:00 Europe/Paris CEST')",
        "types_5": f"INSERT INTO {t['TYPES']} (id, tz) "
        "VALUES (5, TIMESTAMP '2024-10-27 02:30:00 Europe/Paris CET')",
        "types_6": f"INSERT INTO {t['TYPES']} (id, tz) "
        "VALUES (6, TIMESTAMP '2024-10-27 02:30:00 Europe/Paris')",
        "types_7": f"INSERT INTO {t['TYPES']} (id, tz) "
        "VALUES (7, TIMESTAMP '2024-07-01 12:00:00.123456 America/New_York')",
        # One LONG or LONG RAW column per table (ORA-01754).
        "create_LONG": f"CREATE TABLE {t['LONG']} (id NUMBER(10) PRIMARY KEY, l LONG)",
        "insert_LONG": f"INSERT INTO {t['LONG']} (id, l) VALUES (:v1, :v2)",
        "create_LRAW": f"CREATE TABLE {t['LRAW']} (id NUMBER(10) PRIMARY KEY, r LONG RAW)",
        "insert_LRAW": f"INSERT INTO {t['LRAW']} (id, r) VALUES (:v1, :v2)",
        "create_JSON": f"CREATE TABLE {t['JSON']} (id NUMBER(10) PRIMARY KEY, j JSON)",
        "json_1": f"INSERT INTO {t['JSON']} (id) VALUES (1)",
        "json_2": f"INSERT INTO {t['JSON']} (id, j) VALUES "
        """(2, '[1, "é", true, null, {"k": "v"}]')""",
        "json_3": f"INSERT INTO {t['JSON']} (id, j) VALUES " """(3, '{"a": {"b": []}}')""",
        "create_BOOL": f"CREATE TABLE {t['BOOL']} (id NUMBER(10) PRIMARY KEY, b BOOLEAN)",
        "bool_1": f"INSERT INTO {t['BOOL']} (id) VALUES (1)",
        "bool_2": f"INSERT INTO {t['BOOL']} (id, b) VALUES (2, TRUE)",
        "bool_3": f"INSERT INTO {t['BOOL']} (id, b) VALUES (3, FALSE)",
        # Refused, naming the column: a BFILE, an object type, collections named like
        # built-in types (DATA_TYPE_OWNER is set: not a NUMBER, not a TIMESTAMP).
        "create_BFILE": f"CREATE TABLE {t['BFILE']} (id NUMBER(10) PRIMARY KEY, f BFILE)",
        "bfile_1": f"INSERT INTO {t['BFILE']} (id, f) "
        "VALUES (1, BFILENAME('EXP_NO_SUCH_DIR', 'x.bin'))",
        "create_type_0": f"CREATE TYPE {point} AS OBJECT (x NUMBER, y NUMBER)",
        "create_type_1": f"CREATE TYPE {nums} AS VARRAY(5) OF NUMBER",
        "create_type_2": f"CREATE TYPE {times} AS VARRAY(5) OF TIMESTAMP",
        "create_OBJ": f"CREATE TABLE {t['OBJ']} (id NUMBER(10) PRIMARY KEY, p {point})",
        "obj_1": f"INSERT INTO {t['OBJ']} (id, p) VALUES (1, {point}(1, 2))",
        "create_UDT": f"CREATE TABLE {t['UDT']} (id NUMBER(10) PRIMARY KEY, "
        f"nums {nums}, times {times})",
        **{f"drop_{r}": drop_table(n.owner, n.table(r)) for r in t},
        **{f"drop_type_{i}": drop_type(n.owner, name) for i, name in enumerate(refused_types(n))},
    }


def _thick_client_below(major: int) -> bool:
    """Thick mode with an Oracle Client older than `major` (thin mode has no client)."""
    if not LIB_DIR:
        return False
    import oracledb

    return int(oracledb.clientversion()[0]) < major


def refused_types(n: Names) -> tuple[str, str, str]:
    return n.table("POINT_T"), f"NUMBER_TAB_{n.run}", f"TIMESTAMP_LIST_{n.run}"


def _make(live: Live, sql: dict[str, str], role: str, inserts: list[str]) -> None:
    live.create(sql[f"create_{role}"], sql[f"drop_{role}"])
    for key in inserts:
        live.run(sql[key])


def _config(tmp_path: Path, n: Names, out: Path, roles: list[str], **extra: Any) -> Path:
    return write_config(
        tmp_path,
        source(),
        out,
        schemas=[n.owner],
        include=[f"{n.owner}.{n.table(r)}" for r in roles],
        enable_row_hash=False,
        **extra,
    )


@pytest.fixture(scope="module")
def typed(live: Live) -> Iterator[dict[str, str]]:
    import oracledb

    sql = statements(live.names)
    _make(live, sql, "TYPES", [f"types_{i}" for i in range(1, 8)])
    _make(live, sql, "LONG", [])
    _make(live, sql, "LRAW", [])
    for role, kind, values in (
        ("LONG", oracledb.DB_TYPE_LONG, [None, "x" * 40000, 'é "q",\n']),
        ("LRAW", oracledb.DB_TYPE_LONG_RAW, [None, bytes([0, 255, 16]), bytes(3000)]),
    ):
        for i, value in enumerate(values, start=1):
            live.run(sql[f"insert_{role}"], {"v1": i, "v2": value}, sizes={"v2": kind})
    yield sql


@pytest.mark.parametrize("fetch_path", ["auto", "batch", "rows"])
def test_each_type_is_written_as_the_format_says(
    live: Live, typed: dict[str, str], tmp_path: Path, capsys: Any, fetch_path: str
) -> None:
    n = live.names
    out = tmp_path / "out"
    config = _config(tmp_path, n, out, ["TYPES", "LONG", "LRAW"], fetch_path=fetch_path)

    ran = cli(["export", "--config", str(config), "--no-progress"], capsys)

    assert ran.code == 0, ran
    assert records(out, n.owner, n.table("TYPES")) == [
        [("1", False), N, N, N, N, N, N, N, N],
        [
            ("2", False),
            E,  # NCLOB EMPTY_CLOB()
            E,  # CLOB EMPTY_CLOB()
            E,  # BLOB EMPTY_BLOB(): an empty BYTES value, quoted under the '' marker
            ("<a>é</a>", True),
            ('{ "k" :[1,2.50] }', True),  # IS JSON text as stored, not re-serialized
            ("+01-02", True),
            ("+01 02:03:04.500000", True),
            ("2024-03-31 00:30:00+00:00", False),  # 01:30 CET
        ],
        [
            ("3", False),
            ("ü€", True),
            ("x", True),
            ("AP8Q", False),  # 00 FF 10 in base64
            N,
            ("[]", True),
            ("-01-02", True),
            ("-01 01:01:01.000001", True),
            ("2024-03-31 01:30:00+00:00", False),  # 03:30 CEST, after the clocks went on
        ],
        [("4", False), N, N, N, N, N, N, N, ("2024-10-27 00:30:00+00:00", False)],  # CEST
        [("5", False), N, N, N, N, N, N, N, ("2024-10-27 01:30:00+00:00", False)],  # CET
        [("6", False), N, N, N, N, N, N, N, ("2024-10-27 01:30:00+00:00", False)],  # standard
        [("7", False), N, N, N, N, N, N, N, ("2024-07-01 16:00:00.123456+00:00", False)],
    ]
    assert records(out, n.owner, n.table("LONG")) == [
        [("1", False), N],
        [("2", False), ("x" * 40000, True)],
        [("3", False), ('é "q",\n', True)],
    ]
    assert records(out, n.owner, n.table("LRAW")) == [
        [("1", False), N],
        [("2", False), ("AP8Q", False)],
        [("3", False), ("A" * 4000, False)],  # 3000 zero bytes
    ]


def test_json_type_is_its_compact_text(live: Live, tmp_path: Path, capsys: Any) -> None:
    if live.server_major() < 21:
        pytest.skip(f"the JSON type needs Oracle Database 21c; this is {live.conn.version}")
    n = live.names
    _make(live, statements(n), "JSON", ["json_1", "json_2", "json_3"])
    out = tmp_path / "out"

    config = _config(tmp_path, n, out, ["JSON"])

    ran = cli(["export", "--config", str(config), "--no-progress"], capsys)

    assert ran.code == 0, ran
    assert records(out, n.owner, n.table("JSON")) == [
        [("1", False), N],
        [("2", False), ('[1,"é",true,null,{"k":"v"}]', True)],
        [("3", False), ('{"a":{"b":[]}}', True)],
    ]


def test_boolean_is_true_or_false(live: Live, tmp_path: Path, capsys: Any) -> None:
    if live.server_major() < 23:
        pytest.skip(f"BOOLEAN columns need Oracle Database 23ai; this is {live.conn.version}")
    if _thick_client_below(23):
        pytest.skip("thick mode reads BOOLEAN columns with an Oracle Client 23 or later only")
    n = live.names
    _make(live, statements(n), "BOOL", ["bool_1", "bool_2", "bool_3"])
    out = tmp_path / "out"

    config = _config(tmp_path, n, out, ["BOOL"])

    ran = cli(["export", "--config", str(config), "--no-progress"], capsys)

    assert ran.code == 0, ran
    assert records(out, n.owner, n.table("BOOL")) == [
        [("1", False), N],
        [("2", False), ("true", False)],
        [("3", False), ("false", False)],
    ]


def test_bfile_object_and_collection_columns_are_refused_by_name(
    live: Live, tmp_path: Path, capsys: Any
) -> None:
    n = live.names
    sql = statements(n)
    for i in range(3):  # the types first: their tables are dropped before them
        live.create(sql[f"create_type_{i}"], sql[f"drop_type_{i}"])
    _make(live, sql, "BFILE", ["bfile_1"])
    _make(live, sql, "OBJ", ["obj_1"])
    _make(live, sql, "UDT", [])
    roles = ["BFILE", "OBJ", "UDT"]
    out = tmp_path / "out"
    config = _config(tmp_path, n, out, roles)
    point, nums, _ = refused_types(n)
    wanted = {
        "BFILE": "column 'F' is of type BFILE",
        "OBJ": f"column 'P' is of type {n.owner}.{point}",
        "UDT": f"column 'NUMS' is of type {n.owner}.{nums}",
    }

    planned = cli(["plan", "--config", str(config)], capsys)

    assert planned.code == 1, planned
    for role, text in wanted.items():
        line = plan_line(planned.out, n.owner, n.table(role))
        assert " ERROR " in line and text in line, line

    ran = cli(["export", "--config", str(config), "--no-progress"], capsys)

    assert ran.code == 1, ran
    tables = summary(out)["by_table"]
    for role, text in wanted.items():
        entry = tables[f"{n.owner}.{n.table(role)}"]
        assert entry["status"] == "FAILED" and text in entry["error"], entry
