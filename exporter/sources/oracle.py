"""Oracle Database through python-oracledb: thin mode by default, thick mode when the config
names it; one consistent image for every chunk through session flashback at one SCN.

Values arrive as the Python types canonical/cells.py writes exactly: NUMBER as int
(NUMBER(p<=18, 0)) or decimal.Decimal (everything else: never a float), CLOB/NCLOB as str
and BLOB as bytes (read inline, not as LOB locators), zoned timestamps already in UTC (see
OracleDialect).
Driver documentation: https://python-oracledb.readthedocs.io/en/latest/ (output type handlers
in user_guide/sql_execution.html, LOBs in user_guide/lob_data.html, thick mode in
user_guide/initialization.html).
"""

from __future__ import annotations

import contextlib
import decimal
import sys
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from exporter.errors import (
    ERR_COLUMN_TYPE_UNSUPPORTED,
    ERR_DATABASE,
    ERR_SNAPSHOT,
    ExporterError,
    SourceError,
    error,
)
from exporter.model import ChunkBounds, Column, TableRef
from exporter.sources import register
from exporter.sources.base import DbConn, RowBatches, Source
from exporter.sources.dialect import Query
from exporter.sources.oracle_sql import MAX_INTEGER_DIGITS, OracleDialect

# Session settings that shape any text Oracle itself produces (TO_CHAR of intervals, error
# messages quoting values) and the time zone of TIMESTAMP WITH LOCAL TIME ZONE.
# https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/ALTER-SESSION.html
SESSION_SETTINGS = (
    "ALTER SESSION SET TIME_ZONE = '+00:00'",
    "ALTER SESSION SET NLS_NUMERIC_CHARACTERS = '.,'",
    "ALTER SESSION SET NLS_DATE_FORMAT = 'YYYY-MM-DD HH24:MI:SS'",
    "ALTER SESSION SET NLS_TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF6'",
    "ALTER SESSION SET NLS_TIMESTAMP_TZ_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF6 TZH:TZM'",
    # Binary (byte) order for comparisons and sorts of text: the comparator's key ranges must
    # order keys as every other engine does. .../sqlrf/Data-Type-Comparison-Rules.html
    "ALTER SESSION SET NLS_SORT = BINARY",
    "ALTER SESSION SET NLS_COMP = BINARY",
)

_thick_initialised = False


_TEXT = ("DB_TYPE_CHAR", "DB_TYPE_VARCHAR", "DB_TYPE_LONG", "DB_TYPE_CLOB")
_NATIONAL_TEXT = ("DB_TYPE_NCHAR", "DB_TYPE_NVARCHAR", "DB_TYPE_NCLOB")


def fetch_type(
    type_name: str, precision: int | None, scale: int | None, is_json: bool = False
) -> str | None:
    """How one select-list item is fetched, by its driver type name: "int", "decimal",
    "text" / "ntext" (read inline as a str: LOBs and IS JSON columns), "bytes" (a BLOB read
    inline) or None (the driver's default)."""
    if type_name == "DB_TYPE_NUMBER":
        if scale == 0 and precision and precision <= MAX_INTEGER_DIGITS:
            return "int"
        return "decimal"  # unconstrained NUMBER, FLOAT(b), NUMBER(p, s): never a double
    # A LOB is read inline, and a column with an IS JSON constraint as its text: returning a
    # variable of our own skips the driver's JSON-to-Python conversion (python-oracledb 2.0+;
    # user_guide/json_data_type.html, issue 271).
    if type_name == "DB_TYPE_CLOB" or (is_json and type_name in _TEXT):
        return "text"
    if type_name == "DB_TYPE_NCLOB" or (is_json and type_name in _NATIONAL_TEXT):
        return "ntext"
    if type_name == "DB_TYPE_BLOB":
        return "bytes"
    return None


def _output_type_handler(cursor: Any, metadata: Any) -> Any:
    import oracledb

    is_json = bool(getattr(metadata, "is_json", False) or getattr(metadata, "is_oson", False))
    wanted = fetch_type(metadata.type_code.name, metadata.precision, metadata.scale, is_json)
    variable_type: Any = {
        "decimal": decimal.Decimal,
        "int": int,
        "text": oracledb.DB_TYPE_LONG,
        "ntext": oracledb.DB_TYPE_LONG_NVARCHAR,
        "bytes": oracledb.DB_TYPE_LONG_RAW,
    }.get(wanted or "")
    if variable_type is None:
        return None
    return cursor.var(variable_type, arraysize=cursor.arraysize)


