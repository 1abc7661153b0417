"""SQL text for PostgreSQL 14+ (psycopg `%(name)s` parameters). No I/O here: every statement
is parsed with sqlglot by tests/sql.

The bulk path formats values in the SELECT (https://www.postgresql.org/docs/current/
sql-copy.html) so that COPY's CSV equals what canonical/cells.py writes on the other paths.
"""

from __future__ import annotations

from collections.abc import Sequence

from exporter.model import Chunk, Column, ColumnKind, TablePlan, TableRef
from exporter.sources.dialect import BulkOptions, Dialect, Query

_SIGNED_INTS = frozenset({"int2", "int4", "int8"})

# Base type name -> kind; anything else is written as its text output (STRING).
_KINDS: dict[str, ColumnKind] = {
    "int2": ColumnKind.INTEGER,
    "int4": ColumnKind.INTEGER,
    "int8": ColumnKind.INTEGER,
    "oid": ColumnKind.INTEGER,
    "numeric": ColumnKind.DECIMAL,
    "float4": ColumnKind.FLOAT,
    "float8": ColumnKind.FLOAT,
    "bool": ColumnKind.BOOLEAN,
    "date": ColumnKind.DATE,
    "timestamp": ColumnKind.DATETIME,
    "timestamptz": ColumnKind.TIMESTAMP,
    "time": ColumnKind.TIME,
    "bytea": ColumnKind.BYTES,
    "json": ColumnKind.JSON,
    "jsonb": ColumnKind.JSON,
}

# Types whose COPY text already is the cell as canonical/cells.py writes it: COPY calls the
# same output function a CAST to text would, under the same session settings. Their cells go
# to COPY as they are (date, timestamp and numeric through their range checks only), which
# saves the server a projected text value per cell. Not char(n): its cast to text drops the
# padding.
_COPY_AS_IS = frozenset({"int2", "int4", "int8", "text", "varchar", "float8"})
_COPY_CHECKED = frozenset({"numeric", "date", "timestamp"})

# PostgreSQL SQLSTATEs users meet most. Source:
# https://www.postgresql.org/docs/current/errcodes-appendix.html
ERROR_HINTS: dict[str, str] = {
    "28P01": "password authentication failed: check source.user and the password variable",
    "28000": "the server rejected this login: check source.user and pg_hba.conf",
    "3D000": "the database does not exist: check source.database",
    "42P01": "the table is not visible: check grants or export.schemas",
    "42501": "permission denied: GRANT SELECT on the table to the export user",
    "08001": "no server answered: check source.host and source.port",
    "08006": "the connection was lost: check the server and re-run to resume",
}

# Session settings that decide the text of values. https://www.postgresql.org/docs/current/
# runtime-config-client.html: DateStyle ISO prints `2024-01-02 03:04:05.5`; extra_float_digits
# 1 (PG 12+) prints the shortest round-trip digits.
SESSION_SETTINGS: dict[str, str] = {
    "DateStyle": "ISO, YMD",
    "TimeZone": "UTC",
    "extra_float_digits": "1",
    "IntervalStyle": "postgres",
    "bytea_output": "hex",  # the text of bytea inside arrays and composites
    "lc_monetary": "C",  # the text of money
}


