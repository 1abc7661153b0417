"""What `check` tells a DBA before a first Oracle export: python-oracledb's version and mode,
and one line per privilege the planning ladder and the snapshot need or would use, with what
it enables or what the export does without it. SQL text: oracle_probes_sql.py.

    SELECT on each table         required: a table the user may not read cannot be exported
    FLASHBACK on each table      AS OF SCN in the table's queries (or FLASHBACK ANY TABLE;
                                 an owner has it); else its sessions are flashed back
    EXECUTE on DBMS_FLASHBACK    the run's SCN, and session flashback to it
    DBA_EXTENTS, USER_EXTENTS    ROWID ranges from the extents map; else a block sample
    DBA_SEGMENTS, _LOBS, _INDEXES  allocated sizes, LOB segments included; else statistics
    DBA_LOB_(SUB)PARTITIONS      partitions' LOB segments in their sizes; else statistics
    V$PARAMETER                  UNDO_RETENTION, which must cover a table's whole export
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exporter.model import TableRef
from exporter.sources.base import DbConn
from exporter.sources.oracle_catalog_sql import OracleCatalog
from exporter.sources.oracle_probes_sql import (
    FLASHBACK_ANY_TABLE,
    UNDO_RETENTION,
    flashback_grant,
    parameter_value,
    session_privilege,
    view_readable,
)
from exporter.sources.oracle_storage import Privileges
from exporter.sources.probes import Probe, Probed, answers, probe_selects, probe_snapshot

AS_OF = "its queries read AS OF the run's SCN"
SESSION_FLASHBACK = (
    "its sessions are flashed back to the run's SCN instead (EXECUTE on DBMS_FLASHBACK); "
    "grant FLASHBACK ON the table, or FLASHBACK ANY TABLE, for AS OF SCN"
)
_SIZES = (
    "the size query reads DBA_SEGMENTS, DBA_LOBS and DBA_INDEXES together: without one, "
    "other users' tables are sized from optimizer statistics (BLOCKS x block size; LOB "
    "segments left out; a table never analyzed is flagged)"
)
_LEAF_SIZES = (
    "a partition's size is read from DBA_SEGMENTS, DBA_LOB_PARTITIONS and "
    "DBA_LOB_SUBPARTITIONS together: without one, other users' partitions are sized from "
    "optimizer statistics (LOB segments left out)"
)
# view -> (what it enables, what the export does without it)
_VIEWS = {
    "dba_extents": (
        "ROWID ranges cut from the extents map (DBMS_ROWID.ROWID_CREATE over each extent)",
        "ROWID ranges cut at a seeded block sample instead; grant SELECT on DBA_EXTENTS "
        "(e.g. SELECT_CATALOG_ROLE) to cut them from the extents map",
    ),
    "user_extents": (
        "the user's own extents, but without FILE_ID or BLOCK_ID: ROWIDs are made from "
        "DBA_EXTENTS only",
        "not readable (it needs no grant: check the session)",
    ),
    "dba_segments": ("allocated sizes of every table", _SIZES),
    "dba_lobs": ("LOB segments counted in every table's size", _SIZES),
    "dba_indexes": ("index-organized tables sized by their index segment", _SIZES),
    "dba_lob_partitions": ("LOB partition segments counted in each partition's size", _LEAF_SIZES),
    "dba_lob_subpartitions": (
        "LOB subpartition segments counted in each subpartition's size",
        _LEAF_SIZES,
    ),
}


def client_driver(raw: Any) -> str:
    """python-oracledb's version and mode, and in thick mode the Oracle Client's version.
    https://python-oracledb.readthedocs.io/en/latest/api_manual/connection.html (thin)"""
    import oracledb

    if getattr(raw, "thin", True):
        return f"python-oracledb {oracledb.__version__}, thin mode (no Oracle Client)"
    client = ".".join(str(part) for part in oracledb.clientversion())
    return f"python-oracledb {oracledb.__version__}, thick mode (Oracle Client {client})"