def connect_dsn(config: Any) -> str:
    """The DSN: `dsn` as given (Easy Connect or a TNS alias), else host:port/service."""
    return str(config.dsn or f"{config.host}:{config.port}/{config.service}")


def rowid_bounds(starts: list[str]) -> list[ChunkBounds] | None:
    """Half-open ROWID ranges from the first ROWID of each group: the first range open below,
    the last open above, so that together they hold every row (None: fewer than 2 groups)."""
    if len(starts) < 2:
        return None
    edges: list[str | None] = [None, *starts[1:], None]
    return [ChunkBounds("physical", lo, hi) for lo, hi in zip(edges, edges[1:], strict=False)]


class OracleConn(DbConn):
    """A python-oracledb connection; reads only, so no transaction is ever opened."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        # Set while the session is flashed back to the run's SCN (chunk_transaction): a
        # session whose DISABLE failed would fail the next chunk's ENABLE (ORA-08184).
        self.in_flashback = False

    def fetch_all(self, query: Query) -> list[tuple[Any, ...]]:
        with self.raw.cursor() as cur:
            cur.execute(query.sql, dict(query.params))
            return list(cur.fetchall())

    def stream(self, query: Query, batch_rows: int) -> RowBatches:
        # arraysize rows per round trip; prefetchrows likewise, so the first trip is full.
        # https://python-oracledb.readthedocs.io/en/latest/user_guide/tuning.html
        with self.raw.cursor() as cur:
            cur.arraysize = batch_rows
            cur.prefetchrows = batch_rows
            cur.execute(query.sql, dict(query.params))
            while batch := cur.fetchmany(batch_rows):
                yield batch

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.raw.close()

    def reusable(self) -> bool:
        # python-oracledb's own verdict (a broken socket, an error that made the connection
        # unusable, a planned-down notice); no round trip. And not left in flashback mode.
        # https://python-oracledb.readthedocs.io/en/latest/api_manual/connection.html
        return bool(self.raw.is_healthy()) and not self.in_flashback


def _raw(conn: DbConn) -> Any:
    assert isinstance(conn, OracleConn)
    return conn.raw


@register
class OracleSource(Source):
    """An Oracle database (12.2 or later in thin mode)."""

    dialect: ClassVar[OracleDialect] = OracleDialect()

    @classmethod
    def loader_library_dir(cls, source_block: Mapping[str, Any]) -> str | None:
        # Thick mode on Linux: the Instant Client must be on LD_LIBRARY_PATH before Python
        # starts (run.sh). https://python-oracledb.readthedocs.io/en/latest/user_guide/initialization.html
        if source_block.get("thick_mode") and source_block.get("lib_dir"):
            return str(source_block["lib_dir"])
        return None

    def _init_mode(self) -> None:
        # Thick mode is chosen once per process, before the first connection.
        global _thick_initialised
        if self.config.thick_mode and not _thick_initialised:
            import oracledb

            # On Linux the libraries must be on the loader path before Python starts (run.sh
            # puts lib_dir there); lib_dir is passed only where the driver uses it, macOS and
            # Windows. https://python-oracledb.readthedocs.io/en/latest/user_guide/initialization.html
            lib_dir = self.config.lib_dir
            passed = str(lib_dir) if lib_dir and sys.platform in ("darwin", "win32") else None
            oracledb.init_oracle_client(lib_dir=passed)
            _thick_initialised = True

    def connect(self) -> DbConn:
        import oracledb

        self._init_mode()
        cfg = self.config
        extra = {"config_dir": str(cfg.config_dir)} if cfg.config_dir else {}
        raw = oracledb.connect(
            user=cfg.user, password=cfg.read_password(), dsn=connect_dsn(cfg), **extra
        )
        raw.outputtypehandler = _output_type_handler
        with raw.cursor() as cur:
            for statement in SESSION_SETTINGS:
                cur.execute(statement)
        return OracleConn(raw)

    def describe_target(self) -> str:
        return f"oracle {self.config.user}@{connect_dsn(self.config)}"

    def server_version(self, conn: DbConn) -> str:
        return f"Oracle Database {_raw(conn).version}"

    def explain_error(self, exc: BaseException) -> ExporterError:
        # python-oracledb errors carry an _Error with full_code ("ORA-01017", "DPY-6005").
        # https://python-oracledb.readthedocs.io/en/latest/user_guide/exception_handling.html
        detail = exc.args[0] if exc.args else None
        code = getattr(detail, "full_code", None) or None
        text = " ".join(str(getattr(detail, "message", None) or exc).split())
        if code and text.startswith(f"{code}: "):
            text = text[len(code) + 2 :]  # SourceError puts the code in front itself
        return error(
            ERR_DATABASE,
            target=self.describe_target(),
            detail=text or type(exc).__name__,
            db_code=code,
            hint=self.dialect.error_hints.get(code or ""),
        )

    def describe(self, conn: DbConn, table: TableRef) -> list[Column]:
        columns = super().describe(conn, table)
        for column in columns:
            if not self.dialect.supports(column.native_type):
                raise error(
                    ERR_COLUMN_TYPE_UNSUPPORTED,
                    table=table,
                    column=column.name,
                    native_type=column.native_type,
                    hint="exclude the table (export.exclude), or export a view that converts "
                    "the column to text (e.g. SDO_UTIL.TO_WKTGEOMETRY, VECTOR_SERIALIZE)",
                )
        return columns

    def size_bytes(self, conn: DbConn, table: TableRef) -> int:
        """Allocated segment bytes where DBA_SEGMENTS is readable and shows the table, else
        the statistics' estimate (an index-organized table's segment is an INDEX; a table
        never analyzed has no estimate and is exported whole)."""
        try:
            rows = conn.fetch_all(self.dialect.table_size_bytes(table))
        except Exception:  # noqa: BLE001 - ORA-00942 without the catalog role
            rows = []
        size = int(rows[0][0] or 0) if rows else 0
        if size == 0:
            rows = conn.fetch_all(self.dialect.table_size_from_stats(table))
            size = int(rows[0][0] or 0) if rows else 0
        return size

    def physical_ranges(
        self, conn: DbConn, table: TableRef, parts: int
    ) -> list[ChunkBounds] | None:
        # Reads every ROWID once, sorted, at planning time (no DBA privilege needed).
        # An index-organized table has logical ROWIDs: it is split on its key instead.
        ((iot_type,),) = conn.fetch_all(self.dialect.organization(table))
        if iot_type:
            return None
        starts = [row[0] for row in conn.fetch_all(self.dialect.rowid_range_starts(table, parts))]
        return rowid_bounds(starts)

    @contextlib.contextmanager
    def exported_snapshot(self) -> Iterator[str | None]:
        # The SCN names the image; every chunk session flashes back to it (below).
        try:
            with self.session() as conn:
                ((scn,),) = conn.fetch_all(self.dialect.current_scn())
                # Once here, so that a user who may not flash back (SYS: ORA-08185) learns
                # it now rather than from every chunk.
                with self.chunk_transaction(conn, str(int(scn))):
                    pass
        except SourceError as exc:
            raise error(
                ERR_SNAPSHOT,
                detail=exc.message,
                hint=exc.hint
                or "grant EXECUTE ON DBMS_FLASHBACK to the export user, or set "
                "export.consistent_snapshot: false (chunks then read independently)",
            ) from None
        yield str(int(scn))

    @contextlib.contextmanager
    def chunk_transaction(self, conn: DbConn, snapshot: str | None) -> Iterator[None]:
        # Session flashback: every query of the session reads the database as of the SCN,
        # until DISABLE. Needs EXECUTE on DBMS_FLASHBACK and undo reaching back that far.
        # https://docs.oracle.com/en/database/oracle/oracle-database/19/arpls/DBMS_FLASHBACK.html
        if not snapshot:
            yield
            return
        assert isinstance(conn, OracleConn)
        raw = conn.raw
        with raw.cursor() as cur:
            cur.callproc("DBMS_FLASHBACK.ENABLE_AT_SYSTEM_CHANGE_NUMBER", [int(snapshot)])
        conn.in_flashback = True
        try:
            yield
        finally:
            # If DISABLE fails, the session stays flashed back: `reusable` then tells the
            # worker to open a new one rather than fail its next chunk.
            with contextlib.suppress(Exception), raw.cursor() as cur:
                cur.callproc("DBMS_FLASHBACK.DISABLE")
                conn.in_flashback = False
