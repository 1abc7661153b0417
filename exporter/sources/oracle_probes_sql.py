"""The statements `check` runs on Oracle to learn what the export user may read and use,
each built by a pure function and parsed by tests/sql with sqlglot's Oracle dialect. None of
them reads a table's rows or cuts a range: a dictionary view is probed with `WHERE 1 = 0`
(compiled and its privileges checked, no row read), grants are read from the views that
include those coming through enabled roles.

References (Oracle Database 19c Database Reference, https://docs.oracle.com/en/database/oracle/
oracle-database/19/refrn/): SESSION_PRIVS, SESSION_ROLES, ALL_TAB_PRIVS, V-PARAMETER,
UNDO_RETENTION, DBA_EXTENTS / USER_EXTENTS, DBA_SEGMENTS, DBA_LOBS, DBA_INDEXES. Flashback
privileges: Database Development Guide, "Using Oracle Flashback Technology",
https://docs.oracle.com/en/database/oracle/oracle-database/19/adfns/flashback.html .
"""

from __future__ import annotations

from exporter.model import TableRef
from exporter.sources.probes import catalog_readable
from exporter.sources.query import Query

PROBED_VIEWS = (
    "dba_extents",
    "user_extents",
    "dba_segments",
    "dba_lobs",
    "dba_indexes",
    "dba_lob_partitions",
    "dba_lob_subpartitions",
)
"""The dictionary views the planning ladder reads beyond the ALL_* views every user has
(oracle_catalog_sql.py): DBA_* need SELECT on them (SELECT_CATALOG_ROLE, SELECT ANY
DICTIONARY); USER_EXTENTS lists the user's own extents without FILE_ID or BLOCK_ID."""

FLASHBACK_ANY_TABLE = "FLASHBACK ANY TABLE"
"""The system privilege that allows AS OF queries on every table (adfns/flashback.html,
"Granting Necessary Privileges")."""

UNDO_RETENTION = "undo_retention"
"""Seconds of committed undo the database tries to keep: how far back an AS OF SCN query
or session flashback can read (refrn/UNDO_RETENTION.html)."""


def view_readable(view: str) -> Query:
    """No rows; fails (ORA-00942) where the session may not read `view`, one of
    PROBED_VIEWS. .../refrn/DBA_EXTENTS.html ("USER_EXTENTS ... does not display the OWNER,
    FILE_ID, BLOCK_ID, or RELATIVE_FNO columns"), .../refrn/DBA_SEGMENTS.html,
    .../refrn/DBA_LOBS.html, .../refrn/DBA_INDEXES.html, .../refrn/DBA_LOB_PARTITIONS.html,
    .../refrn/DBA_LOB_SUBPARTITIONS.html"""
    if view not in PROBED_VIEWS:
        raise ValueError(f"not a probed dictionary view: {view}")
    return catalog_readable(view)


def session_privilege(privilege: str) -> Query:
    """One row (count,): 1 where the session holds the system `privilege`, granted directly
    or through an enabled role. SESSION_PRIVS "describes the system privileges that are
    currently available to the user": .../refrn/SESSION_PRIVS.html"""
    return Query(
        "SELECT COUNT(*) FROM session_privs WHERE privilege = :privilege",
        {"privilege": privilege},
    )


def flashback_grant(table: TableRef, grantee: str) -> Query:
    """One row (count,): above 0 where FLASHBACK on `table` is granted to `grantee` (the
    session user), to PUBLIC, or to a role enabled in this session. ALL_TAB_PRIVS holds
    "object grants for which an enabled role or PUBLIC is the grantee" besides the user's
    own: .../refrn/ALL_TAB_PRIVS.html; the enabled roles: .../refrn/SESSION_ROLES.html"""
    return Query(
        "SELECT COUNT(*) FROM all_tab_privs p "
        "WHERE p.table_schema = :owner AND p.table_name = :name "
        "AND p.privilege = 'FLASHBACK' "
        "AND (p.grantee IN (:grantee, 'PUBLIC') "
        "OR p.grantee IN (SELECT r.role FROM session_roles r))",
        {"owner": table.schema, "name": table.name, "grantee": grantee},
    )


def parameter_value(name: str) -> Query:
    """One row (value,) of an initialization parameter, as in effect for this session;
    fails where V$PARAMETER is not readable (it needs SELECT on V_$PARAMETER, e.g. through
    SELECT_CATALOG_ROLE). .../refrn/V-PARAMETER.html"""
    return Query("SELECT value FROM v$parameter WHERE name = :name", {"name": name})
