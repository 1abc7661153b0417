"""SQL text for Oracle Database 12.2+ (python-oracledb `:name` binds). No I/O here: every
statement is parsed with sqlglot's Oracle dialect by tests/sql.

References (Oracle Database 19c): Database Reference for the ALL_* catalog views,
https://docs.oracle.com/en/database/oracle/oracle-database/19/refrn/ ; SQL Language
Reference for functions, https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/ .
"""

from __future__ import annotations

from collections.abc import Sequence

from exporter.model import Chunk, Column, ColumnKind, TablePlan, TableRef
from exporter.sources.dialect import Dialect, Query

# Oracle error codes users meet most, with the fix we suggest. Sources: python-oracledb
# doc/src/user_guide/troubleshooting.rst and exception_handling.rst;
# https://docs.oracle.com/en/database/oracle/oracle-database/19/errmg/
ERROR_HINTS: dict[str, str] = {
    "DPI-1047": "thick mode could not load the Oracle Client libraries: check source.lib_dir "
    "(on Linux run through run.sh, which puts it on LD_LIBRARY_PATH), or set "
    "thick_mode: false to use thin mode",
    "DPY-3010": "the database is older than 12.1: set source.thick_mode: true",
    "DPY-3015": "the account only has a 10G password verifier: set source.thick_mode: true "
    "or reset the password",
    "DPY-6001": "the service name is not registered with the listener: check source.service",
    "DPY-6005": "cannot reach the database: check source.host and source.port (or source.dsn)"
    " and that the listener is up",
    "ORA-01031": "insufficient privileges: the export user needs SELECT on the tables",
    "ORA-08181": "the snapshot SCN is not valid here: set export.consistent_snapshot: false",
    "ORA-08185": "SYS cannot use flashback: export as another user, or set "
    "export.consistent_snapshot: false",
    "ORA-12514": "the service name is not registered with the listener: check source.service",
    "ORA-12541": "no listener at that host and port: check source.host and source.port",
    "ORA-01017": "user name or password is wrong: check source.user and the password variable",
    "ORA-00942": "the table or view is not visible: check grants or export.schemas",
    "ORA-01555": "snapshot too old: use smaller chunks (export.chunk_size_mb) or more undo",
    "ORA-01466": "the table was changed by DDL after the snapshot: re-run the export",
    "ORA-08180": "the snapshot is older than undo retention: set consistent_snapshot: false",
}

# NUMBER(p, 0) up to 18 digits fits an int64 (BigQuery INT64); wider integers are DECIMAL.
MAX_INTEGER_DIGITS = 18

# data_type (as ALL_TAB_COLUMNS spells it, without the "(n)" of timestamps) -> kind.
# https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/Data-Types.html
_KINDS: dict[str, ColumnKind] = {
    "BINARY_FLOAT": ColumnKind.FLOAT,
    "BINARY_DOUBLE": ColumnKind.FLOAT,
    "FLOAT": ColumnKind.DECIMAL,  # a NUMBER with binary precision: exact decimal digits
    "DATE": ColumnKind.DATETIME,  # Oracle's DATE has a time of day
    "RAW": ColumnKind.BYTES,
    "LONG RAW": ColumnKind.BYTES,
    "BLOB": ColumnKind.BYTES,
    "BOOLEAN": ColumnKind.BOOLEAN,  # 23ai
    "JSON": ColumnKind.JSON,  # 21c
}

# Types read as the driver's text (python-oracledb returns str for each): character types,
# XMLTYPE (thin mode), ROWID and UROWID. INTERVALs are converted with TO_CHAR.
TEXT_TYPES = frozenset(
    {
        "VARCHAR2",
        "CHAR",
        "NVARCHAR2",
        "NCHAR",
        "CLOB",
        "NCLOB",
        "LONG",
        "XMLTYPE",
        "ROWID",
        "UROWID",
    }
)


def base_type(data_type: str) -> str:
    """`TIMESTAMP(6) WITH TIME ZONE` -> `TIMESTAMP WITH TIME ZONE`."""
    head, _, rest = data_type.partition("(")
    return head if not rest else head + rest.partition(")")[2]


