"""Oracle catalog statements for planning: which tables there are, their keys, how big they
are and how they are stored (partitions, extents), and where ROWID ranges can be cut. None of
them sorts or scans a whole table: sizes and partitions come from the data dictionary, cut
points from the extents map (DBA_EXTENTS) or from a seeded block sample.

References (Oracle Database 19c Database Reference, https://docs.oracle.com/en/database/oracle/
oracle-database/19/refrn/): ALL_TABLES, ALL_TAB_PARTITIONS, ALL_TAB_SUBPARTITIONS,
DBA_SEGMENTS / USER_SEGMENTS, DBA_LOBS / USER_LOBS, DBA_EXTENTS (USER_EXTENTS has no FILE_ID
or BLOCK_ID, so it cannot locate a ROWID), ALL_OBJECTS (DATA_OBJECT_ID), USER_TABLESPACES.
PL/SQL: DBMS_ROWID.ROWID_CREATE, https://docs.oracle.com/en/database/oracle/oracle-database/19/
arpls/DBMS_ROWID.html ; SQL: the sample and partition extension clauses of SELECT,
https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/SELECT.html .
"""

from __future__ import annotations

from exporter.model import TableRef
from exporter.sources.dialect import Dialect, Query

TABLE_SEGMENT_TYPES = "'TABLE', 'TABLE PARTITION', 'TABLE SUBPARTITION'"
DEFAULT_BLOCK_SIZE = 8192
"""DB_BLOCK_SIZE's default: the block size assumed where the tablespace's is not visible."""
LEAF_LEVELS = ("PARTITION", "SUBPARTITION")
"""How a leaf of a partitioned table is named in a plan: (level, name), read through the
partition extension clause `PARTITION (name)` or `SUBPARTITION (name)`."""

MAX_SAMPLE_PERCENT = 99.999999
"""SAMPLE's percentage runs from .000001 up to, but not including, 100 (.../sqlrf/SELECT.html)."""


def sample_clause(percent: float) -> str:
    """` SAMPLE BLOCK (p) SEED (42)`: whole blocks, the same ones on every run (the
    percentage is a literal in the grammar); empty from 100 % on (the whole table)."""
    if percent >= 100:
        return ""
    return f" SAMPLE BLOCK ({min(percent, MAX_SAMPLE_PERCENT):.6f}) SEED (42)"


