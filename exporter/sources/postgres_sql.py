"""SQL text for PostgreSQL 14+ (psycopg `%(name)s` parameters): how rows are read, summed and
compared, on top of the catalog statements of postgres_catalog_sql.py. No I/O here: every
statement is parsed with sqlglot by tests/sql.

The bulk path formats values in the SELECT (https://www.postgresql.org/docs/current/
sql-copy.html) so that COPY's CSV equals what canonical/cells.py writes on the other paths.
"""

from __future__ import annotations

from collections.abc import Sequence

from exporter.model import Bound, Chunk, Column, ColumnKind, TablePlan, TableRef
from exporter.sources.dialect import BulkOptions, Query
from exporter.sources.postgres_catalog_sql import PostgresCatalog
from exporter.sources.postgres_checks_sql import decimal_checked, unbounded, within_years

_SIGNED_INTS = frozenset({"int2", "int4", "int8"})

# Types whose COPY text already is the cell as canonical/cells.py writes it: COPY calls the
# same output function a CAST to text would, under the same session settings. Their cells go
# to COPY as they are (date, timestamp and numeric through their range checks only), which
# saves the server a projected text value per cell. Not char(n): its cast to text drops the
# padding.
_COPY_AS_IS = frozenset({"int2", "int4", "int8", "text", "varchar", "float8"})
_COPY_CHECKED = frozenset({"numeric", "date", "timestamp"})

# encode(.., 'base64') ends a line after every 76 characters, so from 57 bytes on, and
# BigQuery wants no line breaks; the replace, a pass over every cell, only where one occurs
# (0.25 of the server's 5 CPU-seconds on bench.t's 4-20 byte values, docs/BENCHMARKS.md).
# https://www.postgresql.org/docs/current/functions-binarystring.html
_BASE64_LINE_BYTES = 57


def base64_text(col: str) -> str:
    """`col` (bytea) as standard base64 in one line, as canonical/cells.py writes BYTES."""
    encoded = f"encode({col}, 'base64')"
    return (
        f"CASE WHEN octet_length({col}) < {_BASE64_LINE_BYTES} THEN {encoded} "
        f"ELSE replace({encoded}, chr(10), '') END"
    )


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

# Timeouts a role or database may set that would cut an export short, off for our sessions as
# pg_dump turns them off (setup_connection in src/bin/pg_dump/pg_dump.c: "Disable timeouts"):
# statement_timeout would cancel a chunk's one long statement; idle_in_transaction_session_
# timeout would end the coordinator's session, which holds the exported snapshot idle for the
# whole run, and every chunk after it would fail ("invalid snapshot identifier");
# idle_session_timeout, not among pg_dump's, would end a connection kept idle between its uses
# (a worker's between chunks, the source counts' while chunks are read). Startup
# options outrank ALTER ROLE / ALTER DATABASE settings. https://www.postgresql.org/docs/
# current/runtime-config-client.html#RUNTIME-CONFIG-CLIENT-STATEMENT
SESSION_TIMEOUTS: dict[str, str] = {
    "statement_timeout": "0",
    "lock_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "idle_session_timeout": "0",
}

# transaction_timeout (PostgreSQL 17+) would end the snapshot's transaction too; it is set once
# connected, where the server knows it (a startup option it does not know refuses the login).
TRANSACTION_TIMEOUT_FROM = 170000
TRANSACTION_TIMEOUT_OFF = "SET transaction_timeout = 0"


