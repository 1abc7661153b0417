"""Oracle Database through python-oracledb: thin mode by default, thick mode when the config
names it; one consistent image for every chunk through session flashback at one SCN.

Values arrive as the Python types canonical/cells.py writes exactly: NUMBER as int
(NUMBER(p<=18, 0)) or decimal.Decimal (everything else: never a float), CLOB/NCLOB as str
and BLOB as bytes (read inline, not as LOB locators; an empty LOB as '' or b'', not None),
zoned timestamps already in UTC (see OracleDialect; the type mapping is oracle_types.py's).
Driver documentation: https://python-oracledb.readthedocs.io/en/latest/ (output type handlers
in user_guide/sql_execution.html, LOBs in user_guide/lob_data.html, thick mode in
user_guide/initialization.html).
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from exporter.errors import (
    ERR_COLUMN_TYPE_UNSUPPORTED,
    ERR_DATABASE,
    ERR_SNAPSHOT,
    ExporterError,
    error,
)
from exporter.model import ChunkBounds, Column, TableRef
from exporter.sources import oracle_probes, oracle_storage, register
from exporter.sources.base import DbConn, Source
from exporter.sources.dialect import Query
from exporter.sources.oracle_conn import (
    SESSION_SETTINGS,
    OracleConn,
    connect_dsn,
    procedure_caller,
    raw_connection,
)
from exporter.sources.oracle_errors import error_text, hint_for
from exporter.sources.oracle_sql import OracleDialect
from exporter.sources.oracle_storage import Privileges
from exporter.sources.oracle_types import output_type_handler
from exporter.sources.probes import Probe
from exporter.sources.values import LeafPartition, TableSize

_thick_initialised = False


@register
class OracleSource(Source):
    """An Oracle database (12.2 or later in thin mode)."""

    dialect: ClassVar[OracleDialect] = OracleDialect()
    worker_modules: ClassVar[tuple[str, ...]] = ("exporter.sources.oracle", "oracledb")
    _privileges: Privileges | None = None  # learnt on the first planning query

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

            # lib_dir is passed on every platform: the driver loads the Client from there (on
            # Linux that is enough for libraries built with RPATH=$ORIGIN, which earlier
            # Client versions lack: run.sh also puts lib_dir on LD_LIBRARY_PATH for those);
            # config_dir is where thick mode reads tnsnames.ora and sqlnet.ora, given here
            # because connect() ignores it in thick mode.
            # https://python-oracledb.readthedocs.io/en/latest/user_guide/initialization.html
            cfg = self.config
            oracledb.init_oracle_client(
                lib_dir=str(cfg.lib_dir) if cfg.lib_dir else None,
                config_dir=str(cfg.config_dir) if cfg.config_dir else None,
            )
            _thick_initialised = True

    def connect(self) -> DbConn:
        import oracledb

        self._init_mode()
        cfg = self.config
        thin = not cfg.thick_mode  # thick mode took config_dir in _init_mode
        extra = {"config_dir": str(cfg.config_dir)} if cfg.config_dir and thin else {}
        raw = oracledb.connect(
            user=cfg.user, password=cfg.read_password(), dsn=connect_dsn(cfg), **extra
        )
        raw.outputtypehandler = output_type_handler
        with raw.cursor() as cur:
            for statement in SESSION_SETTINGS:
                cur.execute(statement)
        return OracleConn(raw)

    def describe_target(self) -> str:
        return f"oracle {self.config.user}@{connect_dsn(self.config)}"

    def server_version(self, conn: DbConn) -> str:
        return f"Oracle Database {raw_connection(conn).version}"

    def explain_error(self, exc: BaseException) -> ExporterError:
        # python-oracledb errors carry an _Error with full_code ("ORA-01017", "DPY-6005"); the
        # hint is that of the most specific code in the message (oracle_errors.py).
        # https://python-oracledb.readthedocs.io/en/latest/user_guide/exception_handling.html
        detail = exc.args[0] if exc.args else None
        code = getattr(detail, "full_code", None) or None
        text = " ".join(error_text(exc).split())
        if code and text.startswith(f"{code}: "):
            text = text[len(code) + 2 :]  # SourceError puts the code in front itself
        return error(
            ERR_DATABASE,
            target=self.describe_target(),
            detail=text or type(exc).__name__,
            db_code=code,
            hint=hint_for(exc, self.dialect.error_hints),
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

    # -- planning (oracle_storage.py): sizes, partitions, ROWID ranges, never a table scan ---
    def _seen(self, conn: DbConn) -> Privileges:
        if self._privileges is None:
            ((user,),) = conn.fetch_all(self.dialect.session_user())
            self._privileges = Privileges(str(user))
        return self._privileges

    def table_size(self, conn: DbConn, table: TableRef) -> TableSize:
        return oracle_storage.table_size(conn, self.dialect, table, self._seen(conn))

    def size_bytes(self, conn: DbConn, table: TableRef) -> int:
        return self.table_size(conn, table).bytes

    def partitions(self, conn: DbConn, table: TableRef) -> list[LeafPartition]:
        return oracle_storage.leaf_partitions(conn, self.dialect, table, self._seen(conn))

    def estimate_rows(self, conn: DbConn, table: TableRef) -> int:
        # The statistics' row count; for a table never analyzed, its size at 64 bytes a row
        # (generous: a sample grows until it is large enough). Never COUNT(*).
        ((estimate,),) = conn.fetch_all(self.dialect.row_estimate(table)) or [(None,)]
        if estimate is not None:
            return int(estimate)
        return max(1, self.size_bytes(conn, table) // 64)

    def physical_split(
        self, conn: DbConn, table: TableRef, parts: int, leaf: TableRef | None = None
    ) -> tuple[list[ChunkBounds] | None, str]:
        # An index-organized table has logical ROWIDs: it is split on its key instead.
        ((iot_type,),) = conn.fetch_all(self.dialect.organization(table))
        if iot_type:
            return None, "an index-organized table has no ROWID ranges"
        if leaf is None and self.config.rowid_ranges_from == "parallel_execute":
            block = oracle_storage.block_size(conn, self.dialect, table)
            blocks = self.size_bytes(conn, table) // block // max(parts, 1)
            call = procedure_caller(conn)
            ranges = oracle_storage.parallel_execute_ranges(conn, self.dialect, call, table, blocks)
            if ranges:
                return ranges, "ROWID ranges from DBMS_PARALLEL_EXECUTE"
        rows = max(1, self.estimate_rows(conn, table))
        return oracle_storage.rowid_ranges(
            conn, self.dialect, table, leaf, parts, rows, self._seen(conn)
        )

    def physical_ranges(
        self, conn: DbConn, table: TableRef, parts: int
    ) -> list[ChunkBounds] | None:
        return self.physical_split(conn, table, parts)[0]

    @contextlib.contextmanager
    def exported_snapshot(self) -> Iterator[str | None]:
        # The SCN names the image. Each table pins it in its plan (export/snapshots.py) and
        # reads at it, AS OF SCN in its queries or with its sessions flashed back. Without
        # EXECUTE on DBMS_FLASHBACK, an SCN of the last seconds (TIMESTAMP_TO_SCN) serves.
        try:
            with self.session() as conn:
                try:
                    ((scn,),) = conn.fetch_all(self.dialect.current_scn())
                except Exception:  # noqa: BLE001 - no EXECUTE on DBMS_FLASHBACK (ORA-00904)
                    ((scn,),) = conn.fetch_all(self.dialect.recent_scn())
        except ExporterError as exc:
            raise error(
                ERR_SNAPSHOT,
                detail=exc.message,
                hint="set export.consistent_snapshot: false (chunks then read "
                "independently), or grant EXECUTE ON DBMS_FLASHBACK to the export user",
            ) from None
        yield str(int(scn))

    def snapshot_in_query(self, conn: DbConn, table: TableRef, snapshot: str) -> bool:
        # A trial flashback query that returns no row: ORA-01031 without FLASHBACK on the
        # table (or FLASHBACK ANY TABLE); the session is then flashed back instead.
        try:
            conn.fetch_all(self.dialect.snapshot_probe(table, snapshot))
        except Exception:  # noqa: BLE001 - the driver's refusal is the answer
            return False
        return True

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

    def arrow_batches(
        self, conn: DbConn, query: Query, snapshot: str | None, batch_rows: int
    ) -> Generator[Any, None, None]:
        # fetch_path: batch, python-oracledb's data frames (oracle_arrow.py) in the chunk's
        # snapshot: the session flashed back to it, or the query reading AS OF it.
        from exporter.sources.oracle_arrow import fetch_batches

        with self.chunk_transaction(conn, snapshot):
            with contextlib.closing(
                fetch_batches(raw_connection(conn), query, batch_rows)
            ) as batches:
                yield from batches

    # -- check (oracle_probes.py): the driver and what the user may read, nothing cut ------
    def client_driver(self, conn: DbConn) -> str:
        return oracle_probes.client_driver(raw_connection(conn))

    def probe_privileges(self, conn: DbConn, tables: Sequence[TableRef]) -> list[Probe]:
        user = self._seen(conn).session_user
        return oracle_probes.probe_privileges(self, conn, tables, user)

    def physical_outlook(self, conn: DbConn, table: TableRef) -> str | None:
        seen = self._seen(conn)
        return oracle_probes.physical_outlook(conn, self.dialect, table, seen, self.config)