class OracleCatalog(Dialect):
    """The planning half of the Oracle dialect (oracle_sql.py adds columns and reading)."""

    @staticmethod
    def _owner_name(table: TableRef) -> dict[str, object]:
        return {"owner": table.schema, "name": table.name}

    def list_tables(self, schema: str | None) -> Query:
        # Heap, partitioned and index-organized tables; not temporary, nested, secondary,
        # external, IOT overflow/mapping tables, nor dropped ones in the recycle bin.
        # ALL_TABLES: .../refrn/ALL_TABLES.html; ALL_EXTERNAL_TABLES; ALL_USERS
        # (ORACLE_MAINTAINED, 12.1+): .../refrn/ALL_USERS.html
        sql = (
            "SELECT t.owner, t.table_name FROM all_tables t "
            "WHERE t.temporary = 'N' AND t.nested = 'NO' AND t.secondary = 'N' "
            "AND t.dropped = 'NO' AND (t.iot_type IS NULL OR t.iot_type = 'IOT') "
            "AND NOT EXISTS (SELECT 1 FROM all_external_tables e "
            "WHERE e.owner = t.owner AND e.table_name = t.table_name)"
        )
        if schema is None:
            sql += (
                " AND t.owner NOT IN "
                "(SELECT u.username FROM all_users u WHERE u.oracle_maintained = 'Y')"
            )
            return Query(sql + " ORDER BY 1, 2")
        return Query(sql + " AND t.owner = :owner ORDER BY 1, 2", {"owner": schema})

    def primary_key(self, table: TableRef) -> Query:
        # .../refrn/ALL_CONSTRAINTS.html, .../refrn/ALL_CONS_COLUMNS.html
        return Query(
            "SELECT cc.column_name FROM all_constraints c "
            "JOIN all_cons_columns cc ON cc.owner = c.owner "
            "AND cc.constraint_name = c.constraint_name AND cc.table_name = c.table_name "
            "WHERE c.owner = :owner AND c.table_name = :name AND c.constraint_type = 'P' "
            "ORDER BY cc.position",
            self._owner_name(table),
        )

    def unique_keys(self, table: TableRef) -> Query:
        # Unique indexes (a UNIQUE constraint is enforced by one): .../refrn/ALL_INDEXES.html,
        # .../refrn/ALL_IND_COLUMNS.html. The primary key's own index is left out.
        return Query(
            "SELECT ic.index_name, ic.column_name FROM all_indexes i "
            "JOIN all_ind_columns ic ON ic.index_owner = i.owner AND ic.index_name = i.index_name "
            "WHERE i.table_owner = :owner AND i.table_name = :name AND i.uniqueness = 'UNIQUE' "
            "AND NOT EXISTS (SELECT 1 FROM all_constraints c WHERE c.owner = i.table_owner "
            "AND c.table_name = i.table_name AND c.constraint_type = 'P' "
            "AND c.index_name = i.index_name) "
            "ORDER BY ic.index_name, ic.column_position",
            self._owner_name(table),
        )

    def session_user(self) -> Query:
        """One row (user,): whose USER_* views this session reads."""
        return Query("SELECT USER FROM DUAL")

    def table_size_bytes(self, table: TableRef) -> Query:
        return self.segment_bytes(table, own=False)

    def segment_bytes(self, table: TableRef, *, own: bool) -> Query:
        """One row (bytes,): the allocated bytes of every segment holding the table's data:
        the table (or its partitions and subpartitions, or the index of an index-organized
        table) and its LOB segments. `own`: through USER_* views, for the session user's own
        tables (no privilege); else DBA_* (SELECT_CATALOG_ROLE or SELECT ANY DICTIONARY)."""
        scope = "user" if own else "dba"
        owner = "" if own else "s.owner = :owner AND "
        lob_owner = "" if own else "l.owner = :owner AND "
        idx_owner = "" if own else "i.table_owner = :owner AND "
        sql = (
            f"SELECT NVL(SUM(s.bytes), 0) FROM {scope}_segments s WHERE {owner}("
            f"(s.segment_name = :name AND s.segment_type IN ({TABLE_SEGMENT_TYPES})) "
            f"OR s.segment_name IN (SELECT l.segment_name FROM {scope}_lobs l "
            f"WHERE {lob_owner}l.table_name = :name) "
            f"OR s.segment_name IN (SELECT i.index_name FROM {scope}_indexes i "
            f"WHERE {idx_owner}i.table_name = :name AND i.index_type = 'IOT - TOP'))"
        )
        return Query(sql, {"name": table.name} if own else self._owner_name(table))

    def table_statistics(self, table: TableRef) -> Query:
        """One row (blocks, num_rows, avg_row_len, analyzed, block_size): the optimizer's
        statistics (no privilege; NULL before the table was first analyzed) and the block
        size of its tablespace where USER_TABLESPACES shows it."""
        return Query(
            "SELECT t.blocks, t.num_rows, t.avg_row_len, "
            "CASE WHEN t.last_analyzed IS NULL THEN 0 ELSE 1 END, "
            "(SELECT ts.block_size FROM user_tablespaces ts "
            "WHERE ts.tablespace_name = t.tablespace_name) "
            "FROM all_tables t WHERE t.owner = :owner AND t.table_name = :name",
            self._owner_name(table),
        )

    def leaf_partitions(self, table: TableRef) -> Query:
        """Rows (level, name, blocks, num_rows, avg_row_len, block_size) of the partitions
        that hold rows themselves: the subpartitions of a composite-partitioned table, else
        its partitions (no rows for a table that is not partitioned), with the block size of
        each one's tablespace where USER_TABLESPACES shows it (a partition may lie in a
        tablespace of another block size than the table's). No privilege is needed.
        .../refrn/ALL_TAB_PARTITIONS.html, .../refrn/ALL_TAB_SUBPARTITIONS.html,
        .../refrn/USER_TABLESPACES.html (BLOCK_SIZE)"""
        block_size = (
            "(SELECT ts.block_size FROM user_tablespaces ts "
            "WHERE ts.tablespace_name = {}.tablespace_name)"
        )
        return Query(
            "SELECT 'PARTITION', p.partition_name, p.blocks, p.num_rows, p.avg_row_len, "
            f"{block_size.format('p')} "
            "FROM all_tab_partitions p WHERE p.table_owner = :owner AND p.table_name = :name "
            "AND p.subpartition_count = 0 "
            "UNION ALL "
            "SELECT 'SUBPARTITION', s.subpartition_name, s.blocks, s.num_rows, s.avg_row_len, "
            f"{block_size.format('s')} "
            "FROM all_tab_subpartitions s WHERE s.table_owner = :owner AND s.table_name = :name "
            "ORDER BY 1, 2",
            self._owner_name(table),
        )

    def leaf_segment_bytes(self, table: TableRef, *, own: bool, lobs: bool = True) -> Query:
        """Rows (partition or subpartition name, bytes) of the table's partition segments
        and of its LOB columns' partition segments, which hold out-of-line LOB data and are
        often most of a LOB table: a name comes once per kind (table, LOB partition, LOB
        subpartition), to be added up. A LOB partition segment is named by the LOB
        (LOB_NAME) and its own partition name, which *_LOB_PARTITIONS maps to the table
        partition's (PARTITION_NAME), as *_LOB_SUBPARTITIONS maps subpartitions
        (SUBPARTITION_NAME); USER_LOB_* have no TABLE_OWNER, USER_SEGMENTS no OWNER.
        Without `lobs`, the table's partition segments alone (for a session that may read
        DBA_SEGMENTS but not the LOB partition views).
        .../refrn/DBA_SEGMENTS.html, .../refrn/ALL_LOB_PARTITIONS.html,
        .../refrn/ALL_LOB_SUBPARTITIONS.html"""
        scope = "user" if own else "dba"
        owner = "" if own else "s.owner = :owner AND "

        def lob_leaves(view: str, leaf: str, lob_leaf: str, segment_type: str) -> str:
            lob_owner = "" if own else "l.table_owner = :owner AND s.owner = l.table_owner AND "
            return (
                f"SELECT l.{leaf}, SUM(s.bytes) FROM {scope}_{view} l, {scope}_segments s "
                f"WHERE {lob_owner}l.table_name = :name AND s.segment_type = '{segment_type}' "
                f"AND s.segment_name = l.lob_name AND s.partition_name = l.{lob_leaf} "
                f"GROUP BY l.{leaf}"
            )

        own_segments = (
            f"SELECT s.partition_name, SUM(s.bytes) FROM {scope}_segments s "
            f"WHERE {owner}s.segment_name = :name "
            "AND s.segment_type IN ('TABLE PARTITION', 'TABLE SUBPARTITION') "
            "GROUP BY s.partition_name"
        )
        params = {"name": table.name} if own else self._owner_name(table)
        if not lobs:
            return Query(own_segments, params)
        lob_partitions = lob_leaves(
            "lob_partitions", "partition_name", "lob_partition_name", "LOB PARTITION"
        )
        lob_subpartitions = lob_leaves(
            "lob_subpartitions", "subpartition_name", "lob_subpartition_name", "LOB SUBPARTITION"
        )
        return Query(
            f"{own_segments} UNION ALL {lob_partitions} UNION ALL {lob_subpartitions}", params
        )

    def extent_starts(self, table: TableRef, leaf: TableRef | None) -> Query:
        """Rows (first ROWID of the extent as text, blocks) of every extent of the table (or
        of one leaf partition), in ROWID order. The ROWIDs are made with
        DBMS_ROWID.ROWID_CREATE from the segment's data object id and the extent's file and
        first block; the rows come sorted by those ROWIDs themselves, so consecutive starts
        always make ranges that tile the table, whatever the tablespace's file layout.
        Needs SELECT on DBA_EXTENTS (USER_EXTENTS has no FILE_ID or BLOCK_ID)."""
        # In a bigfile tablespace a ROWID's 10 file bits are the high bits of a 32-bit block
        # number (DBA_EXTENTS shows RELATIVE_FNO 1024 there): .../arpls/DBMS_ROWID.html
        # (ROWID_BLOCK_NUMBER's ts_type_in), .../refrn/DBA_TABLESPACES.html (BIGFILE).
        big = "t.bigfile = 'YES'"
        fno = f"CASE WHEN {big} THEN TRUNC(e.block_id / 4194304) ELSE e.relative_fno END"
        block = f"CASE WHEN {big} THEN MOD(e.block_id, 4194304) ELSE e.block_id END"
        start = f"DBMS_ROWID.ROWID_CREATE(1, o.data_object_id, {fno}, {block}, 0)"
        params = self._owner_name(table)
        sql = (
            f"SELECT ROWIDTOCHAR({start}), e.blocks FROM dba_extents e "
            "JOIN all_objects o ON o.owner = e.owner AND o.object_name = e.segment_name "
            "AND o.object_type = e.segment_type "
            "AND NVL(o.subobject_name, ' ') = NVL(e.partition_name, ' ') "
            "JOIN dba_tablespaces t ON t.tablespace_name = e.tablespace_name "
            f"WHERE e.owner = :owner AND e.segment_name = :name "
            f"AND e.segment_type IN ({TABLE_SEGMENT_TYPES})"
        )
        if leaf is not None:
            sql += " AND e.partition_name = :leaf"
            params = {**params, "leaf": leaf.name}
        return Query(sql + f" ORDER BY {start}", params)

    def parallel_execute_starts(self, task: str) -> Query:
        """Rows (first ROWID of the chunk as text,) of the chunks
        DBMS_PARALLEL_EXECUTE.CREATE_CHUNKS_BY_ROWID made for `task`, in ROWID order.
        .../arpls/DBMS_PARALLEL_EXECUTE.html, .../refrn/DBA_PARALLEL_EXECUTE_CHUNKS.html"""
        return Query(
            "SELECT ROWIDTOCHAR(c.start_rowid) FROM user_parallel_execute_chunks c "
            "WHERE c.task_name = :task ORDER BY c.start_rowid",
            {"task": task},
        )

    def sampled_rowids(self, table: TableRef, leaf: TableRef | None, percent: float) -> Query:
        """Rows (ROWID as text,) of a seeded sample of whole blocks, sorted by ROWID (only the
        sample is sorted): cut points for ROWID ranges that need no privilege. Ordered by the
        ROWID, never by its text, whose base64 characters do not sort in ROWID order."""
        source = self.qualified(table) + self.leaf_clause(leaf) + sample_clause(percent)
        return Query(f"SELECT ROWIDTOCHAR(r) FROM (SELECT ROWID AS r FROM {source}) ORDER BY r")

    def leaf_clause(self, leaf: TableRef | None) -> str:
        """` PARTITION ("P1")` or ` SUBPARTITION ("SP1")` for a leaf (empty for None)."""
        if leaf is None:
            return ""
        if leaf.schema not in LEAF_LEVELS:
            raise ValueError(f"not an Oracle partition level: {leaf.schema}")
        return f" {leaf.schema} ({self.quote(leaf.name)})"

    def leaf_source(self, table: TableRef, leaf: TableRef) -> str:
        return self.qualified(table) + self.leaf_clause(leaf)

    def organization(self, table: TableRef) -> Query:
        """One row (iot_type,): 'IOT' for an index-organized table, whose ROWIDs are
        logical (UROWID) and cannot be cut into ranges; NULL for a heap table."""
        return Query(
            "SELECT iot_type FROM all_tables WHERE owner = :owner AND table_name = :name",
            self._owner_name(table),
        )

    def current_scn(self) -> Query:
        """One row (scn,): the database's current system change number (needs EXECUTE on
        DBMS_FLASHBACK). .../arpls/DBMS_FLASHBACK.html"""
        return Query("SELECT DBMS_FLASHBACK.GET_SYSTEM_CHANGE_NUMBER FROM DUAL")

    def recent_scn(self) -> Query:
        """One row (scn,): an SCN of the last few seconds, for a user without EXECUTE on
        DBMS_FLASHBACK (no privilege: any SCN names a consistent image, a slightly older
        one too). .../sqlrf/TIMESTAMP_TO_SCN.html"""
        return Query("SELECT TIMESTAMP_TO_SCN(SYSTIMESTAMP) FROM DUAL")

    def key_range(self, table: TableRef, column: str) -> Query:
        # Two scalar subqueries: each is one probe at an end of the key's index (INDEX FULL
        # SCAN (MIN/MAX)), where MIN and MAX together may make a fast full scan of all of it.
        col, source = self.quote(column), self.qualified(table)
        return Query(
            f"SELECT (SELECT MIN({col}) FROM {source}), (SELECT MAX({col}) FROM {source}) FROM DUAL"
        )

    def row_estimate(self, table: TableRef) -> Query:
        # The optimizer's statistics: NULL before the table is first analyzed.
        return Query(
            "SELECT num_rows FROM all_tables WHERE owner = :owner AND table_name = :name",
            self._owner_name(table),
        )
