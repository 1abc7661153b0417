"""The Oracle session: python-oracledb's connection behind the DbConn interface (queries,
row streams with empty LOBs told from NULL, reuse), the session settings every connection
gets, and the DSN. The source (oracle.py) opens them.
https://python-oracledb.readthedocs.io/en/latest/api_manual/connection.html
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from exporter.sources.base import DbConn
from exporter.sources.dialect import Query
from exporter.sources.oracle_storage import Call
from exporter.sources.oracle_types import ChunkQuery, restore_empty_lobs
from exporter.sources.values import RowBatches

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


# A cached connection idle this long is pinged (a round trip) before it is reused, as
# python-oracledb's own pools do (`ping_interval`, 60 s by default): `is_healthy()` is a
# local check that sees a broken socket, not a session the server has ended meanwhile (a
# profile's IDLE_TIME: ORA-02396 on the next call) or a connection a firewall dropped (the
# next call would hang until TCP gives up). The ping gets PING_TIMEOUT_MS to answer.
# https://python-oracledb.readthedocs.io/en/latest/api_manual/connection.html
# https://python-oracledb.readthedocs.io/en/latest/api_manual/connection_pool.html
PING_AFTER_IDLE_SECONDS = 60.0
PING_TIMEOUT_MS = 5000


def connect_dsn(config: Any) -> str:
    """The DSN: `dsn` as given (Easy Connect or a TNS alias), else host:port/service."""
    return str(config.dsn or f"{config.host}:{config.port}/{config.service}")


class OracleConn(DbConn):
    """A python-oracledb connection; reads only, so no transaction is ever opened."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        # Set while the session is flashed back to the run's SCN (chunk_transaction): a
        # session whose DISABLE failed would fail the next chunk's ENABLE (ORA-08184).
        self.in_flashback = False
        # When a query of fetch_all or stream last ended, or a ping answered. The Arrow path
        # and the flashback calls do not count: at worst a ping that was not needed.
        self.last_used = time.monotonic()

    def fetch_all(self, query: Query) -> list[tuple[Any, ...]]:
        try:
            with self.raw.cursor() as cur:
                cur.execute(query.sql, dict(query.params))
                return list(cur.fetchall())
        finally:
            self.last_used = time.monotonic()

    def stream(self, query: Query, batch_rows: int) -> RowBatches:
        # arraysize rows per round trip; prefetchrows likewise, so the first trip is full.
        # https://python-oracledb.readthedocs.io/en/latest/user_guide/tuning.html
        try:
            with self.raw.cursor() as cur:
                cur.arraysize = batch_rows
                cur.prefetchrows = batch_rows
                cur.execute(query.sql, dict(query.params))
                # A chunk's query ends with flags that tell empty LOBs from NULL
                # (oracle_types.py).
                width, lobs = (
                    (query.width, query.lobs) if isinstance(query, ChunkQuery) else (0, ())
                )
                while batch := cur.fetchmany(batch_rows):
                    yield restore_empty_lobs(batch, width, lobs) if lobs else batch
        finally:
            self.last_used = time.monotonic()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.raw.close()

    def reusable(self) -> bool:
        # python-oracledb's own verdict (a broken socket, an error that made the connection
        # unusable, a planned-down notice), and not left in flashback mode; after an idle
        # spell, the server's too (PING_AFTER_IDLE_SECONDS).
        if not self.raw.is_healthy() or self.in_flashback:
            return False
        if time.monotonic() - self.last_used < PING_AFTER_IDLE_SECONDS:
            return True
        return self._answers_ping()

    def _answers_ping(self) -> bool:
        """Whether the session answers a ping within PING_TIMEOUT_MS (without a limit where
        the driver has no call timeout: thick mode on an Oracle Client before 18c)."""
        previous = None
        try:
            previous = self.raw.call_timeout
            self.raw.call_timeout = PING_TIMEOUT_MS
        except Exception:  # noqa: BLE001 - no call timeout here: ping without one
            previous = None
        try:
            self.raw.ping()
        except Exception:  # noqa: BLE001 - ended, dropped or timed out: open another
            return False
        finally:
            if previous is not None:
                with contextlib.suppress(Exception):
                    self.raw.call_timeout = previous
        self.last_used = time.monotonic()
        return True


def raw_connection(conn: DbConn) -> Any:
    """The python-oracledb connection inside one of our connections."""
    assert isinstance(conn, OracleConn)
    return conn.raw


def procedure_caller(conn: DbConn) -> Call:
    """Runs a PL/SQL procedure with keyword arguments on the connection."""

    def call(name: str, arguments: dict[str, Any]) -> None:
        with raw_connection(conn).cursor() as cur:
            cur.callproc(name, keyword_parameters=arguments)

    return call