class OracleDialect(Dialect):
    """SQL text for Oracle: catalog views ALL_*, ROWID ranges, session flashback."""

    name = "oracle"
    sqlglot_dialect = "oracle"
    supports_physical_split = True
    supports_snapshot_export = True
    supports_db_row_hash = False
    empty_string_is_null = True
    bind_style = ":{}"
    # ROWIDs compare in physical order; CHARTOROWID: .../sqlrf/CHARTOROWID.html
    physical_locator = "ROWID"
    physical_bind = "CHARTOROWID({})"
    error_hints = ERROR_HINTS
    supports_row_values = False  # Oracle compares row values for equality only

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

    def table_columns(self, table: TableRef) -> Query:
        # ALL_TAB_COLUMNS leaves out system-generated hidden columns. A FLOAT's
        # DATA_PRECISION is binary, so it is not reported as decimal precision.
        # .../refrn/ALL_TAB_COLUMNS.html
        return Query(
            "SELECT column_name, data_type, "
            "CASE WHEN data_type = 'NUMBER' THEN data_precision END, "
            "CASE WHEN data_type = 'NUMBER' THEN data_scale END, "
            "CASE nullable WHEN 'N' THEN 1 ELSE 0 END "
            "FROM all_tab_columns WHERE owner = :owner AND table_name = :name "
            "ORDER BY column_id",
            self._owner_name(table),
        )

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

    def table_size_bytes(self, table: TableRef) -> Query:
        # Allocated bytes of the table's segments (table, partitions, subpartitions);
        # DBA_SEGMENTS needs SELECT_CATALOG_ROLE or similar: see `table_size_from_stats`.
        # .../refrn/DBA_SEGMENTS.html
        return Query(
            "SELECT NVL(SUM(s.bytes), 0) FROM dba_segments s "
            "WHERE s.owner = :owner AND s.segment_name = :name "
            "AND s.segment_type IN ('TABLE', 'TABLE PARTITION', 'TABLE SUBPARTITION')",
            self._owner_name(table),
        )

    def table_size_from_stats(self, table: TableRef) -> Query:
        """Rows times average row length from the optimizer statistics (no privilege
        needed; NULL before the table was first analyzed). .../refrn/ALL_TABLES.html"""
        return Query(
            "SELECT NVL(num_rows, 0) * NVL(avg_row_len, 0) FROM all_tables "
            "WHERE owner = :owner AND table_name = :name",
            self._owner_name(table),
        )

    def rowid_range_starts(self, table: TableRef, parts: int) -> Query:
        """The first ROWID of each of `parts` groups of rows in ROWID order, as text, in
        group order: chunk i reads [start i, start i+1), the first and last open-ended, so
        every row is read once whatever was inserted after planning. Ordered by group, never
        by the text: ROWID text is base64 (A-Z, a-z, 0-9, +, /), whose character order is not
        ROWID order. NTILE, ROWIDTOCHAR: .../sqlrf/NTILE.html, .../sqlrf/ROWIDTOCHAR.html"""
        return Query(
            "SELECT ROWIDTOCHAR(MIN(r)) FROM (SELECT ROWID AS r, "
            f"NTILE(:parts) OVER (ORDER BY ROWID) AS nt FROM {self.qualified(table)}) "
            "GROUP BY nt ORDER BY nt",
            {"parts": parts},
        )

    def organization(self, table: TableRef) -> Query:
        """One row (iot_type,): 'IOT' for an index-organized table, whose ROWIDs are
        logical (UROWID) and cannot be cut into ranges; NULL for a heap table."""
        return Query(
            "SELECT iot_type FROM all_tables WHERE owner = :owner AND table_name = :name",
            self._owner_name(table),
        )

    def current_scn(self) -> Query:
        """One row (scn,): the database's current system change number.
        https://docs.oracle.com/en/database/oracle/oracle-database/19/arpls/DBMS_FLASHBACK.html
        """
        return Query("SELECT DBMS_FLASHBACK.GET_SYSTEM_CHANGE_NUMBER FROM DUAL")

    def select_chunk(self, plan: TablePlan, chunk: Chunk) -> Query:
        exprs = ", ".join(self.read_expression(c) for c in plan.columns)
        return self.chunk_select(plan, chunk, exprs)

    def read_expression(self, column: Column) -> str:
        """How a column is read so that the driver returns the Python value canonical/cells.py
        writes: zoned timestamps as UTC (SYS_EXTRACT_UTC, .../sqlrf/SYS_EXTRACT_UTC.html), JSON as
        its text (JSON_SERIALIZE, 19c+; JSON type 21c+), intervals as text (TO_CHAR)."""
        col = self.quote(column.name)
        native = base_type(column.native_type)
        if column.kind is ColumnKind.TIMESTAMP:
            if "LOCAL" in native:  # TIMESTAMP WITH LOCAL TIME ZONE: give it a zone first
                return f"SYS_EXTRACT_UTC(CAST({col} AS TIMESTAMP WITH TIME ZONE))"
            return f"SYS_EXTRACT_UTC({col})"
        if column.kind is ColumnKind.JSON:
            return f"JSON_SERIALIZE({col} RETURNING CLOB)"
        if column.kind is ColumnKind.STRING and native.startswith("INTERVAL"):
            return f"TO_CHAR({col})"
        return col

    @staticmethod
    def supports(native_type: str) -> bool:
        """Whether values of this type can be written: the types with a kind, the text
        types, intervals. Not BFILE, VECTOR, object types, collections or REFs: the driver
        returns objects for them, which have no CSV form here."""
        native = base_type(native_type)
        return (
            native in _KINDS
            or native in TEXT_TYPES
            or native.startswith(("NUMBER", "TIMESTAMP", "INTERVAL"))
        )

    def column_kind(self, native_type: str, precision: int | None, scale: int | None) -> ColumnKind:
        native = base_type(native_type)
        if native == "NUMBER":
            whole = scale == 0 and precision is not None and precision <= MAX_INTEGER_DIGITS
            return ColumnKind.INTEGER if whole else ColumnKind.DECIMAL
        if native == "TIMESTAMP":
            return ColumnKind.DATETIME
        if native.startswith("TIMESTAMP"):  # WITH TIME ZONE, WITH LOCAL TIME ZONE
            return ColumnKind.TIMESTAMP
        return _KINDS.get(native, ColumnKind.STRING)

    # -- the comparator (canonical/digest.py is the reference) -------------------------------

    @staticmethod
    def compare_refusal(column: Column) -> str | None:
        """Why a column cannot be compared inside the database, or None: LOBs and LONGs are
        not VARCHAR2, which STANDARD_HASH and the row's text need."""
        native = base_type(column.native_type)
        if native in ("CLOB", "NCLOB", "BLOB", "LONG", "LONG RAW", "XMLTYPE"):
            return f"{native} cannot be hashed inside Oracle (STANDARD_HASH takes no LOB)"
        return None

    def compare_cell(self, column: Column) -> str:
        col = self.quote(column.name)
        native = base_type(column.native_type)
        kind = column.kind
        if kind.is_text:
            text = col
            if native.startswith("INTERVAL"):
                text = f"TO_CHAR({col})"
            elif kind is ColumnKind.JSON:
                text = f"JSON_SERIALIZE({col} RETURNING VARCHAR2(4000))"
            return f"""'"' || REPLACE({text}, '"', '""') || '"'"""
        if kind in (ColumnKind.INTEGER, ColumnKind.DECIMAL, ColumnKind.FLOAT):
            # TM9: the shortest text of the number, no trailing zeros, but no leading zero
            # either (.5), which is put back. .../sqlrf/Format-Models.html
            return f"REGEXP_REPLACE(TO_CHAR({col}, 'TM9'), '^(-?)[.]', '\\10.')"
        if kind is ColumnKind.BOOLEAN:
            return f"CASE WHEN {col} THEN 'true' WHEN NOT {col} THEN 'false' END"
        if kind is ColumnKind.BYTES:  # RAW as base64, without the encoder's line breaks
            encoded = f"UTL_RAW.CAST_TO_VARCHAR2(UTL_ENCODE.BASE64_ENCODE({col}))"
            return f"REPLACE(REPLACE({encoded}, CHR(13), ''), CHR(10), '')"
        mask = "'YYYY-MM-DD HH24:MI:SS.FF6'"
        if kind is ColumnKind.TIMESTAMP:
            value = f"CAST({col} AS TIMESTAMP WITH TIME ZONE)" if "LOCAL" in native else col
            return f"TO_CHAR(SYS_EXTRACT_UTC({value}), {mask})"
        if native == "DATE":  # a DATE has no fractional seconds to print: made a TIMESTAMP
            return f"TO_CHAR(CAST({col} AS TIMESTAMP), {mask})"
        return f"TO_CHAR({col}, {mask})"

    def row_digest(self, columns: Sequence[Column]) -> tuple[str, dict[str, object]]:
        # STANDARD_HASH (12.1+) of the row's text in the database character set (UTF-8 in an
        # AL32UTF8 database); its last 15 hex digits as a number. .../sqlrf/STANDARD_HASH.html
        record = " || ',' || ".join(f"NVL({self.compare_cell(c)}, :nm)" for c in columns)
        digest = (
            f"TO_NUMBER(SUBSTR(RAWTOHEX(STANDARD_HASH({record}, 'MD5')), 18), 'XXXXXXXXXXXXXXX')"
        )
        return digest, {"nm": "\\N"}

    def sample_keys(self, table: TableRef, key: Sequence[Column], percent: float) -> Query:
        # Whole random blocks, seeded; the percentage is a literal in the grammar.
        # .../sqlrf/SELECT.html (sample_clause)
        names = ", ".join(self.quote(column.name) for column in key)
        sample = f" SAMPLE BLOCK ({percent:.6f}) SEED (42)" if percent < 100 else ""
        return Query(f"SELECT {names} FROM {self.qualified(table)}{sample}")

    def row_estimate(self, table: TableRef) -> Query:
        # The optimizer's statistics: NULL before the table is first analyzed.
        return Query(
            "SELECT num_rows FROM all_tables WHERE owner = :owner AND table_name = :name",
            self._owner_name(table),
        )
