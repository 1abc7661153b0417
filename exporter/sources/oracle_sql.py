"""SQL text for Oracle Database 12.2+ (python-oracledb `:name` binds). No I/O here: every
statement is parsed with sqlglot's Oracle dialect by tests/sql.

References (Oracle Database 19c): Database Reference for the ALL_* catalog views,
https://docs.oracle.com/en/database/oracle/oracle-database/19/refrn/ ; SQL Language
Reference for functions, https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/ .
"""

from __future__ import annotations

from collections.abc import Sequence

from exporter.model import Chunk, Column, ColumnKind, TablePlan, TableRef
from exporter.sources.dialect import Query
from exporter.sources.oracle_catalog_sql import OracleCatalog, sample_clause
from exporter.sources.oracle_errors import ERROR_HINTS
from exporter.sources.oracle_types import (
    LOB_EMPTY_VALUES,
    ChunkQuery,
    ChunkSelect,
    base_type,
    batch_number,
    column_kind,
    supports,
)


class OracleDialect(OracleCatalog):
    """SQL text for Oracle: columns and how each is read, ROWID ranges, the comparator's
    row digests (the catalog and planning statements are OracleCatalog's)."""

    name = "oracle"
    sqlglot_dialect = "oracle"
    supports_physical_split = True
    supports_snapshot_export = True
    snapshot_outlives_run = True  # an SCN, readable for as long as undo reaches it
    supports_db_row_hash = False
    # The batch path (fetch_path: batch; oracle_arrow.py) is offered, but `auto` keeps to
    # Python rows until the live suite has passed on it against a real database.
    supports_arrow_batches = True
    arrow_by_default = False
    empty_string_is_null = True
    bind_style = ":{}"
    # ROWIDs compare in physical order; CHARTOROWID: .../sqlrf/CHARTOROWID.html
    physical_locator = "ROWID"
    physical_bind = "CHARTOROWID({})"
    error_hints = ERROR_HINTS
    supports_row_values = False  # Oracle compares row values for equality only
    source_row_count_field = "oracle_row_count"  # the operations handbook's name for it

    def table_columns(self, table: TableRef) -> Query:
        # ALL_TAB_COLUMNS leaves out system-generated hidden columns. A FLOAT's
        # DATA_PRECISION is binary, so it is not reported as decimal precision. A type with
        # an owner (DATA_TYPE_OWNER) is a user type, written `OWNER.NAME` (REF OWNER.NAME
        # for a REF): never taken for the built-in type of the same name. XMLTYPE's owner is
        # SYS. https://docs.oracle.com/en/database/oracle/oracle-database/19/refrn/ALL_TAB_COLUMNS.html
        return Query(
            "SELECT column_name, CASE WHEN data_type_owner IS NULL "
            "OR (data_type = 'XMLTYPE' AND data_type_owner = 'SYS') THEN data_type "
            "ELSE LTRIM(data_type_mod || ' ' || data_type_owner || '.' || data_type) END, "
            "CASE WHEN data_type = 'NUMBER' THEN data_precision END, "
            "CASE WHEN data_type = 'NUMBER' THEN data_scale END, "
            "CASE nullable WHEN 'N' THEN 1 ELSE 0 END "
            "FROM all_tab_columns WHERE owner = :owner AND table_name = :name "
            "ORDER BY column_id",
            self._owner_name(table),
        )

    def select_chunk(self, plan: TablePlan, chunk: Chunk) -> Query:
        # After the columns, one flag per LOB column: an empty LOB read inline arrives as
        # None, like NULL, and the flag tells them apart (oracle_types.restore_empty_lobs).
        exprs = [self.read_expression(c) for c in plan.columns]
        lobs = [
            (i, LOB_EMPTY_VALUES[base_type(c.native_type)])
            for i, c in enumerate(plan.columns)
            if base_type(c.native_type) in LOB_EMPTY_VALUES
        ]
        flags = [f"CASE WHEN {exprs[i]} IS NOT NULL THEN 1 END" for i, _ in lobs]
        query = self.chunk_select(plan, chunk, ", ".join(exprs + flags))
        # The same rows as the batch path reads them (oracle_arrow.py) ride along.
        batch = [self.batch_expression(c) for c in plan.columns]
        batch_sql = self.chunk_select(plan, chunk, ", ".join(batch + flags)).sql
        if not lobs:
            return ChunkSelect(query.sql, query.params, batch_sql, plan.columns)
        return ChunkQuery(query.sql, query.params, batch_sql, plan.columns, len(exprs), tuple(lobs))

    def snapshot_read(self, plan: TablePlan) -> tuple[str, dict[str, object]]:
        # Flashback query: the table as it was at the SCN, for this query alone (no session
        # state to undo). Needs FLASHBACK on the table or FLASHBACK ANY TABLE (its owner has
        # it). .../sqlrf/SELECT.html (flashback_query_clause, after a partition_extension_
        # clause); https://docs.oracle.com/en/database/oracle/oracle-database/19/adfns/flashback.html
        if plan.snapshot and plan.snapshot_in_query:
            return " AS OF SCN :snapshot_scn", {"snapshot_scn": int(plan.snapshot)}
        return "", {}

    def snapshot_probe(self, table: TableRef, scn: str) -> Query:
        """No rows; fails (ORA-01031) where this user may not read `table` AS OF an SCN."""
        return Query(
            f"SELECT 1 FROM {self.qualified(table)} AS OF SCN :snapshot_scn WHERE 1 = 0",
            {"snapshot_scn": int(scn)},
        )

    def read_expression(self, column: Column) -> str:
        """How a column is read so that the driver returns the Python value canonical/cells.py
        writes: zoned timestamps as UTC (SYS_EXTRACT_UTC, .../sqlrf/SYS_EXTRACT_UTC.html), JSON as
        its text (JSON_SERIALIZE, 19c+; JSON type 21c+), intervals as text (TO_CHAR), XMLTYPE
        as a CLOB (XMLSERIALIZE, .../sqlrf/XMLSERIALIZE.html: whole, in thin and thick mode
        alike, where thick mode's own XMLTYPE fetch stops at the VARCHAR2 limit)."""
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
        if native == "XMLTYPE":
            return f"XMLSERIALIZE(CONTENT {col} AS CLOB)"
        return col

    def batch_expression(self, column: Column) -> str:
        """How the batch path reads a column (oracle_arrow.arrow_type is the Arrow type it
        asks the driver for): as read_expression, except a NUMBER or FLOAT that neither int64
        nor decimal128 holds, read as its text with every digit (TO_CHAR 'TM9': fixed
        notation up to 64 characters, .../sqlrf/Format-Models.html; the session pins the
        decimal point), and ROWID and UROWID as text (.../sqlrf/CAST.html; UROWID holds up
        to 4000 bytes): python-oracledb's data frames have no type for them
        (user_guide/dataframes.html, "Explicit Data Frame Type Mapping")."""
        col = self.quote(column.name)
        if batch_number(column) == "text":
            return f"TO_CHAR({col}, 'TM9')"
        if base_type(column.native_type) in ("ROWID", "UROWID"):
            return f"CAST({col} AS VARCHAR2(4000))"
        return self.read_expression(column)

    # The type mapping itself is oracle_types.py's.
    supports = staticmethod(supports)

    def column_kind(self, native_type: str, precision: int | None, scale: int | None) -> ColumnKind:
        return column_kind(native_type, precision, scale)

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
        return Query(f"SELECT {names} FROM {self.qualified(table)}{sample_clause(percent)}")
