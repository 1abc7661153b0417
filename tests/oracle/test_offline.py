"""The Oracle source without an Oracle server: type mapping, how each column is read, ROWID
ranges, and the real driver's errors (a refused connection, thick mode without an Oracle
Client) as one line with a hint through the real CLI. The live suite is test_live.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
import yaml

from exporter.model import (
    Chunk,
    ChunkBounds,
    Column,
    ColumnKind,
    TablePlan,
    TableRef,
)
from exporter.sources import get_source
from exporter.sources.oracle import OracleSource, connect_dsn
from exporter.sources.oracle_sql import OracleDialect
from exporter.sources.oracle_types import (
    ChunkQuery,
    base_type,
    fetch_type,
    output_type_handler,
)
from tests.plans import whole_plan
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
    assert base_type("INTERVAL DAY(2) TO SECOND(6)") == "INTERVAL DAY TO SECOND"
    assert base_type("INTERVAL YEAR(9) TO MONTH") == "INTERVAL YEAR TO MONTH"
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
        ("XMLTYPE", ColumnKind.STRING, 'XMLSERIALIZE(CONTENT "c" AS CLOB)'),
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
        # exact names: a type named like a built-in one is not that type
        ("NUMBER_TAB", False),
        ("TIMESTAMP_LIST", False),
        ("INTERVAL_T", False),
        ("TIMESTAMP(6) WITH TIME ZONE_T", False),
        ("INTERVAL YEAR(2) TO MONTH", True),
        ("FLOAT", True),
        # an owned type, as table_columns writes it: never the built-in of that name
        ("SCOTT.NUMBER_TAB", False),
        ("SCOTT.TIMESTAMP_LIST", False),
        ("SCOTT.NUMBER", False),
        ("SCOTT.XMLTYPE", False),
        ("REF SCOTT.ADDRESS_T", False),
        ("MDSYS.SDO_GEOMETRY", False),
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

    def fetched(meta: _Metadata) -> object:
        var = output_type_handler(_VarCursor(), meta)
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


# -- owned types, empty LOBs, thick mode: offline --------------------------------------------


def test_table_columns_write_an_owned_type_as_owner_dot_name() -> None:
    """DATA_TYPE_OWNER decides: the built-in name only where it is NULL (or SYS's XMLTYPE)."""
    from sqlglot import exp

    query = DIALECT.table_columns(TableRef("S", "T"))
    tree = sqlglot.parse_one(query.sql, read="oracle")
    native = tree.expressions[1]
    assert isinstance(native, exp.Case)
    sql = native.sql(dialect="oracle")
    assert "data_type_owner IS NULL" in sql and "data_type_owner = 'SYS'" in sql
    assert "data_type_owner || '.' || data_type" in sql
    assert query.params == {"owner": "S", "name": "T"}


class _Catalog:
    """A DbConn stand-in answering the catalog query with ALL_TAB_COLUMNS rows."""

    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self.rows = rows

    def fetch_all(self, query: object) -> list[tuple[object, ...]]:
        return self.rows


@pytest.mark.parametrize("native", ["SCOTT.NUMBER_TAB", "SCOTT.TIMESTAMP_LIST", "NUMBER_TAB"])
def test_a_user_type_named_like_a_built_in_is_refused_naming_its_column(native: str) -> None:
    from exporter.errors import DataError

    rows = [("ID", "NUMBER", 10, 0, 1), ("ITEMS", native, None, None, 0)]
    with pytest.raises(DataError) as info:
        _source().describe(_Catalog(rows), TableRef("SCOTT", "ORDERS"))  # type: ignore[arg-type]
    line = info.value.one_line()
    assert "column 'ITEMS'" in line and native in line and "ORDERS" in line


def test_built_in_types_are_described_with_their_kinds() -> None:
    rows = [
        ("N", "NUMBER", 10, 0, 1),
        ("X", "XMLTYPE", None, None, 0),
        ("T", "TIMESTAMP(6) WITH TIME ZONE", None, None, 0),
        ("I", "INTERVAL DAY(2) TO SECOND(6)", None, None, 0),
    ]
    columns = _source().describe(_Catalog(rows), TableRef("S", "T"))  # type: ignore[arg-type]
    assert [(c.name, c.kind, c.nullable) for c in columns] == [
        ("N", ColumnKind.INTEGER, False),
        ("X", ColumnKind.STRING, True),
        ("T", ColumnKind.TIMESTAMP, True),
        ("I", ColumnKind.STRING, True),
    ]


LOB_COLUMNS = (
    Column("ID", "NUMBER", ColumnKind.INTEGER, False, 10, 0),
    Column("C", "CLOB", ColumnKind.STRING, True),
    Column("B", "BLOB", ColumnKind.BYTES, True),
    Column("N", "NCLOB", ColumnKind.STRING, True),
)
WHOLE = Chunk(0, ChunkBounds("whole"))


def _lob_plan(columns: tuple[Column, ...] = LOB_COLUMNS) -> TablePlan:
    table = TableRef("S", "LOBS")
    return whole_plan(columns, table=table, marker="", row_hash=False, size_bytes=1)


def test_the_chunk_query_flags_each_lob_column() -> None:
    query = DIALECT.select_chunk(_lob_plan(), WHOLE)
    assert isinstance(query, ChunkQuery)
    assert (query.width, query.lobs) == (4, ((1, ""), (2, b""), (3, "")))
    assert query.sql.startswith(
        'SELECT "ID", "C", "B", "N", CASE WHEN "C" IS NOT NULL THEN 1 END, '
        'CASE WHEN "B" IS NOT NULL THEN 1 END, CASE WHEN "N" IS NOT NULL THEN 1 END FROM '
    )
    plain = DIALECT.select_chunk(_lob_plan(LOB_COLUMNS[:1]), WHOLE)  # no LOB, no flags
    assert not isinstance(plain, ChunkQuery) and plain.sql.startswith('SELECT "ID" FROM ')


class _FetchCursor:
    """A cursor stand-in that returns rows as the thin driver does: an empty LOB read inline
    (a zero-length LONG / LONG RAW value) is None, like NULL; the flags are 1 or None."""

    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self.rows = rows
        self.arraysize = self.prefetchrows = 0

    def __enter__(self) -> _FetchCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, sql: str, params: object = None) -> None:
        return None

    def fetchmany(self, size: int) -> list[tuple[object, ...]]:
        batch, self.rows = self.rows[:size], self.rows[size:]
        return batch