class PostgresDialect(PostgresCatalog):
    """SQL text for PostgreSQL 14+ (psycopg `%(name)s` parameters)."""

    name = "postgresql"
    sqlglot_dialect = "postgres"
    supports_physical_split = True
    supports_snapshot_export = True
    supports_db_row_hash = True
    supports_bulk_csv = True
    supports_arrow_batches = True
    arrow_by_default = True  # ADBC's batches, proved by tests/postgres on every fetch path
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

    def physical_value(self, bound: Bound) -> object:
        """A block number as the first tuple id of that block, `(block,0)`."""
        return f"({bound},0)"

    def value(self, column: Column) -> str:
        """The column as its kind reads it: money as numeric (exact: its text is locale
        text such as `-$92,233,720,368,547,758.08`, which BigQuery cannot sum)."""
        col = self.quote(column.name)
        return f"CAST({col} AS numeric)" if column.native_type == "money" else col

    def select_chunk(self, plan: TablePlan, chunk: Chunk) -> Query:
        # Generic path (Python rows or Arrow batches): values in their own types, except
        # text-like columns (read as their text output), floats (widened to float8, as the
        # bulk path prints them) and oid (unsigned 32-bit, which Arrow would read as a
        # signed int32: widened to int8).
        exprs = []
        for column in plan.columns:
            col = self.value(column)
            if column.kind.is_text:
                exprs.append(f"CAST({col} AS text)")
            elif column.kind is ColumnKind.FLOAT:
                exprs.append(f"CAST({col} AS float8)")
            elif column.kind is ColumnKind.INTEGER and column.native_type not in _SIGNED_INTS:
                exprs.append(f"CAST({col} AS int8)")
            else:
                exprs.append(col)
        return self.chunk_select(plan, chunk, ", ".join(exprs))

    def figure_expressions(self, columns: Sequence[Column]) -> str:
        # SUM has no oid variant: integers other than int2/4/8 are summed as int8.
        return "COUNT(*)" + "".join(
            f", SUM(CAST({self.value(c)} AS int8))"
            if c.kind is ColumnKind.INTEGER and c.native_type not in _SIGNED_INTS
            else f", SUM({self.value(c)})"
            for c in columns
        )

    def copy_expression(self, column: Column, position: int) -> str:
        """What the COPY query selects for `column` (at `position`): an expression whose COPY
        text is the cell as canonical/cells.py writes it (`cell_expression`'s text, or the value
        itself where COPY prints it the same, see _COPY_AS_IS)."""
        col = self.value(column)
        if column.native_type in _COPY_AS_IS:
            return col
        if column.native_type in _COPY_CHECKED:
            if column.kind is ColumnKind.DECIMAL:
                return decimal_checked(col, position, as_text=False, ranged=unbounded(column))
            return within_years(col, column.native_type, col, as_text=False)
        return self.cell_expression(column, position)

    def cell_expression(self, column: Column, position: int) -> str:
        """The column's CSV cell text as canonical/cells.py writes it, without quoting (NULL
        stays NULL). A DECIMAL's refusal names the column through the parameter
        `column_<position>` (`column_labels`)."""
        col = self.value(column)
        kind = column.kind
        if kind is ColumnKind.FLOAT:
            return f"CAST(CAST({col} AS float8) AS text)"
        if kind is ColumnKind.TIMESTAMP:
            text = f"CAST(({col} AT TIME ZONE 'UTC') AS text) || '+00:00'"
            return within_years(col, "timestamptz", text)
        if kind is ColumnKind.DATETIME:
            return within_years(col, "timestamp", f"CAST({col} AS text)")
        if kind is ColumnKind.DATE:
            return within_years(col, "date", f"CAST({col} AS text)")
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
            return decimal_checked(col, position, as_text=True, ranged=unbounded(column))
        if kind is ColumnKind.BYTES:
            return base64_text(col)
        return f"CAST({col} AS text)"

    @staticmethod
    def column_labels(columns: Sequence[Column]) -> dict[str, str]:
        """The bound values naming each DECIMAL column in its refusal (`_decimal_checked`):
        names reach the SQL text only as quoted identifiers, never as string literals."""
        return {
            f"column_{i}": f"column {c.name!r}"
            for i, c in enumerate(columns)
            if c.kind is ColumnKind.DECIMAL
        }

    def record_expression(self, columns: Sequence[Column]) -> str:
        """The whole CSV record in SQL, for database-side row hashes (canonical/rowhash.py)."""
        cells = []
        for position, column in enumerate(columns):
            cell = self.cell_expression(column, position)
            if column.kind.is_text:
                cell = f"""'"' || replace({cell}, '"', '""') || '"'"""
            cells.append(f"COALESCE({cell}, %(null_marker)s)")
        return "concat_ws(',', " + ", ".join(cells) + ")"

    def copy_chunk(self, plan: TablePlan, chunk: Chunk, options: BulkOptions) -> Query:
        """COPY (SELECT formatted cells) TO STDOUT as CSV, text cells always quoted."""
        exprs = [f"{self.copy_expression(c, i)} AS c{i}" for i, c in enumerate(plan.columns)]
        if options.row_hash_in_db:
            exprs.append(f"md5({self.record_expression(plan.columns)}) AS row_hash")
        forced = [f"c{i}" for i, c in enumerate(plan.columns) if c.kind.is_text]
        force = f", FORCE_QUOTE ({', '.join(forced)})" if forced else ""
        select = self.chunk_select(plan, chunk, ", ".join(exprs))
        sql = f"COPY ({select.sql}) TO STDOUT (FORMAT csv, NULL %(null_marker)s{force})"
        labels = self.column_labels(plan.columns)
        return Query(sql, {**select.params, **labels, "null_marker": options.null_marker})

    # -- the comparator (canonical/digest.py is the reference) -------------------------------

    def compare_cell(self, column: Column) -> str:
        col = self.value(column)
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
