"""PostgreSQL (psycopg 3, and ADBC for Arrow batches): ctid block ranges, exported snapshots,
the bulk COPY path and the Arrow batch path. Connections are made in pg_conn.py, SQL text
lives in postgres_sql.py.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Generator, Iterator, Sequence
from typing import Any, ClassVar

from exporter.errors import ERR_DATABASE, ExporterError, error
from exporter.model import Chunk, ChunkBounds, TablePlan, TableRef
from exporter.sources import pg_conn, postgres_probes, register
from exporter.sources.base import DbConn, Source
from exporter.sources.dialect import BulkOptions, Query
from exporter.sources.pg_conn import PostgresConn
from exporter.sources.pg_copy import copy_batches, marker_column, quoted_marker
from exporter.sources.postgres_sql import PostgresDialect
from exporter.sources.probes import Probe
from exporter.sources.ranges import split_int_range
from exporter.sources.values import BulkLines, LeafPartition

# Target size of one Arrow record batch (ADBC's batch_size_hint_bytes): a worker holds one
# batch and its formatted text, a few times this, whatever the table's size.
ARROW_BATCH_BYTES = 2 * 1024 * 1024

# libpq's words for a connection that was open and is gone (a restart, a terminated backend).
_CONNECTION_LOST = ("server closed the connection unexpectedly", "terminating connection")

# Words of the server's message on a refused login -> the SQLSTATE it stands for.
_LOGIN_FAILURES = (
    ("password authentication failed", "28P01"),
    ("no pg_hba.conf entry", "28000"),
    ('role "', "28000"),  # role "x" does not exist
    ('database "', "3D000"),  # database "x" does not exist
)


def _raw(conn: DbConn) -> Any:
    """The psycopg connection inside one of our connections."""
    assert isinstance(conn, PostgresConn)
    return conn.raw


@register
class PostgresSource(Source):
    """A PostgreSQL server."""

    dialect: ClassVar[PostgresDialect] = PostgresDialect()
    worker_modules: ClassVar[tuple[str, ...]] = ("exporter.sources.postgres", "psycopg")

    def connect(self) -> DbConn:
        return pg_conn.connect(self.config)

    def describe_target(self) -> str:
        cfg = self.config
        return f"postgresql {cfg.user}@{cfg.host}:{cfg.port}/{cfg.database}"

    def server_version(self, conn: DbConn) -> str:
        return str(conn.fetch_all(Query("SELECT version()"))[0][0])

    def explain_error(self, exc: BaseException) -> ExporterError:
        state = getattr(getattr(exc, "diag", None), "sqlstate", None) or getattr(
            exc, "sqlstate", None
        )
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if state is None:
            # A refused login carries no SQLSTATE in psycopg's connection error, only the
            # server's message: tell "no server" apart from "no such role or database".
            state = next((code for words, code in _LOGIN_FAILURES if words in text), None)
        if state is None and any(words in text for words in _CONNECTION_LOST):
            state = "08006"
        if state is None and "connection" in text.lower():
            state = "08001"
        hint = self.dialect.error_hints.get(state or "")
        return error(
            ERR_DATABASE, target=self.describe_target(), detail=text, db_code=state, hint=hint
        )

    def physical_ranges(
        self, conn: DbConn, table: TableRef, parts: int
    ) -> list[ChunkBounds] | None:
        ((blocks,),) = conn.fetch_all(self.dialect.heap_blocks(table))
        blocks = int(blocks or 0)
        if blocks == 0:
            return None  # partitioned parent (no heap) or empty: nothing to split physically
        return [ChunkBounds("physical", a, b) for a, b in split_int_range(0, blocks - 1, parts)]

    def partitions(self, conn: DbConn, table: TableRef) -> list[LeafPartition]:
        # relkind 'r': a heap, splittable by ctid; a foreign table ('f') is read whole.
        return [
            LeafPartition(TableRef(schema, name), int(size or 0), physical=kind == "r")
            for schema, name, size, kind in conn.fetch_all(self.dialect.partition_leaves(table))
        ]

    @contextlib.contextmanager
    def exported_snapshot(self) -> Iterator[str | None]:
        # The snapshot stays valid while this transaction is open.
        # https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION
        with self.session() as conn:
            raw = _raw(conn)
            raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
            try:
                yield str(snapshot)
            finally:
                with contextlib.suppress(Exception):
                    raw.execute("ROLLBACK")

    @contextlib.contextmanager
    def chunk_transaction(self, conn: DbConn, snapshot: str | None) -> Iterator[None]:
        # https://www.postgresql.org/docs/current/sql-set-transaction.html
        from psycopg import sql

        raw = _raw(conn)
        raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            if snapshot:
                raw.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")

    @contextlib.contextmanager
    def compare_transaction(self, conn: DbConn, snapshot: str | None) -> Iterator[None]:
        # Chunks already run side by side, a query per side and worker: parallel workers of
        # their own only fight them for the cores. Local to the transaction.
        # https://www.postgresql.org/docs/current/runtime-config-query.html
        with self.chunk_transaction(conn, snapshot):
            _raw(conn).execute("SET LOCAL max_parallel_workers_per_gather = 0")
            yield

    def arrow_batches(
        self, conn: DbConn, query: Query, snapshot: str | None, batch_rows: int
    ) -> Generator[Any, None, None]:
        # ADBC reads the query with COPY ... (FORMAT binary) into Arrow batches of about
        # ARROW_BATCH_BYTES (it sizes batches in bytes, so `batch_rows` is not used). https://arrow.apache.org/adbc/current/driver/postgresql.html
        # Bound parameters would make the driver give up COPY and buffer the whole result,
        # so the values (integers and ctid literals we built) are inlined by psycopg's
        # client-side binding. https://www.psycopg.org/psycopg3/docs/advanced/cursors.html
        from psycopg import ClientCursor, sql

        assert isinstance(conn, PostgresConn)
        text = ClientCursor(conn.raw).mogrify(query.sql, dict(query.params))
        begin = ["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"]
        if snapshot:
            begin.append(
                sql.SQL("SET TRANSACTION SNAPSHOT {}")
                .format(sql.Literal(snapshot))
                .as_string(conn.raw)
            )

        def batches() -> Generator[Any, None, None]:
            cur = conn.adbc().cursor()
            finished = False
            try:
                for statement in begin:
                    cur.execute(statement)
                cur.adbc_statement.set_options(
                    **{"adbc.postgresql.batch_size_hint_bytes": str(ARROW_BATCH_BYTES)}
                )
                cur.execute(text)
                reader = cur.fetch_record_batch()
                try:
                    yield from reader
                except OSError as exc:
                    # ADBC reports a connection lost mid-stream as a plain OSError ("[libpq]
                    # PQgetCopyData() failed: ..."): a source failure, not the output disk's.
                    raise self.explain_error(exc) from exc
                cur.execute("COMMIT")
                finished = True
            finally:
                if not finished:
                    # Abandoned midway (an encoding error, a kill): the COPY may still be
                    # running on this connection, so it is closed rather than reused.
                    conn.drop_adbc()
                else:
                    cur.close()

        return batches()

    def bulk_csv(
        self, conn: DbConn, plan: TablePlan, chunk: Chunk, options: BulkOptions
    ) -> BulkLines:
        query = self.dialect.copy_chunk(plan, chunk, options)
        raw = _raw(conn)

        def batches() -> Generator[list[bytes], None, None]:
            # COPY TO sends one CopyData message per row, so each item is one CSV record.
            # https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-COPY
            with raw.cursor() as cur, cur.copy(query.sql, query.params) as copy:
                yield from copy_batches(copy, raw)

        marker = options.null_marker
        return BulkLines(
            batches(), quoted_marker(marker), functools.partial(marker_column, null_marker=marker)
        )

    # -- check (postgres_probes.py): the driver and the role's privileges, nothing cut ------
    def client_driver(self, conn: DbConn) -> str:
        return postgres_probes.client_driver(_raw(conn).pgconn)

    def probe_privileges(self, conn: DbConn, tables: Sequence[TableRef]) -> list[Probe]:
        return postgres_probes.probe_privileges(self, conn, tables)

    def physical_outlook(self, conn: DbConn, table: TableRef) -> str | None:
        # physical_ranges without the ranges: none for a table without heap pages.
        ((blocks,),) = conn.fetch_all(self.dialect.heap_blocks(table))
        return "physical ranges" if int(blocks or 0) > 0 else None
