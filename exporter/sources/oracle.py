"""Oracle Database through python-oracledb: thin mode by default, thick mode when the config
names it; one consistent image for every chunk through session flashback at one SCN.

Values arrive as the Python types encode.py writes exactly: NUMBER as int (NUMBER(p<=18, 0))
or decimal.Decimal (everything else: never a float), CLOB/NCLOB as str and BLOB as bytes
(read inline, not as LOB locators), zoned timestamps already in UTC (see OracleDialect).
Driver documentation: https://python-oracledb.readthedocs.io/en/latest/ (output type handlers
in user_guide/sql_execution.html, LOBs in user_guide/lob_data.html, thick mode in
user_guide/initialization.html).
"""

from __future__ import annotations

import contextlib
import decimal
from collections.abc import Iterator
from typing import Any, ClassVar

from exporter.errors import ORACLE_HINTS, ExporterError, SourceError
from exporter.model import ChunkBounds, TableRef
from exporter.sources import register
from exporter.sources.base import DbConn, Query, RowBatches, Source
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
)

_thick_initialised = False


def fetch_type(type_name: str, precision: int | None, scale: int | None) -> str | None:
    """How one select-list item is fetched, by its driver type name: "int", "decimal",
    "text" (a CLOB read inline), "bytes" (a BLOB read inline) or None (the default)."""
    if type_name == "DB_TYPE_NUMBER":
        if scale == 0 and precision and precision <= MAX_INTEGER_DIGITS:
            return "int"
        return "decimal"  # unconstrained NUMBER, FLOAT(b), NUMBER(p, s): never a double
    if type_name in ("DB_TYPE_CLOB", "DB_TYPE_NCLOB"):
        return "text"
    if type_name == "DB_TYPE_BLOB":
        return "bytes"
    return None


def _output_type_handler(cursor: Any, metadata: Any) -> Any:
    import oracledb

    wanted = fetch_type(metadata.type_code.name, metadata.precision, metadata.scale)
    if wanted == "decimal":
        return cursor.var(decimal.Decimal, arraysize=cursor.arraysize)
    if wanted == "int":
        return cursor.var(int, arraysize=cursor.arraysize)
    if wanted == "text":
        return cursor.var(oracledb.DB_TYPE_LONG, arraysize=cursor.arraysize)
    if wanted == "bytes":
        return cursor.var(oracledb.DB_TYPE_LONG_RAW, arraysize=cursor.arraysize)
    return None


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


def _raw(conn: DbConn) -> Any:
    assert isinstance(conn, OracleConn)
    return conn.raw


@register
class OracleSource(Source):
    """An Oracle database (12.2 or later in thin mode)."""

    dialect: ClassVar[OracleDialect] = OracleDialect()

    def _init_mode(self) -> None:
        # Thick mode is chosen once per process, before the first connection.
        global _thick_initialised
        if self.config.thick_mode and not _thick_initialised:
            import oracledb

            lib_dir = str(self.config.lib_dir) if self.config.lib_dir else None
            oracledb.init_oracle_client(lib_dir=lib_dir)
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
        return SourceError(
            f"{self.describe_target()}: {text or type(exc).__name__}",
            db_code=code,
            hint=ORACLE_HINTS.get(code or ""),
        )

    def size_bytes(self, conn: DbConn, table: TableRef) -> int:
        """Allocated segment bytes where DBA_SEGMENTS is readable, else the statistics'
        estimate (0 for a table never analyzed: it is then exported whole)."""
        try:
            rows = conn.fetch_all(self.dialect.table_size_bytes(table))
        except Exception:  # noqa: BLE001 - ORA-00942 without the catalog role
            rows = conn.fetch_all(self.dialect.table_size_from_stats(table))
        return int(rows[0][0] or 0) if rows else 0

    def physical_ranges(
        self, conn: DbConn, table: TableRef, parts: int
    ) -> list[ChunkBounds] | None:
        # Reads every ROWID once, sorted, at planning time (no DBA privilege needed).
        starts = [row[0] for row in conn.fetch_all(self.dialect.rowid_range_starts(table, parts))]
        return rowid_bounds(starts)

    @contextlib.contextmanager
    def exported_snapshot(self) -> Iterator[str | None]:
        # The SCN names the image; every chunk session flashes back to it (below).
        try:
            with self.session() as conn:
                ((scn,),) = conn.fetch_all(self.dialect.current_scn())
        except SourceError as exc:
            raise SourceError(
                f"reading the current SCN: {exc.message}",
                hint="grant EXECUTE ON DBMS_FLASHBACK to the export user, or set "
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
        raw = _raw(conn)
        with raw.cursor() as cur:
            cur.callproc("DBMS_FLASHBACK.ENABLE_AT_SYSTEM_CHANGE_NUMBER", [int(snapshot)])
        try:
            yield
        finally:
            with contextlib.suppress(Exception), raw.cursor() as cur:
                cur.callproc("DBMS_FLASHBACK.DISABLE")
