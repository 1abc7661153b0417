"""PostgreSQL connections: psycopg's, with the session settings and timeouts pinned, and the
ADBC connection of the Arrow batch path, opened on the same terms when first needed.

Every session starts with postgres_sql.py's SESSION_SETTINGS (the text of values) and
SESSION_TIMEOUTS (none of the role's or database's timeouts may cut a chunk or the run's
snapshot short) as startup options, which outrank ALTER ROLE / ALTER DATABASE settings;
transaction_timeout, which PostgreSQL 17 added, is set once connected where the server has it.
https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-OPTIONS
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from exporter.sources.base import DbConn
from exporter.sources.dialect import Query
from exporter.sources.pg_rows import row_batches
from exporter.sources.postgres_sql import (
    SESSION_SETTINGS,
    SESSION_TIMEOUTS,
    TRANSACTION_TIMEOUT_FROM,
    TRANSACTION_TIMEOUT_OFF,
)
from exporter.sources.values import RowBatches

if TYPE_CHECKING:  # workers get the config as plain data, without pydantic (configs.py)
    from exporter.sources.configs import PostgresSourceConfig

# TCP keepalives on every connection (libpq's own parameters; a Unix socket ignores them).
# The coordinator holds the run's snapshot on a connection idle for the whole run, and a
# worker keeps its connection idle between chunks: a firewall or NAT that drops connections
# idle for some minutes would end the snapshot (every later chunk: "invalid snapshot
# identifier"). A probe after each minute of silence keeps them open, and finds a peer gone
# for good within two minutes instead of the kernel's default two hours and more. (Data sent
# and never acknowledged is TCP's retransmission's to give up on, some fifteen minutes:
# tcp_user_timeout would shorten that, but also cut a session whose server stops reading
# for as long.)
# https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-KEEPALIVES
KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "60",
    "keepalives_interval": "10",
    "keepalives_count": "6",
}


class PostgresConn(DbConn):
    """A psycopg connection in autocommit mode (transactions are explicit), and the ADBC
    connection of the Arrow batch path, opened when first needed."""

    def __init__(self, raw: Any, config: PostgresSourceConfig) -> None:
        self.raw = raw
        self._config = config
        self._adbc: Any = None

    def adbc(self) -> Any:
        """The ADBC connection (autocommit; transactions explicit, as on `raw`)."""
        if self._adbc is None:
            import adbc_driver_postgresql.dbapi  # type: ignore[import-untyped]

            adbc = adbc_driver_postgresql.dbapi.connect(adbc_uri(self._config), autocommit=True)
            if self.raw.info.server_version >= TRANSACTION_TIMEOUT_FROM:
                try:
                    with adbc.cursor() as cur:
                        cur.execute(TRANSACTION_TIMEOUT_OFF)
                except BaseException:
                    adbc.close()
                    raise
            self._adbc = adbc
        return self._adbc

    def drop_adbc(self) -> None:
        """Close the ADBC connection, e.g. after a query was abandoned midway."""
        adbc, self._adbc = self._adbc, None
        if adbc is not None:
            with contextlib.suppress(Exception):
                adbc.close()

    def fetch_all(self, query: Query) -> list[tuple[Any, ...]]:
        with self.raw.cursor() as cur:
            cur.execute(query.sql, dict(query.params))
            return list(cur.fetchall())

    def stream(self, query: Query, batch_rows: int) -> RowBatches:
        return row_batches(self.raw, query, batch_rows)

    def close(self) -> None:
        self.drop_adbc()
        self.raw.close()

    def reusable(self) -> bool:
        from psycopg.pq import TransactionStatus

        return not self.raw.closed and self.raw.info.transaction_status == TransactionStatus.IDLE


def connect(config: PostgresSourceConfig) -> PostgresConn:
    """A new connection to the server `config` names."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    raw = psycopg.connect(
        make_conninfo("", **KEEPALIVES),
        host=config.host,
        port=config.port,
        dbname=config.database,
        user=config.user,
        password=config.read_password(),
        sslmode=config.sslmode,
        autocommit=True,
        application_name="exporter",
        client_encoding="UTF8",
        connect_timeout=15,
        options=session_options(),
    )
    if raw.info.server_version >= TRANSACTION_TIMEOUT_FROM:
        try:
            raw.execute(TRANSACTION_TIMEOUT_OFF)
        except BaseException:
            raw.close()
            raise
    return PostgresConn(raw, config)


def session_options() -> str:
    """libpq's `options`: the session settings and timeouts as server command-line switches."""
    settings = {**SESSION_SETTINGS, **SESSION_TIMEOUTS}
    return " ".join(f"-c {k.replace(' ', '')}={v.replace(' ', '')}" for k, v in settings.items())


def adbc_uri(config: PostgresSourceConfig) -> str:
    """A libpq URI for ADBC with the same target and session settings as `connect`.
    It holds the password: it is built only when a connection is opened, and never
    logged (libpq's messages do not repeat it)."""
    query = {
        **({"sslmode": config.sslmode} if config.sslmode else {}),
        "application_name": "exporter",
        "client_encoding": "UTF8",
        "connect_timeout": "15",
        "options": session_options(),
        **KEEPALIVES,
    }
    password = config.read_password()
    auth = quote(config.user, safe="") + (f":{quote(password, safe='')}" if password else "")
    # An IPv6 address in brackets; a socket directory percent-encoded (libpq accepts both).
    host = f"[{config.host}]" if ":" in config.host else quote(config.host, safe="")
    database = quote(config.database, safe="")
    return (
        f"postgresql://{auth}@{host}:{config.port}/{database}?{urlencode(query, quote_via=quote)}"
    )
