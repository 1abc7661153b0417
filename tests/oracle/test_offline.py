"""The Oracle source without an Oracle server: type mapping, how each column is read, ROWID
ranges, and the real driver's errors (a refused connection, thick mode without an Oracle
Client) as one line with a hint through the real CLI. The live suite is test_live.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
import yaml

from exporter.model import Column, ColumnKind, TableRef
from exporter.sources import get_source
from exporter.sources.oracle import OracleSource, connect_dsn, fetch_type, rowid_bounds
from exporter.sources.oracle_sql import OracleDialect, base_type
from tests.sqlite.helpers import run_subprocess

DIALECT = OracleDialect()


@pytest.mark.parametrize(
    ("data_type", "precision", "scale", "kind"),
    [
        ("NUMBER", 10, 0, ColumnKind.INTEGER),
        ("NUMBER", 18, 0, ColumnKind.INTEGER),
        ("NUMBER", 19, 0, ColumnKind.DECIMAL),  # beyond int64
        ("NUMBER", 38, 10, ColumnKind.DECIMAL),
        ("NUMBER", None, None, ColumnKind.DECIMAL),  # unconstrained: any scale
        ("NUMBER", None, 0, ColumnKind.DECIMAL),  # NUMBER(*, 0): up to 38 digits
        ("FLOAT", None, None, ColumnKind.DECIMAL),
        ("BINARY_FLOAT", None, None, ColumnKind.FLOAT),
        ("BINARY_DOUBLE", None, None, ColumnKind.FLOAT),
        ("DATE", None, None, ColumnKind.DATETIME),
        ("TIMESTAMP(6)", None, None, ColumnKind.DATETIME),
        ("TIMESTAMP(9) WITH TIME ZONE", None, None, ColumnKind.TIMESTAMP),
        ("TIMESTAMP(3) WITH LOCAL TIME ZONE", None, None, ColumnKind.TIMESTAMP),
        ("VARCHAR2", None, None, ColumnKind.STRING),
        ("NCLOB", None, None, ColumnKind.STRING),
        ("LONG", None, None, ColumnKind.STRING),
        ("INTERVAL DAY(2) TO SECOND(6)", None, None, ColumnKind.STRING),
        ("RAW", None, None, ColumnKind.BYTES),
        ("BLOB", None, None, ColumnKind.BYTES),
        ("JSON", None, None, ColumnKind.JSON),
        ("BOOLEAN", None, None, ColumnKind.BOOLEAN),
    ],
)
def test_column_kinds(
    data_type: str, precision: int | None, scale: int | None, kind: ColumnKind
) -> None:
    assert DIALECT.column_kind(data_type, precision, scale) is kind


def test_base_type_drops_every_length() -> None:
    assert base_type("TIMESTAMP(6) WITH TIME ZONE") == "TIMESTAMP WITH TIME ZONE"
    assert base_type("INTERVAL DAY(2) TO SECOND(6)") == "INTERVAL DAY TO SECOND(6)"
    assert base_type("VARCHAR2") == "VARCHAR2"


@pytest.mark.parametrize(
    ("native", "kind", "expression"),
    [
        ("TIMESTAMP(6) WITH TIME ZONE", ColumnKind.TIMESTAMP, 'SYS_EXTRACT_UTC("c")'),
        (
            "TIMESTAMP(6) WITH LOCAL TIME ZONE",
            ColumnKind.TIMESTAMP,
            'SYS_EXTRACT_UTC(CAST("c" AS TIMESTAMP WITH TIME ZONE))',
        ),
        ("JSON", ColumnKind.JSON, 'JSON_SERIALIZE("c" RETURNING CLOB)'),
        ("VARCHAR2", ColumnKind.STRING, '"c"'),
        ("NVARCHAR2", ColumnKind.STRING, '"c"'),
        ("CLOB", ColumnKind.STRING, '"c"'),
        ("LONG", ColumnKind.STRING, '"c"'),
        ("INTERVAL YEAR(2) TO MONTH", ColumnKind.STRING, 'TO_CHAR("c")'),
        ("UROWID", ColumnKind.STRING, '"c"'),
        ("NUMBER", ColumnKind.DECIMAL, '"c"'),
        ("DATE", ColumnKind.DATETIME, '"c"'),
        ("BLOB", ColumnKind.BYTES, '"c"'),
    ],
)
def test_read_expressions(native: str, kind: ColumnKind, expression: str) -> None:
    assert DIALECT.read_expression(Column("c", native, kind, True)) == expression


@pytest.mark.parametrize(
    ("type_name", "precision", "scale", "is_json", "fetched"),
    [
        ("DB_TYPE_NUMBER", 10, 0, False, "int"),
        ("DB_TYPE_NUMBER", 19, 0, False, "decimal"),
        ("DB_TYPE_NUMBER", 0, -127, False, "decimal"),  # unconstrained NUMBER, COUNT(*), SUM()
        ("DB_TYPE_NUMBER", 126, -127, False, "decimal"),  # FLOAT(126)
        ("DB_TYPE_NUMBER", 38, 2, False, "decimal"),
        ("DB_TYPE_CLOB", 0, 0, False, "text"),
        ("DB_TYPE_NCLOB", 0, 0, False, "ntext"),
        ("DB_TYPE_BLOB", 0, 0, False, "bytes"),
        ("DB_TYPE_BINARY_DOUBLE", 0, 0, False, None),
        ("DB_TYPE_VARCHAR", 0, 0, False, None),
        ("DB_TYPE_VARCHAR", 0, 0, True, "text"),  # IS JSON: its text, not Python objects
        ("DB_TYPE_NVARCHAR", 0, 0, True, "ntext"),
        ("DB_TYPE_CLOB", 0, 0, True, "text"),
    ],
)
def test_numbers_are_never_doubles_and_json_stays_text(
    type_name: str, precision: int, scale: int, is_json: bool, fetched: str | None
) -> None:
    assert fetch_type(type_name, precision, scale, is_json) == fetched


def test_fetch_type_names_are_the_drivers() -> None:
    import oracledb

    names = [
        "DB_TYPE_NUMBER",
        "DB_TYPE_CLOB",
        "DB_TYPE_NCLOB",
        "DB_TYPE_BLOB",
        "DB_TYPE_CHAR",
        "DB_TYPE_VARCHAR",
        "DB_TYPE_LONG",
        "DB_TYPE_NCHAR",
        "DB_TYPE_NVARCHAR",
        "DB_TYPE_LONG_NVARCHAR",
        "DB_TYPE_LONG_RAW",
    ]
    for name in names:
        assert getattr(oracledb, name).name == name


def test_rowid_ranges_cover_everything_once() -> None:
    starts = ["AAAA", "AAAM", "AAAZ"]
    bounds = rowid_bounds(starts)
    assert bounds is not None
    assert [(b.lower, b.upper) for b in bounds] == [
        (None, "AAAM"),
        ("AAAM", "AAAZ"),
        ("AAAZ", None),
    ]
    assert rowid_bounds(["AAAA"]) is None  # one group: not split
    assert rowid_bounds([]) is None


def test_range_starts_are_ordered_by_group_not_by_rowid_text() -> None:
    # ROWID text is base64 (A-Z a-z 0-9 + /): block 52 ends in "0" and block 51 in "z", so
    # the text of a later ROWID can sort first. The starts must come in NTILE group order.
    query = DIALECT.rowid_range_starts(TableRef("S", "T"), 4)
    tree = sqlglot.parse_one(query.sql, read="oracle")
    order = tree.args["order"].expressions
    assert [o.this.sql() for o in order] == ["nt"]


@pytest.mark.parametrize(
    ("native", "supported"),
    [
        ("NUMBER", True),
        ("TIMESTAMP(9) WITH LOCAL TIME ZONE", True),
        ("INTERVAL DAY(2) TO SECOND(6)", True),
        ("XMLTYPE", True),
        ("UROWID", True),
        ("BFILE", False),
        ("VECTOR", False),
        ("SDO_GEOMETRY", False),
        ("MY_OBJECT_TYPE", False),
    ],
)
def test_types_without_a_csv_form_are_refused(native: str, supported: bool) -> None:
    assert DIALECT.supports(native) is supported


def test_dsn_from_host_port_service_or_as_given() -> None:
    base = {"engine": "oracle", "user": "U", "password_env": "X"}
    from exporter.sources.configs import OracleSourceConfig

    parts = OracleSourceConfig(**base, host="db", port=1522, service="PDB1")  # type: ignore[arg-type]
    assert connect_dsn(parts) == "db:1522/PDB1"
    alias = OracleSourceConfig(**base, dsn="PRODDB")  # type: ignore[arg-type]
    assert connect_dsn(alias) == "PRODDB"
    source = get_source(parts)
    assert isinstance(source, OracleSource)
    assert source.describe_target() == "oracle U@db:1522/PDB1"


def _config(tmp_path: Path, **source: object) -> Path:
    data = {
        "source": {
            "engine": "oracle",
            "host": "127.0.0.1",
            "port": 1,  # nothing listens there
            "service": "ORCLPDB1",
            "user": "SCOTT",
            "password_env": "EXPORTER_TEST_ORA_PASSWORD",
            **source,
        },
        "export": {"output_dir": str(tmp_path / "out")},
    }
    path = tmp_path / "oracle.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["check"], ["export"]])
def test_unreachable_listener_is_one_line_with_a_hint(
    tmp_path: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path)
    monkeypatch.setenv("EXPORTER_TEST_ORA_PASSWORD", "tiger-secret-1")
    result = run_subprocess([*command, "--config", str(config)], tmp_path)
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    (line,) = result.err_lines
    assert "DPY-6005" in line and "source.host" in line, line
    assert "tiger-secret-1" not in result.err + result.out
    assert not (tmp_path / "out").exists()


def test_thick_mode_without_a_client_names_lib_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, thick_mode=True, lib_dir=str(tmp_path / "no-instant-client"))
    monkeypatch.setenv("EXPORTER_TEST_ORA_PASSWORD", "tiger-secret-1")
    result = run_subprocess(["check", "--config", str(config)], tmp_path)
    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    (line,) = result.err_lines
    assert "DPI-1047" in line and "source.lib_dir" in line, line


class _Cursor:
    """A python-oracledb cursor stand-in: records procedure calls, fails DISABLE on demand."""

    def __init__(self, conn: _Raw) -> None:
        self.conn = conn

    def __enter__(self) -> _Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def callproc(self, name: str, args: list[object] | None = None) -> None:
        self.conn.calls.append(name)
        if name == "DBMS_FLASHBACK.DISABLE" and self.conn.fail_disable:
            raise RuntimeError("ORA-03113: end-of-file on communication channel")


class _Raw:
    """A python-oracledb connection stand-in (healthy unless told otherwise)."""

    def __init__(self, fail_disable: bool = False) -> None:
        self.calls: list[str] = []
        self.fail_disable = fail_disable
        self.closed = False

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def is_healthy(self) -> bool:
        return not self.closed

    def close(self) -> None:
        self.closed = True


def _oracle_source() -> OracleSource:
    from exporter.sources.configs import OracleSourceConfig

    config = OracleSourceConfig(engine="oracle", host="db", service="PDB1", user="U")  # type: ignore[arg-type]
    source = get_source(config)
    assert isinstance(source, OracleSource)
    return source


@pytest.mark.parametrize("fail_disable", [False, True])
def test_a_session_left_in_flashback_mode_is_not_reused(fail_disable: bool) -> None:
    from exporter.sources.oracle import OracleConn

    source, raw = _oracle_source(), _Raw(fail_disable)
    conn = OracleConn(raw)
    with source.chunk_transaction(conn, "123456"):
        assert conn.in_flashback and not conn.reusable()
    assert raw.calls == ["DBMS_FLASHBACK.ENABLE_AT_SYSTEM_CHANGE_NUMBER", "DBMS_FLASHBACK.DISABLE"]
    # DISABLE failed: the session still reads the old SCN and its next ENABLE would fail
    # (ORA-08184), so the worker must open a new session instead.
    assert conn.reusable() is not fail_disable


def test_the_worker_replaces_a_cached_connection_that_is_not_reusable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from exporter.config.plain import PlainSettings
    from exporter.runtime import connections
    from exporter.sources.oracle import OracleConn

    opened: list[_Raw] = []

    def fake_open(self: OracleSource) -> OracleConn:
        opened.append(_Raw())
        return OracleConn(opened[-1])

    monkeypatch.setattr(OracleSource, "open", fake_open)
    monkeypatch.setattr(connections, "_cache", {})
    settings = PlainSettings(
        {"engine": "oracle", "host": "db", "port": 1521, "service": "PDB1", "user": "U"}
    )
    _source, first = connections.cached_connection(settings)
    assert connections.cached_connection(settings)[1] is first  # reused while usable
    assert isinstance(first, OracleConn)
    first.in_flashback = True  # as after a failed DISABLE
    _source, second = connections.cached_connection(settings)
    assert second is not first and opened[0].closed and len(opened) == 2


# -- the driver's own objects, built offline ------------------------------------------------


def _source() -> OracleSource:
    from exporter.config.loader import parse_config

    config = parse_config(
        {"source": {"engine": "oracle", "host": "db", "service": "PDB1", "user": "U"}}
    )
    source = get_source(config.source)
    assert isinstance(source, OracleSource)
    return source


@pytest.mark.parametrize("code", sorted(DIALECT.error_hints))
def test_real_driver_errors_are_explained_with_their_hint(code: str) -> None:
    """python-oracledb's DatabaseError as the driver makes it (an _Error with full_code),
    for every code with a hint: the code once, in front, and that code's hint."""
    import oracledb
    from oracledb.errors import _Error  # the driver's own error payload (full_code, message)

    exc = oracledb.DatabaseError(_Error(f"{code}: the driver's words"))
    line = _source().explain_error(exc).one_line()
    assert line.startswith(f"error EXP-2001: {code}: oracle U@db:1521/PDB1: the driver's words")
    assert line.count(code) == 1
    hint = " ".join(DIALECT.error_hints[code].split())
    assert line.endswith(f"(fix: {hint})")