def flashback_probes(conn: DbConn, tables: Sequence[TableRef], user: str) -> list[Probe]:
    """FLASHBACK ANY TABLE (one line), else FLASHBACK on each table: which tables are read
    AS OF the run's SCN, and which through session flashback."""
    held = answers(conn, session_privilege(FLASHBACK_ANY_TABLE))
    if held and held[0][0]:
        return [Probe(FLASHBACK_ANY_TABLE, True, f"every table: {AS_OF}")]
    probes = []
    for table in tables:
        name = f"FLASHBACK on {table}"
        if table.schema == user:
            probes.append(Probe(name, True, f"the user owns it: {AS_OF}", table))
            continue
        granted = answers(conn, flashback_grant(table, user))
        ok = bool(granted and granted[0][0])
        probes.append(Probe(name, ok, AS_OF if ok else SESSION_FLASHBACK, table))
    return probes


def view_probe(conn: DbConn, view: str) -> Probe:
    """Whether the session may read a dictionary view the ladder uses, and what for."""
    enables, without = _VIEWS[view]
    ok = answers(conn, view_readable(view)) is not None
    return Probe(view.upper(), ok, enables if ok else without)


def undo_probe(conn: DbConn) -> Probe:
    """UNDO_RETENTION where V$PARAMETER is visible: undo must reach back to a table's SCN
    for as long as its chunks are read, resumes included."""
    need = (
        "undo must reach back over the longest table's export, since every chunk of a "
        "table reads one SCN, kept across resumes (ORA-01555 or ORA-08180 otherwise; "
        "RETENTION GUARANTEE on the undo tablespace makes sure)"
    )
    rows = answers(conn, parameter_value(UNDO_RETENTION))
    if not rows:
        hidden = "UNDO_RETENTION not visible (SELECT on V_$PARAMETER, e.g. SELECT_CATALOG_ROLE)"
        return Probe("V$PARAMETER", False, f"{hidden}: {need}")
    seconds = rows[0][0]
    return Probe("V$PARAMETER", True, f"UNDO_RETENTION = {seconds} s{_minutes(seconds)}: {need}")


def _minutes(seconds: Any) -> str:
    try:
        value = int(seconds)
    except (TypeError, ValueError):
        return ""
    return f" ({value / 3600:g} h)" if value >= 3600 else f" ({value / 60:g} min)"


def physical_outlook(
    conn: DbConn, dialect: OracleCatalog, table: TableRef, seen: Privileges, config: Any
) -> str | None:
    """What OracleSource.physical_split would cut `table`'s ROWID ranges from, without
    cutting them: none for an index-organized table (logical ROWIDs: it is split on its
    key); DBMS_PARALLEL_EXECUTE where the config asks for it (check creates no task to try
    it); the extents map where DBA_EXTENTS answers and the planner has not found it closed
    (oracle_storage.rowid_ranges); else a block sample."""
    ((iot_type,),) = conn.fetch_all(dialect.organization(table))
    if iot_type:
        return None
    if getattr(config, "rowid_ranges_from", None) == "parallel_execute":
        return "ROWID ranges from DBMS_PARALLEL_EXECUTE"
    if seen.extents is not False and answers(conn, view_readable("dba_extents")) is not None:
        return "ROWID ranges from DBA_EXTENTS"
    return "ROWID ranges from a block sample"


def probe_privileges(
    source: Probed, conn: DbConn, tables: Sequence[TableRef], user: str
) -> list[Probe]:
    """Every line of an Oracle `check`, in the order a DBA grants them."""
    probes = probe_selects(source, conn, tables)
    probes += flashback_probes(conn, tables, user)
    probes.append(
        probe_snapshot(
            source,
            conn,
            "EXECUTE on DBMS_FLASHBACK",
            "the run's SCN is read, and sessions can be flashed back to it",
        )
    )
    probes += [view_probe(conn, view) for view in _VIEWS]
    probes.append(undo_probe(conn))
    return probes
