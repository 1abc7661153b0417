"""The Oracle source against a real database: opt-in, run when EXPORTER_TEST_ORACLE_DSN is set.

    EXPORTER_TEST_ORACLE_DSN=host:1521/FREEPDB1 EXPORTER_TEST_ORACLE_USER=exporter_test \\
    EXPORTER_TEST_ORACLE_PASSWORD=... ./run.sh test tests/oracle

The user needs CREATE TABLE in its own schema and EXECUTE on DBMS_FLASHBACK (for the
consistent snapshot). Each test creates its tables and drops them afterwards. Thick mode is
used when EXPORTER_TEST_ORACLE_LIB_DIR names an Instant Client.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exporter.export.run import run_export
from exporter.sources.oracle_sql import OracleDialect
from tests.conftest import make_config
from tests.csvcheck import table_rows

DSN = os.environ.get("EXPORTER_TEST_ORACLE_DSN")
pytestmark = pytest.mark.skipif(
    not DSN, reason="EXPORTER_TEST_ORACLE_DSN is not set: the live Oracle suite is opt-in"
)

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


def _source() -> dict[str, Any]:
    source: dict[str, Any] = {
        "engine": "oracle",
        "dsn": DSN,
        "user": os.environ.get("EXPORTER_TEST_ORACLE_USER", "exporter_test"),
        "password_env": "EXPORTER_TEST_ORACLE_PASSWORD",
    }
    if os.environ.get("EXPORTER_TEST_ORACLE_LIB_DIR"):
        source.update(thick_mode=True, lib_dir=os.environ["EXPORTER_TEST_ORACLE_LIB_DIR"])
    return source


class Ora:
    """A live connection (with the exporter's session settings) and the tables to drop."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.created: list[str] = []
        self.schema = str(raw.username).upper()

    def create(self, name: str, ddl: str, rows: list[tuple[Any, ...]], options: str = "") -> None:
        with self.raw.cursor() as cur:
            cur.execute(f'CREATE TABLE "{name}" ({ddl}){options}')
            self.created.append(name)
            if rows:
                marks = ", ".join(f":{i + 1}" for i in range(len(rows[0])))
                cur.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
        self.raw.commit()

    def execute(self, sql: str) -> None:
        with self.raw.cursor() as cur:
            cur.execute(sql)
        self.raw.commit()


@pytest.fixture()
def ora() -> Iterator[Ora]:
    from exporter.config.loader import parse_config
    from exporter.sources import get_source

    config = parse_config({"source": _source(), "export": {}})
    conn = get_source(config.source).open()
    live = Ora(conn.raw)  # type: ignore[attr-defined]
    try:
        yield live
    finally:
        for name in live.created:
            live.execute(f'DROP TABLE "{name}" PURGE')
        conn.close()


AWKWARD_DDL = """
    id NUMBER(10) PRIMARY KEY, txt VARCHAR2(200), ntxt NVARCHAR2(100), ch CHAR(5),
    big NUMBER(38, 0), money NUMBER(38, 10), free NUMBER, fl FLOAT,
    bd BINARY_DOUBLE, bf BINARY_FLOAT, d DATE, ts TIMESTAMP(9),
    tstz TIMESTAMP(6) WITH TIME ZONE, tsltz TIMESTAMP(6) WITH LOCAL TIME ZONE,
    cl CLOB, bl BLOB, rw RAW(64)
"""


def _awkward_rows() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [
        (1, *[None] * 16),  # every column NULL
        (
            2,
            "",
            "",
            " ",
            10**38 - 1,
            Decimal("9999999999999999999999999999.9999999999"),
            Decimal("0.000000000000000000000000000000000001"),
            Decimal("1.5"),
            1e308,
            0.1,
            dt.datetime(1, 1, 1),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
            None,
            None,
            "x" * 3000,
            bytes(range(256)) * 5,
            b"\x00\xff",
        ),
        (
            3,
            None,
            None,
            None,
            -(10**38 - 1),
            Decimal("-0.0000000001"),
            Decimal("-1e125"),
            None,
            float("nan"),
            float("-inf"),
            None,
            None,
            None,
            None,
            "",
            b"",
            None,
        ),
    ]
    for i, text in enumerate(TEXTS):
        rows.append(
            (
                100 + i,
                text,
                text,
                text[:5],
                i,
                Decimal(i) / 7,
                Decimal(f"{i}e-{i}"),
                None,
                i / 3,
                None,
                dt.datetime(2001, 1, 1, 1, 1, 1),
                None,
                None,
                None,
                text * 3,
                text.encode(),
                text.encode()[:64],
            )
        )
    return rows


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime) and a.tzinfo and not b.tzinfo:
        b = b.replace(tzinfo=dt.timezone.utc)  # the database gave UTC without a zone
    return bool(a == b)