class _FetchRaw:
    def __init__(self, rows: list[tuple[object, ...]]) -> None:
        self.cur = _FetchCursor(rows)
        self.outputtypehandler: object = None

    def cursor(self) -> _FetchCursor:
        return self.cur


def test_empty_lobs_are_written_as_empty_values_never_as_null() -> None:
    """EMPTY_CLOB() and EMPTY_BLOB() through the read path: the driver's None with a flag
    becomes '' / b'', written `""` under Oracle's empty null marker; NULL stays the
    unquoted empty field."""
    from exporter.canonical.rows import BatchEncoder
    from exporter.sources.oracle import OracleConn

    driver_rows: list[tuple[object, ...]] = [
        # ID, C, B, N, then the flags of C, B, N (1: not NULL)
        (1, None, None, None, 1, 1, 1),  # EMPTY_CLOB(), EMPTY_BLOB(), EMPTY_CLOB()
        (2, None, None, None, None, None, None),  # NULL, NULL, NULL
        (3, "x", b"\x00\xff", "é", 1, 1, 1),
        (4, None, b"a", None, 1, 1, None),  # empty, a value, NULL
    ]
    query = DIALECT.select_chunk(_lob_plan(), WHOLE)
    batches = list(OracleConn(_FetchRaw(driver_rows)).stream(query, 3))
    assert [len(b) for b in batches] == [3, 1]
    rows = [row for batch in batches for row in batch]
    assert rows == [
        (1, "", b"", ""),
        (2, None, None, None),
        (3, "x", b"\x00\xff", "é"),
        (4, "", b"a", None),
    ]
    assert BatchEncoder(LOB_COLUMNS, "").encode(rows) == [
        '1,"","",""',
        "2,,,",
        '3,"x",AP8=,"é"',
        '4,"",YQ==,',
    ]
    # Under a \N marker the empty BLOB is the unquoted empty field (empty bytes in BigQuery).
    assert BatchEncoder(LOB_COLUMNS, "\\N").encode(rows[:2]) == ['1,"",,""', "2,\\N,\\N,\\N"]


def test_other_queries_stream_their_rows_unchanged() -> None:
    from exporter.sources.dialect import Query
    from exporter.sources.oracle import OracleConn

    raw = _FetchRaw([(None, 1), (None, None)])
    batches = list(OracleConn(raw).stream(Query("SELECT a, b FROM t"), 10))
    assert batches == [[(None, 1), (None, None)]]


def _thick_source(**extra: object) -> OracleSource:
    from exporter.config.loader import parse_config

    block = {"engine": "oracle", "host": "db", "service": "PDB1", "user": "U", **extra}
    source = get_source(parse_config({"source": block}).source)
    assert isinstance(source, OracleSource)
    return source


@pytest.mark.parametrize("thick", [True, False])
def test_thick_mode_gives_lib_dir_and_config_dir_to_init_oracle_client(
    thick: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real init_oracle_client and connect replaced by recorders of their arguments:
    thick mode passes lib_dir (on every platform) and config_dir to init_oracle_client, and
    no config_dir to connect(), which ignores it in thick mode; thin mode passes config_dir
    to connect() and never initialises the Client."""
    import oracledb

    from exporter.sources import oracle

    inits: list[dict[str, object]] = []
    connects: list[dict[str, object]] = []

    def connect(**kw: object) -> _FetchRaw:
        connects.append(kw)
        return _FetchRaw([])

    monkeypatch.setattr(oracledb, "init_oracle_client", lambda **kw: inits.append(kw))
    monkeypatch.setattr(oracledb, "connect", connect)
    monkeypatch.setattr(oracle, "_thick_initialised", False)
    lib, tns = tmp_path / "instantclient_23_26", tmp_path / "tns"
    extra = {"thick_mode": True, "lib_dir": str(lib)} if thick else {}
    source = _thick_source(config_dir=str(tns), **extra)
    source.connect()
    source.connect()  # the Client is initialised once per process
    if thick:
        assert inits == [{"lib_dir": str(lib), "config_dir": str(tns)}]
        assert all("config_dir" not in kw for kw in connects)
    else:
        assert inits == []
        assert [kw["config_dir"] for kw in connects] == [str(tns), str(tns)]
    assert [kw["dsn"] for kw in connects] == ["db:1521/PDB1"] * 2


def test_thick_mode_without_dirs_leaves_them_to_the_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import oracledb

    from exporter.sources import oracle

    inits: list[dict[str, object]] = []
    monkeypatch.setattr(oracledb, "init_oracle_client", lambda **kw: inits.append(kw))
    monkeypatch.setattr(oracledb, "connect", lambda **kw: _FetchRaw([]))
    monkeypatch.setattr(oracle, "_thick_initialised", False)
    _thick_source(thick_mode=True).connect()
    assert inits == [{"lib_dir": None, "config_dir": None}]