def test_an_error_without_a_known_code_has_no_hint() -> None:
    import oracledb
    from oracledb.errors import _Error

    exc = oracledb.DatabaseError(_Error("ORA-99999: something new"))
    line = _source().explain_error(exc).one_line()
    assert line == "error EXP-2001: ORA-99999: oracle U@db:1521/PDB1: something new"


class _Metadata:
    """A FetchInfo stand-in: the driver's real type objects, a precision and scale."""

    def __init__(self, type_code: object, precision: int = 0, scale: int = 0, **flags: bool):
        self.type_code = type_code
        self.precision = precision
        self.scale = scale
        self.is_json = flags.get("is_json", False)
        self.is_oson = flags.get("is_oson", False)


class _VarCursor:
    """Records the variables the output type handler asks the cursor for."""

    arraysize = 500

    def var(self, kind: object, arraysize: int) -> tuple[object, int]:
        return (kind, arraysize)


def test_the_output_type_handler_asks_the_driver_for_exact_values() -> None:
    """The handler as the driver calls it, with the driver's own DB_TYPE objects: what each
    column is fetched as (a Decimal never a double; LOBs and IS JSON text inline)."""
    import decimal

    import oracledb

    from exporter.sources.oracle import _output_type_handler

    def fetched(meta: _Metadata) -> object:
        var = _output_type_handler(_VarCursor(), meta)
        if var is None:
            return None
        kind, arraysize = var
        assert arraysize == 500
        return kind

    number = oracledb.DB_TYPE_NUMBER
    assert fetched(_Metadata(number, 9, 0)) is int
    assert fetched(_Metadata(number, 18, 0)) is int
    assert fetched(_Metadata(number, 19, 0)) is decimal.Decimal  # beyond int64
    assert fetched(_Metadata(number, 10, 2)) is decimal.Decimal
    assert fetched(_Metadata(number, 0, -127)) is decimal.Decimal  # unconstrained, SUM()
    assert fetched(_Metadata(oracledb.DB_TYPE_CLOB)) is oracledb.DB_TYPE_LONG
    assert fetched(_Metadata(oracledb.DB_TYPE_NCLOB)) is oracledb.DB_TYPE_LONG_NVARCHAR
    assert fetched(_Metadata(oracledb.DB_TYPE_BLOB)) is oracledb.DB_TYPE_LONG_RAW
    assert fetched(_Metadata(oracledb.DB_TYPE_VARCHAR)) is None  # the driver's str
    assert fetched(_Metadata(oracledb.DB_TYPE_VARCHAR, is_json=True)) is oracledb.DB_TYPE_LONG
    assert fetched(_Metadata(oracledb.DB_TYPE_BINARY_DOUBLE)) is None  # a double is a double