@pytest.mark.parametrize("fetch_path", ["auto", "rows"])
def test_every_awkward_value_round_trips(ora: Ora, tmp_path: Path, fetch_path: str) -> None:
    ora.create("EXP_AWKWARD", AWKWARD_DDL, _awkward_rows())
    # Zoned values as literals: what a bind would do with a zone is the driver's business.
    ora.execute(
        "UPDATE \"EXP_AWKWARD\" SET tstz = TIMESTAMP '2024-06-30 23:59:59.123456 -07:00', "
        "tsltz = TIMESTAMP '2024-01-01 12:00:00 +05:30' WHERE id = 2"
    )
    out = tmp_path / "out"
    config = make_config(
        _source(),
        out,
        schemas=[ora.schema],
        include=[f"{ora.schema}.EXP_AWKWARD"],
        fetch_path=fetch_path,
    )
    (result,) = run_export(config, inline=True, show_progress=False).results
    assert (result.status, result.errors) == ("SUCCEEDED", [])
    assert result.plan is not None
    columns = list(result.plan.columns)
    got = sorted(table_rows(out, ora.schema, "EXP_AWKWARD", columns, ""), key=lambda r: r[0])
    exprs = ", ".join(OracleDialect().read_expression(c) for c in columns)
    with ora.raw.cursor() as cur:  # the exporter's type handler: the values canonical/cells.py gets
        cur.execute(f'SELECT {exprs} FROM "EXP_AWKWARD" ORDER BY 1')
        want = cur.fetchall()
    assert len(got) == len(want) == len(_awkward_rows())
    for g, w in zip(got, want, strict=True):
        for column, gv, wv in zip(columns, g, w, strict=True):
            assert _same(gv, wv), (column.name, gv, wv)


def test_rowid_chunks_read_one_snapshot_and_validate(ora: Ora, tmp_path: Path) -> None:
    rows = [(i, f"row {i}", Decimal(i) / 3) for i in range(20000)]
    ora.create("EXP_SPLIT", "id NUMBER(10), t VARCHAR2(50), n NUMBER(20, 6)", rows)
    with ora.raw.cursor() as cur:  # sizes come from statistics without DBA_SEGMENTS
        cur.callproc("DBMS_STATS.GATHER_TABLE_STATS", [ora.schema, "EXP_SPLIT"])
    out = tmp_path / "out"
    config = make_config(
        _source(),
        out,
        schemas=[ora.schema],
        include=[f"{ora.schema}.EXP_SPLIT"],
        chunk_threshold_gb=0,
        chunk_size_mb=0.1,
        consistent_snapshot=True,
    )
    run = run_export(config, inline=True, show_progress=False)
    (result,) = run.results
    assert result.status == "SUCCEEDED", result.errors
    assert result.plan is not None and result.plan.strategy == "physical"
    assert len(result.plan.chunks) > 1
    assert run.snapshot is not None and run.snapshot.isdigit()  # an SCN
    rows_back = table_rows(out, ora.schema, "EXP_SPLIT", list(result.plan.columns), "")
    assert sorted(r[0] for r in rows_back) == list(range(20000))


def test_composite_text_key_splits_with_the_expanded_or_form(ora: Ora, tmp_path: Path) -> None:
    # An index-organized table has logical ROWIDs: `auto` splits it on its primary key, here
    # (VARCHAR2, NUMBER), cut at a SAMPLE BLOCK of the key and compared without row values.
    rows = [(f"r{i % 7}-é", i, f"row {i}") for i in range(20000)]
    ora.create(
        "EXP_IOT",
        "region VARCHAR2(20), seq NUMBER(10), t VARCHAR2(50), "
        "CONSTRAINT exp_iot_pk PRIMARY KEY (region, seq)",
        rows,
        " ORGANIZATION INDEX",
    )
    with ora.raw.cursor() as cur:
        cur.callproc("DBMS_STATS.GATHER_TABLE_STATS", [ora.schema, "EXP_IOT"])
    out = tmp_path / "out"
    config = make_config(
        _source(),
        out,
        schemas=[ora.schema],
        include=[f"{ora.schema}.EXP_IOT"],
        chunk_threshold_gb=0,
        chunk_size_mb=0.1,
    )
    (result,) = run_export(config, inline=True, show_progress=False).results
    assert result.status == "SUCCEEDED", result.errors
    assert result.plan is not None and result.plan.strategy == "key"
    assert result.plan.split_columns == ("REGION", "SEQ") and len(result.plan.chunks) > 1
    rows_back = table_rows(out, ora.schema, "EXP_IOT", list(result.plan.columns), "")
    assert sorted(r[1] for r in rows_back) == list(range(20000))


