"""What `check` tells a DBA before a first PostgreSQL export: psycopg's and libpq's versions,
and one line per privilege or facility an export needs or would use:

    SELECT on each table           required: a table the role may not read cannot be exported
    SELECT on its leaf partitions  a per-partition export reads each leaf directly, and a
                                   partition has its own grants (reading it through its parent
                                   checks only the parent's)
    pg_export_snapshot             one REPEATABLE READ snapshot, imported by every chunk
    pg_class                       sizes, leaf partitions and row estimates (a table never
                                   analyzed has none: planning its key ranges counts its rows)

https://www.postgresql.org/docs/current/ddl-partitioning.html ,
https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-SNAPSHOT-SYNCHRONIZATION
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exporter.model import TableRef
from exporter.sources.base import DbConn, Source
from exporter.sources.pg_copy_read import c_row_reader
from exporter.sources.probes import Probe, answers, probe_select, probe_selects, probe_snapshot

SHOWN_NAMES = 5
"""Names listed in one line before the rest are counted."""


def libpq_text(version: int) -> str:
    """libpq's version number as written: 160002 -> 16.2, 90624 -> 9.6.24.
    https://www.postgresql.org/docs/current/libpq-misc.html (PQlibVersion)"""
    major, rest = divmod(version, 10000)
    if major >= 10:
        return f"{major}.{rest}"
    return f"{major}.{rest // 100}.{rest % 100}"


def client_driver(pgconn: Any) -> str:
    """psycopg's version and implementation (c, binary or python), libpq's version, and who
    reads the bulk path's COPY rows on this connection (pg_copy_read.py: the C extension,
    or psycopg where it is not built or does not answer for the connection).
    https://www.psycopg.org/psycopg3/docs/api/pq.html"""
    import psycopg
    from psycopg import pq

    reader = "in C" if c_row_reader(pgconn) is not None else "by psycopg"
    return (
        f"psycopg {psycopg.__version__} ({pq.__impl__} implementation), "
        f"libpq {libpq_text(pq.version())}; COPY rows read {reader}"
    )


def _names(tables: Sequence[TableRef]) -> str:
    shown = ", ".join(str(t) for t in tables[:SHOWN_NAMES])
    more = len(tables) - SHOWN_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def leaf_probes(source: Source, conn: DbConn, tables: Sequence[TableRef]) -> list[Probe]:
    """For each partitioned table, SELECT on all its leaf partitions (one line)."""
    probes = []
    for table in tables:
        leaves = [leaf.table for leaf in source.partitions(conn, table)]
        if not leaves:
            continue
        name = f"SELECT on the {len(leaves)} leaf partition(s) of {table}"
        refusals = [(leaf, probe_select(source, conn, leaf)) for leaf in leaves]
        refused = [(leaf, probe) for leaf, probe in refusals if not probe.ok]
        if not refused:
            probes.append(Probe(name, True, "a per-partition export reads each directly", table))
            continue
        detail = (
            f"refused on {_names([leaf for leaf, _ in refused])}: a per-partition export reads "
            "each leaf directly and fails there; grant SELECT on the leaves (or set "
            "export.chunk_strategy: key)"
        )
        # The table's error in `check` where it would be exported per partition: the first
        # refusal, in the driver's words.
        failure = refused[0][1].failure
        probes.append(Probe(name, False, detail, table, failure, only_for="partitions"))
    return probes


def catalog_probe(source: Source, conn: DbConn, tables: Sequence[TableRef]) -> Probe:
    """pg_class answers for every table (its row estimate), and which were never analyzed."""
    name = "pg_class"
    unanalyzed = []
    for table in tables:
        rows = answers(conn, source.dialect.row_estimate(table))
        if rows is None:
            return Probe(name, False, f"not readable for {table}: sizes and partitions unknown")
        if rows and rows[0][0] is not None and float(rows[0][0]) < 0:
            unanalyzed.append(table)
    detail = "sizes, leaf partitions and row estimates from the catalog"
    if unanalyzed:
        detail += (
            f"; never analyzed: {_names(unanalyzed)} (planning key ranges of such a table "
            "counts its rows: run ANALYZE first)"
        )
    return Probe(name, True, detail)


def probe_privileges(source: Source, conn: DbConn, tables: Sequence[TableRef]) -> list[Probe]:
    """Every line of a PostgreSQL `check`."""
    return [
        *probe_selects(source, conn, tables),
        *leaf_probes(source, conn, tables),
        probe_snapshot(
            source,
            conn,
            "pg_export_snapshot (REPEATABLE READ)",
            "every chunk imports one exported snapshot (SET TRANSACTION SNAPSHOT)",
        ),
        catalog_probe(source, conn, tables),
    ]
