"""What `check` tells a DBA about each privilege or facility an export needs or would use
(`Probe`), and the probes every engine shares: SELECT on a table, tried with a query that
reads no row, and the one snapshot every chunk reads, taken and entered as an export does.

Probing by trying is more truthful than reading grant views, which miss privileges that come
through roles: a statement is compiled, and its privileges checked, before its first row is
read, and `WHERE 1 = 0` reads none. The engines' own probes build on these
(oracle_probes.py, postgres_probes.py, sqlite.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from exporter.errors import ExporterError
from exporter.model import TableRef
from exporter.sources.dialect import Dialect, Query

SNAPSHOT = "one snapshot for every chunk"
"""The snapshot probe's name where the engine has no better one."""


@dataclass(frozen=True)
class Probe:
    """One thing `check` tried: a privilege or facility, whether this session has it, and
    what it enables (ok) or what an export does without it (missing)."""

    name: str
    ok: bool
    detail: str
    table: TableRef | None = None
    """The selected table it is about, if one."""
    failure: ExporterError | None = None
    """Set where `table` cannot be exported without it: the table's error in `check`."""
    only_for: str | None = None
    """The chunk strategy under which `failure` applies (None: any), e.g. "partitions"
    where only a per-partition export reads what was refused."""


class Fetches(Protocol):
    """A connection that answers small queries (sources/base.py's DbConn)."""

    def fetch_all(self, query: Query) -> list[tuple[Any, ...]]:
        """All rows of a (small) query."""


class Probed(Protocol):
    """What the shared probes need of a Source (base.py's Source has all of it)."""

    @property
    def dialect(self) -> Dialect:
        """The engine's SQL text."""

    def explain_error(self, exc: BaseException) -> ExporterError:
        """A driver error as one line with a likely fix."""

    def exported_snapshot(self) -> AbstractContextManager[str | None]:
        """The run's snapshot, held while the context is open."""

    def chunk_transaction(self, conn: Any, snapshot: str | None) -> AbstractContextManager[None]:
        """A transaction that sees `snapshot`."""


def select_nothing(dialect: Dialect, table: TableRef, expression: str = "1") -> Query:
    """`SELECT expression FROM table WHERE 1 = 0`: compiled and its privileges checked, no
    row read. `expression` is SQL text of ours (a pseudo-column), never a value."""
    return Query(f"SELECT {expression} FROM {dialect.qualified(table)} WHERE 1 = 0")


def catalog_readable(view: str) -> Query:
    """`SELECT 1 FROM view WHERE 1 = 0` for a catalog view or table our code names (Oracle's
    DBA_EXTENTS, SQLite's dbstat), unquoted as the catalog spells it."""
    if not view.replace("_", "").replace("$", "").isalnum():
        raise ValueError(f"not a catalog view name: {view!r}")
    return Query(f"SELECT 1 FROM {view} WHERE 1 = 0")


def answers(conn: Fetches, query: Query) -> list[tuple[Any, ...]] | None:
    """The rows of `query`, or None where the session may not run it (the driver's error,
    a missing privilege or view, is the answer)."""
    try:
        return conn.fetch_all(query)
    except Exception:  # noqa: BLE001 - any refusal means no
        return None


def probe_select(source: Probed, conn: Fetches, table: TableRef) -> Probe:
    """SELECT on `table`: without it the table cannot be exported."""
    name = f"SELECT on {table}"
    try:
        conn.fetch_all(select_nothing(source.dialect, table))
    except Exception as exc:  # noqa: BLE001 - the driver's refusal, explained
        failure = source.explain_error(exc)
        return Probe(name, False, failure.message, table, failure)
    return Probe(name, True, "its rows can be read", table)


def probe_selects(source: Probed, conn: Fetches, tables: Sequence[TableRef]) -> list[Probe]:
    """`probe_select` of each table."""
    return [probe_select(source, conn, table) for table in tables]


def probe_snapshot(source: Probed, conn: Fetches, name: str = SNAPSHOT, enables: str = "") -> Probe:
    """The run's snapshot, taken and entered by a chunk's transaction as an export does
    (`export.consistent_snapshot`); `enables` says what it gives where it works."""
    if not source.dialect.supports_snapshot_export:
        return Probe(
            name,
            False,
            "not on this engine: each chunk reads in a transaction of its own, so rows "
            "changed while the export runs may be missed or read twice",
        )
    try:
        with source.exported_snapshot() as snapshot, source.chunk_transaction(conn, snapshot):
            pass
    except Exception as exc:  # noqa: BLE001 - the refusal, explained
        failure = exc if isinstance(exc, ExporterError) else source.explain_error(exc)
        detail = failure.message + (f" (fix: {failure.hint})" if failure.hint else "")
        return Probe(
            name,
            False,
            f"{detail}; export.consistent_snapshot: false reads each "
            "chunk at its own moment instead",
        )
    return Probe(name, True, enables or "every chunk reads the same image of the database")
