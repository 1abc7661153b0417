"""PostgreSQL catalog statements: tables, columns and their kinds, keys, sizes, partitions.
The base of PostgresDialect (postgres_sql.py), which adds how rows are read. No I/O here:
every statement is parsed with sqlglot by tests/sql.
"""

from __future__ import annotations

from exporter.model import ColumnKind, TableRef
from exporter.sources.dialect import Dialect, Query

# Base type name -> kind; anything else is written as its text output (STRING).
_KINDS: dict[str, ColumnKind] = {
    "int2": ColumnKind.INTEGER,
    "int4": ColumnKind.INTEGER,
    "int8": ColumnKind.INTEGER,
    "oid": ColumnKind.INTEGER,
    "numeric": ColumnKind.DECIMAL,
    "money": ColumnKind.DECIMAL,  # read as numeric (PostgresDialect.value), which is exact
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


class PostgresCatalog(Dialect):
    """What PostgreSQL's catalog says of a table, as SQL text."""

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
        # money: a 64-bit count of cents, at most 92233720368547758.07, so numeric(19, 2)
        # (two decimals under lc_monetary C, which SESSION_SETTINGS sets).
        # https://www.postgresql.org/docs/current/datatype-money.html
        money = "n.nspname = 'pg_catalog' AND base.typname = 'money'"
        return Query(
            "SELECT a.attname, CASE WHEN n.nspname = 'pg_catalog' THEN base.typname "
            "ELSE n.nspname || '.' || base.typname END, "
            f"CASE WHEN {numeric} THEN (({typmod} - 4) >> 16) & 65535 WHEN {money} THEN 19 END, "
            f"CASE WHEN {numeric} THEN ({typmod} - 4) & 65535 WHEN {money} THEN 2 END, "
            "a.attnotnull "
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

    def unique_keys(self, table: TableRef) -> Query:
        # Unique indexes on plain columns, not partial, not the primary key.
        # https://www.postgresql.org/docs/current/catalog-pg-index.html
        return Query(
            "SELECT ic.relname, a.attname FROM pg_catalog.pg_index AS i "
            "JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid "
            "JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = CAST(%(rel)s AS regclass) AND i.indisunique "
            "AND NOT i.indisprimary AND i.indpred IS NULL AND i.indexprs IS NULL "
            "ORDER BY 1, array_position(CAST(i.indkey AS int2[]), a.attnum)",
            self._regclass(table),
        )

    def table_size_bytes(self, table: TableRef) -> Query:
        # pg_table_size: heap + TOAST + free space map. https://www.postgresql.org/docs/current/
        # functions-admin.html#FUNCTIONS-ADMIN-DBSIZE
        return Query("SELECT pg_table_size(CAST(%(rel)s AS regclass))", self._regclass(table))

    def partition_leaves(self, table: TableRef) -> Query:
        """Rows (schema, name, bytes, relkind) of the table's leaf partitions at any depth,
        the DEFAULT partition included; none for a table that is not partitioned (a plain
        table is its own leaf at level 0). pg_partition_tree needs PostgreSQL 12.
        https://www.postgresql.org/docs/current/functions-info.html#FUNCTIONS-INFO-PARTITION
        """
        return Query(
            "SELECT n.nspname, c.relname, pg_table_size(c.oid), c.relkind "
            "FROM pg_catalog.pg_partition_tree(CAST(%(rel)s AS regclass)) AS t "
            "JOIN pg_catalog.pg_class AS c ON c.oid = t.relid "
            "JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE t.isleaf AND t.level > 0 ORDER BY 1, 2",
            self._regclass(table),
        )

    def heap_blocks(self, table: TableRef) -> Query:
        """One row (blocks,): pages of the main fork, the domain of ctid block numbers."""
        return Query(
            "SELECT pg_relation_size(CAST(%(rel)s AS regclass)) "
            "/ CAST(current_setting('block_size') AS bigint)",
            self._regclass(table),
        )

    def column_kind(self, native_type: str, precision: int | None, scale: int | None) -> ColumnKind:
        return _KINDS.get(native_type, ColumnKind.STRING)

    def row_estimate(self, table: TableRef) -> Query:
        # The planner's estimate, -1 before the first ANALYZE (pg_class.reltuples).
        return Query(
            "SELECT reltuples FROM pg_catalog.pg_class WHERE oid = CAST(%(rel)s AS regclass)",
            self._regclass(table),
        )