class PostgresDialect(Dialect):
    """SQL text for PostgreSQL 14+ (psycopg `%(name)s` parameters)."""

    name = "postgresql"
    sqlglot_dialect = "postgres"
    supports_physical_split = True
    supports_snapshot_export = True
    supports_db_row_hash = True
    supports_bulk_csv = True
    supports_arrow_batches = True
    bind_style = "%({})s"
    # TID Range Scan (PostgreSQL 14+) reads only the blocks in range.
    # https://www.postgresql.org/docs/current/datatype-oid.html (tid), release notes 14
    physical_locator = "ctid"
    physical_bind = "CAST({} AS tid)"
    error_hints = ERROR_HINTS
    # Unfenced, the grouping of chunk_figures sorted whole rows (spilling to disk) and hashed
    # them after: 0.31 against 0.19 s for 100k rows. https://www.postgresql.org/docs/current/
    # queries-limit.html ("OFFSET 0 is the same as omitting the OFFSET clause"; the planner
    # does not flatten such a subquery).
    subquery_fence = " OFFSET 0"

    def quote(self, identifier: str) -> str:
        """`"a""b"`, with '%' doubled: psycopg reads `%` as a placeholder whenever parameters
        are passed, and PostgresConn always passes them (an empty mapping at least), so that
        `%%` always turns back into `%`. https://www.psycopg.org/psycopg3/docs/basic/params.html
        """
        return super().quote(identifier).replace("%", "%%")

    def list_tables(self, schema: str | None) -> Query:
        # Ordinary and partitioned tables, but not partitions (their parent exports their rows).
        # https://www.postgresql.org/docs/current/catalog-pg-class.html
        sql = (
            "SELECT n.nspname, c.relname FROM pg_catalog.pg_class AS c "
            "JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND left(n.nspname, 3) <> 'pg_'"
        )
        if schema is None:
            return Query(sql + " ORDER BY 1, 2")
        return Query(sql + " AND n.nspname = %(schema)s ORDER BY 1, 2", {"schema": schema})

    def _regclass(self, table: TableRef) -> dict[str, object]:
        # A quoted name bound as text and cast to regclass: no identifier is interpolated,
        # so '%' stays single here (a bound value is never parsed for placeholders).
        plain = super().quote
        return {"rel": f"{plain(table.schema)}.{plain(table.name)}"}

    def table_columns(self, table: TableRef) -> Query:
        # A domain is described by its base type, through domains over domains, with the
        # numeric precision and scale the nearest domain declares where the column does not.
        # Only pg_catalog's types are known by name: a user type that happens to be called
        # float8 or int8 is schema-qualified, so it is exported as text (STRING), never
        # taken for the built-in.
        # atttypmod of numeric(p, s) is ((p << 16) | s) + 4; -1 when not declared.
        # https://www.postgresql.org/docs/current/catalog-pg-attribute.html
        # https://www.postgresql.org/docs/current/catalog-pg-type.html (typbasetype, typtypmod)
        chain = (
            "WITH RECURSIVE chain AS ("
            "SELECT t.typname, t.typnamespace, t.typtype, t.typbasetype, t.typtypmod, 0 AS depth "
            "FROM pg_catalog.pg_type AS t WHERE t.oid = a.atttypid "
            "UNION ALL SELECT b.typname, b.typnamespace, b.typtype, b.typbasetype, b.typtypmod, "
            "c.depth + 1 FROM pg_catalog.pg_type AS b JOIN chain AS c ON b.oid = c.typbasetype "
            "WHERE c.typtype = 'd') "
            "SELECT bt.typname, bt.typnamespace, (SELECT d.typtypmod FROM chain AS d "
            "WHERE d.typtypmod >= 0 ORDER BY d.depth LIMIT 1) AS domain_typmod "
            "FROM chain AS bt WHERE bt.typtype <> 'd'"
        )
        typmod = "CASE WHEN a.atttypmod >= 0 THEN a.atttypmod ELSE base.domain_typmod END"
        numeric = f"n.nspname = 'pg_catalog' AND base.typname = 'numeric' AND {typmod} >= 4"
        return Query(
            "SELECT a.attname, CASE WHEN n.nspname = 'pg_catalog' THEN base.typname "
            "ELSE n.nspname || '.' || base.typname END, "
            f"CASE WHEN {numeric} THEN (({typmod} - 4) >> 16) & 65535 END, "
            f"CASE WHEN {numeric} THEN ({typmod} - 4) & 65535 END, a.attnotnull "
            f"FROM pg_catalog.pg_attribute AS a CROSS JOIN LATERAL ({chain}) AS base "
            "JOIN pg_catalog.pg_namespace AS n ON n.oid = base.typnamespace "
            "WHERE a.attrelid = CAST(%(rel)s AS regclass) AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY a.attnum",
            self._regclass(table),
        )

    def primary_key(self, table: TableRef) -> Query:
        # https://www.postgresql.org/docs/current/catalog-pg-index.html
        return Query(
            "SELECT a.attname FROM pg_catalog.pg_index AS i "
            "JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = CAST(%(rel)s AS regclass) AND i.indisprimary "
            "ORDER BY array_position(CAST(i.indkey AS int2[]), a.attnum)",
            self._regclass(table),
        )

    def table_size_bytes(self, table: TableRef) -> Query:
        # pg_table_size: heap + TOAST + free space map. https://www.postgresql.org/docs/current/
        # functions-admin.html#FUNCTIONS-ADMIN-DBSIZE
        return Query("SELECT pg_table_size(CAST(%(rel)s AS regclass))", self._regclass(table))

    def heap_blocks(self, table: TableRef) -> Query:
        """One row (blocks,): pages of the main fork, the domain of ctid block numbers."""
        return Query(
            "SELECT pg_relation_size(CAST(%(rel)s AS regclass)) "
            "/ CAST(current_setting('block_size') AS bigint)",
            self._regclass(table),
        )

    def physical_value(self, bound: int | str) -> object:
        """A block number as the first tuple id of that block, `(block,0)`."""
        return f"({bound},0)"

    def select_chunk(self, plan: TablePlan, chunk: Chunk) -> Query:
        # Generic path (Python rows or Arrow batches): values in their own types, except
        # text-like columns (read as their text output), floats (widened to float8, as the
        # bulk path prints them) and oid (unsigned 32-bit, which Arrow would read as a
        # signed int32: widened to int8).
        where, params = self.chunk_where(plan, chunk)
        exprs = []
        for column in plan.columns:
            col = self.quote(column.name)
            if column.kind.is_text:
                exprs.append(f"CAST({col} AS text)")
            elif column.kind is ColumnKind.FLOAT:
                exprs.append(f"CAST({col} AS float8)")
            elif column.kind is ColumnKind.INTEGER and column.native_type not in _SIGNED_INTS:
                exprs.append(f"CAST({col} AS int8)")
            else:
                exprs.append(col)
        sql = f"SELECT {', '.join(exprs)} FROM {self.qualified(plan.table)}{where}"
        return Query(sql, params)

    def count_and_sums(self, table: TableRef, columns: Sequence[Column]) -> Query:
        # SUM has no oid variant: integers other than int2/4/8 are summed as int8.
        sums = "".join(
            f", SUM(CAST({self.quote(c.name)} AS int8))"
            if c.kind is ColumnKind.INTEGER and c.native_type not in _SIGNED_INTS
            else f", SUM({self.quote(c.name)})"
            for c in columns
        )
        return Query(f"SELECT COUNT(*){sums} FROM {self.qualified(table)}")

    def copy_expression(self, column: Column) -> str:
        """What the COPY query selects for `column`: an expression whose COPY text is the
        cell as canonical/cells.py writes it (`cell_expression`'s text, or the value itself where
        COPY prints it the same, see _COPY_AS_IS)."""
        col = self.quote(column.name)
        if column.native_type in _COPY_AS_IS:
            return col
        if column.native_type in _COPY_CHECKED:
            if column.kind is ColumnKind.DECIMAL:
                return self._decimal_checked(col, as_text=False)
            return self._within_years(col, column.native_type, col, as_text=False)
        return self.cell_expression(column)

    def cell_expression(self, column: Column) -> str:
        """The column's CSV cell text as canonical/cells.py writes it, without quoting (NULL
        stays NULL)."""
        col = self.quote(column.name)
        kind = column.kind
        if kind is ColumnKind.FLOAT:
            return f"CAST(CAST({col} AS float8) AS text)"
        if kind is ColumnKind.TIMESTAMP:
            text = f"CAST(({col} AT TIME ZONE 'UTC') AS text) || '+00:00'"
            return self._within_years(col, "timestamptz", text)
        if kind is ColumnKind.DATETIME:
            return self._within_years(col, "timestamp", f"CAST({col} AS text)")
        if kind is ColumnKind.DATE:
            return self._within_years(col, "date", f"CAST({col} AS text)")
        if kind is ColumnKind.TIME:
            # PostgreSQL's time holds 24:00:00; BigQuery's TIME ends at 23:59:59.999999.
            failure = (
                f"CAST(CAST('outside the day, which BigQuery holds: ' || CAST({col} AS text) "
                "AS time) AS text)"
            )
            return (
                f"CASE WHEN {col} < CAST('24:00:00' AS time) THEN CAST({col} AS text) "
                f"WHEN {col} IS NOT NULL THEN {failure} END"
            )
        if kind is ColumnKind.DECIMAL:
            return self._decimal_checked(col, as_text=True)
        if kind is ColumnKind.BYTES:
            # encode(.., 'base64') wraps lines every 76 characters; BigQuery wants none.
            # https://www.postgresql.org/docs/current/functions-binarystring.html
            return f"replace(encode({col}, 'base64'), chr(10), '')"
        return f"CAST({col} AS text)"

    @staticmethod
    def _decimal_checked(col: str, *, as_text: bool) -> str:
        """The numeric (as text when `as_text`), or a runtime error for NaN and (PostgreSQL
        14+) the infinities: BigQuery's NUMERIC types hold neither. `scale()` is NULL for
        exactly these values (numeric_scale returns NULL for NaN, and since 14 for every
        special value: src/backend/utils/adt/numeric.c), so one call finds them on every
        version, where the literal 'Infinity' is no numeric before 14. It costs 0.03 us a
        row, against 0.05 for two comparisons and 0.08 for an IN list of the three (3M
        rows, docs/BENCHMARKS.md). Same runtime-error device as `_within_years`.
        https://www.postgresql.org/docs/current/functions-math.html
        https://www.postgresql.org/docs/current/datatype-numeric.html"""
        failure = f"CAST('not a number BigQuery holds: ' || CAST({col} AS text) AS numeric)"
        value = col
        if as_text:
            failure, value = f"CAST({failure} AS text)", f"CAST({col} AS text)"
        finite = f"scale({col}) IS NOT NULL"
        return f"CASE WHEN {finite} THEN {value} WHEN {col} IS NOT NULL THEN {failure} END"

    @staticmethod
    def _within_years(col: str, sql_type: str, text: str, *, as_text: bool = True) -> str:
        """`text` for values in years 1-9999 (BigQuery's range, and Python's, which the batch
        path has), else a runtime error naming the value: PostgreSQL also holds infinity,
        BC dates and years up to 294276, which BigQuery would refuse at load time. The error
        is a failed cast of a string built from the row, so that it can only be raised by
        such a row, never folded into a constant when the query is planned.
        https://www.postgresql.org/docs/current/datatype-datetime.html"""
        zone = "+00" if sql_type == "timestamptz" else ""
        low = f"CAST('0001-01-01 00:00:00{zone}' AS {sql_type})"
        high = (
            f"CAST('10000-01-01 00:00:00{zone}' AS {sql_type})"
            if sql_type != "date"
            else ("CAST('9999-12-31' AS date)")
        )
        below_high = f"{col} < {high}" if sql_type != "date" else f"{col} <= {high}"
        failure = (
            f"CAST('outside years 1-9999, which BigQuery holds: ' || CAST({col} AS text) "
            f"AS {sql_type})"
        )
        if as_text:  # else `text` is the value itself, of type sql_type
            failure = f"CAST({failure} AS text)"
        return (
            f"CASE WHEN {col} >= {low} AND {below_high} THEN {text} "
            f"WHEN {col} IS NOT NULL THEN {failure} END"
        )

    def record_expression(self, columns: Sequence[Column]) -> str:
        """The whole CSV record in SQL, for database-side row hashes (canonical/rowhash.py)."""
        cells = []
        for column in columns:
            cell = self.cell_expression(column)
            if column.kind.is_text:
                cell = f"""'"' || replace({cell}, '"', '""') || '"'"""
            cells.append(f"COALESCE({cell}, %(null_marker)s)")
        return "concat_ws(',', " + ", ".join(cells) + ")"

    def copy_chunk(self, plan: TablePlan, chunk: Chunk, options: BulkOptions) -> Query:
        """COPY (SELECT formatted cells) TO STDOUT as CSV, text cells always quoted."""
        where, params = self.chunk_where(plan, chunk)
        exprs = [f"{self.copy_expression(c)} AS c{i}" for i, c in enumerate(plan.columns)]
        if options.row_hash_in_db:
            exprs.append(f"md5({self.record_expression(plan.columns)}) AS row_hash")
        forced = [f"c{i}" for i, c in enumerate(plan.columns) if c.kind.is_text]
        force = f", FORCE_QUOTE ({', '.join(forced)})" if forced else ""
        select = f"SELECT {', '.join(exprs)} FROM {self.qualified(plan.table)}{where}"
        sql = f"COPY ({select}) TO STDOUT (FORMAT csv, NULL %(null_marker)s{force})"
        return Query(sql, {**params, "null_marker": options.null_marker})

    def column_kind(self, native_type: str, precision: int | None, scale: int | None) -> ColumnKind:
        return _KINDS.get(native_type, ColumnKind.STRING)

    # -- the comparator (canonical/digest.py is the reference) -------------------------------

    def compare_cell(self, column: Column) -> str:
        col = self.quote(column.name)
        kind = column.kind
        if kind.is_text:
            return f"""'"' || replace(CAST({col} AS text), '"', '""') || '"'"""
        if kind is ColumnKind.DECIMAL:
            # trim_scale (13+): 1.50 -> 1.5. https://www.postgresql.org/docs/current/functions-math.html
            return f"CAST(trim_scale({col}) AS text)"
        if kind is ColumnKind.FLOAT:
            return f"CAST(CAST({col} AS float8) AS text)"
        if kind is ColumnKind.BYTES:
            return f"replace(encode({col}, 'base64'), chr(10), '')"
        if kind is ColumnKind.TIME:  # an interval prints 24:00:00 as such, and microseconds
            return f"to_char(CAST({col} AS interval), 'HH24:MI:SS.US')"
        # https://www.postgresql.org/docs/current/functions-formatting.html (US: microseconds;
        # YYYY: 4 digits or more); BC values and infinities keep their own text.
        if kind is ColumnKind.DATE:  # DateStyle ISO prints YYYY-MM-DD (years 1-9999): no to_char
            return f"CAST({col} AS text)"
        forms = {
            ColumnKind.DATETIME: (col, "timestamp", "YYYY-MM-DD HH24:MI:SS.US"),
            ColumnKind.TIMESTAMP: (
                f"({col} AT TIME ZONE 'UTC')",
                "timestamp",
                "YYYY-MM-DD HH24:MI:SS.US",
            ),
        }
        if kind in forms:
            value, sql_type, mask = forms[kind]
            first = f"CAST('0001-01-01' AS {sql_type})"
            return (
                f"CASE WHEN isfinite({col}) AND {value} >= {first} THEN to_char({value}, '{mask}') "
                f"ELSE CAST({col} AS text) END"
            )
        return f"CAST({col} AS text)"  # integers; booleans print true / false

    def row_digest(self, columns: Sequence[Column]) -> tuple[str, dict[str, object]]:
        # The last 15 hex digits of md5() as a bigint, through bit(60).
        # https://www.postgresql.org/docs/current/functions-binarystring.html (md5)
        cells = ", ".join(f"COALESCE({self.compare_cell(c)}, %(nm)s)" for c in columns)
        record = f"concat_ws(',', {cells})"
        return f"CAST(CAST('x' || substr(md5({record}), 18) AS bit(60)) AS bigint)", {"nm": "\\N"}

    def key_term(self, column: Column) -> str:
        # Text keys in byte (code point) order, whatever the database's collation.
        # https://www.postgresql.org/docs/current/collation.html
        if column.kind.is_text:
            return f'{self.quote(column.name)} COLLATE "C"'
        return self.quote(column.name)

    def sample_keys(self, table: TableRef, key: Sequence[Column], percent: float) -> Query:
        # Whole random blocks, the same ones for the same table (REPEATABLE: a seed), so
        # that planning twice gives the same chunks.
        # https://www.postgresql.org/docs/current/sql-select.html (TABLESAMPLE)
        names = ", ".join(self.quote(column.name) for column in key)
        return Query(
            f"SELECT {names} FROM {self.qualified(table)} "
            "TABLESAMPLE SYSTEM (%(percent)s) REPEATABLE (%(seed)s)",
            {"percent": percent, "seed": 42},
        )

    def row_estimate(self, table: TableRef) -> Query:
        # The planner's estimate, -1 before the first ANALYZE (pg_class.reltuples).
        return Query(
            "SELECT reltuples FROM pg_catalog.pg_class WHERE oid = CAST(%(rel)s AS regclass)",
            self._regclass(table),
        )