def _cells(out: Path, schema: str, table: str) -> list[list[tuple[str, bool]]]:
    """Every record of a table's chunk files as (text, was_quoted) cells, by the first cell."""
    from exporter.layout import ExportLayout
    from exporter.model import TableRef
    from tests.csvcheck import read_chunk

    records = []
    for path in ExportLayout(out).existing_chunk_files(TableRef(schema, table)).values():
        records.extend(read_chunk(path)[1])
    return sorted(records, key=lambda r: int(r[0][0]))


@pytest.mark.parametrize("fetch_path", ["auto", "rows"])
def test_empty_lobs_stay_empty_and_xmltype_is_its_text(
    ora: Ora, tmp_path: Path, fetch_path: str
) -> None:
    # EMPTY_CLOB() / EMPTY_BLOB() are values, not NULL: quoted "" under the default '' marker,
    # where NULL is the unquoted empty field. XMLTYPE arrives as its serialized text.
    ora.create("EXP_LOBS", "id NUMBER(10), c CLOB, n NCLOB, b BLOB, x XMLTYPE", [])
    ora.execute('INSERT INTO "EXP_LOBS" VALUES (1, EMPTY_CLOB(), EMPTY_CLOB(), EMPTY_BLOB(), NULL)')
    ora.execute("""INSERT INTO "EXP_LOBS" VALUES (2, NULL, NULL, NULL, XMLTYPE('<a>é</a>'))""")
    ora.execute("""INSERT INTO "EXP_LOBS" VALUES (3, 'x', N'é', HEXTORAW('00FF'), NULL)""")
    out = tmp_path / "out"
    config = make_config(
        _source(),
        out,
        schemas=[ora.schema],
        include=[f"{ora.schema}.EXP_LOBS"],
        fetch_path=fetch_path,
        enable_row_hash=False,
    )
    (result,) = run_export(config, inline=True, show_progress=False).results
    assert (result.status, result.errors) == ("SUCCEEDED", [])
    assert _cells(out, ora.schema, "EXP_LOBS") == [
        [("1", False), ("", True), ("", True), ("", True), ("", False)],
        [("2", False), ("", False), ("", False), ("", False), ("<a>é</a>", True)],
        [("3", False), ("x", True), ("é", True), ("AP8=", False), ("", False)],
    ]


def test_numbers_beyond_38_fractional_digits_fail_their_table(ora: Ora, tmp_path: Path) -> None:
    ora.create("EXP_WIDE", "id NUMBER(10), n NUMBER", [(1, Decimal("1.5")), (2, Decimal("1e-39"))])
    ora.create("EXP_NARROW", "id NUMBER(10), n NUMBER", [(1, Decimal("-1e-38"))])
    out = tmp_path / "out"
    config = make_config(
        _source(),
        out,
        schemas=[ora.schema],
        include=[f"{ora.schema}.EXP_WIDE", f"{ora.schema}.EXP_NARROW"],
        enable_row_hash=False,
    )
    results = {
        r.table.name: r for r in run_export(config, inline=True, show_progress=False).results
    }
    assert results["EXP_NARROW"].status == "SUCCEEDED", results["EXP_NARROW"].errors
    assert _cells(out, ora.schema, "EXP_NARROW") == [
        [("1", False), ("-0.00000000000000000000000000000000000001", False)]
    ]
    assert results["EXP_WIDE"].status == "FAILED"
    error = results["EXP_WIDE"].errors[0]
    assert "EXP_WIDE" in error and "column 'N'" in error and "39 fractional digits" in error


def test_user_types_named_like_built_ins_are_refused_by_column(ora: Ora, tmp_path: Path) -> None:
    # A collection type called NUMBER_TAB... is not a NUMBER (DATA_TYPE_OWNER is set).
    ora.execute('CREATE TYPE "NUMBER_TAB_EXP" AS VARRAY(5) OF NUMBER')
    ora.execute('CREATE TYPE "TIMESTAMP_LIST_EXP" AS VARRAY(5) OF TIMESTAMP')
    try:
        ora.create(
            "EXP_UDT", 'id NUMBER(10), nums "NUMBER_TAB_EXP", times "TIMESTAMP_LIST_EXP"', []
        )
        out = tmp_path / "out"
        config = make_config(
            _source(), out, schemas=[ora.schema], include=[f"{ora.schema}.EXP_UDT"]
        )
        (result,) = run_export(config, inline=True, show_progress=False).results
        assert result.status == "FAILED"
        error = result.errors[0]
        assert "column 'NUMS'" in error and f"{ora.schema}.NUMBER_TAB_EXP" in error, error
    finally:  # FORCE: the table (dropped by the fixture) still uses them
        ora.execute('DROP TYPE "NUMBER_TAB_EXP" FORCE')
        ora.execute('DROP TYPE "TIMESTAMP_LIST_EXP" FORCE')
