"""SQLite (standard library): the embedded default and the demo's engine.

SQLite has one schema per attached database (`main` here), dynamic typing, and a rowid on
every table except WITHOUT ROWID ones; chunks are rowid ranges. Declared types are mapped
by SQLite's own affinity rules (https://www.sqlite.org/datatype3.html section 3.1); values
that do not fit their column's kind fail the table instead of being guessed at.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

from exporter.errors import ERR_DATABASE, ERR_DATABASE_FILE_MISSING, ExporterError, error
from exporter.model import Chunk, ChunkBounds, Column, ColumnKind, TablePlan, TableRef
from exporter.sources import register
from exporter.sources.base import DbConn, Source
from exporter.sources.dialect import Dialect, Figures, Query
from exporter.sources.probes import Probe, answers, catalog_readable, select_nothing
from exporter.sources.ranges import split_int_range
from exporter.sources.sqlite_functions import register as register_functions
from exporter.sources.values import RowBatches

# SQLite's names for the rowid, in the order tried. https://www.sqlite.org/lang_createtable.html
ROWID_NAMES = ("_rowid_", "rowid", "oid")


def _all_integers(columns: Sequence[Column]) -> bool:
    return all(c.kind is ColumnKind.INTEGER for c in columns)


class SqliteDialect(Dialect):
    """SQL text for SQLite (named parameters, `:name`)."""

    name = "sqlite"
    sqlglot_dialect = "sqlite"
    supports_physical_split = True
    default_schemas = ("main",)
    bind_style = ":{}"

    def list_tables(self, schema: str | None) -> Query:
        # sqlite_schema lists tables; sqlite_% are internal. https://www.sqlite.org/schematab.html
        return Query(
            f"SELECT :schema, name FROM {self.quote(schema or 'main')}.sqlite_master "
            "WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            {"schema": schema or "main"},
        )

    def attached_schemas(self) -> Query:
        """Rows (schema,) of the attached databases: `main`, `temp` and any ATTACHed one.
        https://www.sqlite.org/pragma.html#pragma_database_list"""
        return Query("SELECT name FROM pragma_database_list")

    def table_columns(self, table: TableRef) -> Query:
        # https://www.sqlite.org/pragma.html#pragfunc (table-valued pragma functions).
        # table_xinfo, not table_info: it also lists generated columns (hidden 2: virtual,
        # 3: stored); hidden 1 are a virtual table's hidden columns, not part of its rows.
        return Query(
            'SELECT name, type, NULL, NULL, "notnull" FROM pragma_table_xinfo(:table, :schema) '
            "WHERE hidden IN (0, 2, 3) ORDER BY cid",
            {"table": table.name, "schema": table.schema},
        )

    def primary_key(self, table: TableRef) -> Query:
        return Query(
            "SELECT name FROM pragma_table_info(:table, :schema) WHERE pk > 0 ORDER BY pk",
            {"table": table.name, "schema": table.schema},
        )

    def table_size_bytes(self, table: TableRef) -> Query:
        # The dbstat virtual table: https://www.sqlite.org/dbstat.html
        return Query(
            "SELECT SUM(pgsize) FROM dbstat WHERE name = :table AND schema = :schema",
            {"table": table.name, "schema": table.schema},
        )

    @staticmethod
    def rowid_name(column_names: Iterable[str]) -> str | None:
        """The first of SQLite's rowid names that no column shadows, or None when a table has
        columns named all three. https://www.sqlite.org/lang_createtable.html#rowid: "If a
        table contains a user defined column named rowid, oid or _rowid_, then that name
        always refers to the explicitly declared column"."""
        taken = {name.lower() for name in column_names}
        return next((n for n in ROWID_NAMES if n not in taken), None)

    def figure_expressions(self, columns: Sequence[Column]) -> str:
        """Integer columns only: COUNT(*), then per column the SUM of its high 32 bits and of
        its low 32 bits. SQLite's SUM of integers fails with "integer overflow" past
        2**63 - 1, which two rows of valid INTEGER values reach; the halves cannot overflow
        below 2**31 rows. `>>` keeps the sign: https://www.sqlite.org/lang_expr.html#operators"""
        if not _all_integers(columns):
            return super().figure_expressions(columns)
        return "COUNT(*)" + "".join(
            f", SUM({self.quote(c.name)} >> 32), SUM({self.quote(c.name)} & 4294967295)"
            for c in columns
        )

    def parse_figures(self, row: Sequence[Any], columns: Sequence[Column]) -> Figures:
        if not _all_integers(columns):
            return super().parse_figures(row, columns)
        halves = row[1:]
        sums: list[Any] = [
            None if high is None else int(high) * 2**32 + int(low)
            for high, low in zip(halves[::2], halves[1::2], strict=True)
        ]
        return int(row[0] or 0), sums

    def rowid_range(self, table: TableRef, rowid: str = "_rowid_") -> Query:
        """One row (min rowid, max rowid); `rowid` is a name from `rowid_name`."""
        return Query(f"SELECT MIN({rowid}), MAX({rowid}) FROM {self.qualified(table)}")

    def locator_for(self, plan: TablePlan) -> str:
        return self.rowid_name(c.name for c in plan.columns) or "_rowid_"

    def select_chunk(self, plan: TablePlan, chunk: Chunk) -> Query:
        columns = ", ".join(self.quote(c.name) for c in plan.columns)
        return self.chunk_select(plan, chunk, columns)

    def column_kind(self, native_type: str, precision: int | None, scale: int | None) -> ColumnKind:
        declared = native_type.upper()
        if "INT" in declared:
            return ColumnKind.INTEGER
        if any(t in declared for t in ("CHAR", "CLOB", "TEXT")):
            return ColumnKind.STRING
        if "BLOB" in declared:
            return ColumnKind.BYTES
        if any(t in declared for t in ("REAL", "FLOA", "DOUB")):
            return ColumnKind.FLOAT
        if declared.startswith(("BOOL",)):
            return ColumnKind.BOOLEAN
        if any(t in declared for t in ("NUMERIC", "DECIMAL")):
            return ColumnKind.FLOAT  # NUMERIC affinity stores non-integers as REAL
        return ColumnKind.STRING  # no declared type: whatever was stored, as text

    # -- the comparator: the comparison form by Python functions (sqlite_functions.py) -----

    def compare_cell(self, column: Column) -> str:
        return f"exporter_cell('{column.kind.value}', {self.quote(column.name)})"

    def row_digest(self, columns: Sequence[Column]) -> tuple[str, dict[str, object]]:
        values = ", ".join(self.quote(column.name) for column in columns)
        kinds = ",".join(column.kind.value for column in columns)
        return f"exporter_digest(:kinds, {values})", {"kinds": kinds}

    def digest_sum(self, expression: str) -> str:
        return f"exporter_sum({expression})"

    def modulo(self, left: str, right: str) -> str:
        return f"{left} % {right}"

    def key_term(self, column: Column) -> str:
        # Text in byte order even where a column declares another collation (NOCASE, RTRIM).
        # https://www.sqlite.org/datatype3.html#collating_sequences
        if column.kind.is_text:
            return f"{self.quote(column.name)} COLLATE BINARY"
        return self.quote(column.name)

    def sample_keys(self, table: TableRef, key: Sequence[Column], percent: float) -> Query:
        # SQLite cannot sample pages: each row is kept with probability `percent` %.
        # https://www.sqlite.org/lang_corefunc.html#random
        names = ", ".join(self.quote(column.name) for column in key)
        return Query(
            f"SELECT {names} FROM {self.qualified(table)} "
            "WHERE abs(random() % 1000000) < :per_million",
            {"per_million": round(percent * 10_000)},
        )


class SqliteConn(DbConn):
    """A sqlite3 connection."""

    def __init__(self, path: str) -> None:
        # mode=ro: an export never writes to the source. https://www.sqlite.org/uri.html
        self.raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        register_functions(self.raw)

    def fetch_all(self, query: Query) -> list[tuple[Any, ...]]:
        return self.raw.execute(query.sql, dict(query.params)).fetchall()

    def stream(self, query: Query, batch_rows: int) -> RowBatches:
        cursor = self.raw.execute(query.sql, dict(query.params))
        try:
            while batch := cursor.fetchmany(batch_rows):
                yield batch
        finally:
            cursor.close()

    def close(self) -> None:
        self.raw.close()


@register
class SqliteSource(Source):
    """A SQLite database file."""

    dialect: ClassVar[SqliteDialect] = SqliteDialect()
    worker_modules: ClassVar[tuple[str, ...]] = ("exporter.sources.sqlite",)

    def list_tables(self, conn: DbConn, schemas: Sequence[str]) -> list[TableRef]:
        # A schema that is not attached holds no table: reading its sqlite_master would be
        # an error ("no such table"), so it is left out (and the planner names it).
        attached = {row[0].lower() for row in conn.fetch_all(self.dialect.attached_schemas())}
        known = [schema for schema in schemas if schema.lower() in attached]
        if schemas and not known:
            return []
        return super().list_tables(conn, known)

    @contextlib.contextmanager
    def chunk_transaction(self, conn: DbConn, snapshot: str | None) -> Iterator[None]:
        # One read transaction: every query of a chunk sees the same database, as the
        # comparator's figures, then its rows, must. https://www.sqlite.org/lang_transaction.html
        assert isinstance(conn, SqliteConn)
        conn.raw.execute("BEGIN")
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                conn.raw.execute("ROLLBACK")
            raise
        conn.raw.execute("COMMIT")

    def prepare(self) -> None:
        if self.config.create_demo and not self.config.path.exists():
            from exporter.sources.sqlite_demo import build_demo_database

            build_demo_database(self.config.path)

    def connect(self) -> DbConn:
        path = self.config.path
        if not path.is_file():
            raise error(
                ERR_DATABASE_FILE_MISSING,
                path=path,
                hint="check source.path (or set source.create_demo: true for the demo)",
            )
        return SqliteConn(str(path))

    def describe_target(self) -> str:
        return f"sqlite {self.config.path}"

    def server_version(self, conn: DbConn) -> str:
        return f"SQLite {sqlite3.sqlite_version}"

    def explain_error(self, exc: BaseException) -> ExporterError:
        return error(
            ERR_DATABASE,
            target=self.describe_target(),
            detail=exc,
            hint="check source.path and the table names",
        )

    def size_bytes(self, conn: DbConn, table: TableRef) -> int:
        try:
            return super().size_bytes(conn, table)
        except sqlite3.OperationalError:  # built without dbstat: estimate from the row count
            ((count,),) = conn.fetch_all(self.dialect.count_rows(table))
            return int(count) * 100

    def physical_ranges(
        self, conn: DbConn, table: TableRef, parts: int
    ) -> list[ChunkBounds] | None:
        names = [row[0] for row in conn.fetch_all(self.dialect.table_columns(table))]
        rowid = self.dialect.rowid_name(names)
        if rowid is None:
            return None  # every rowid name is a user column: no way to address the rowid
        try:
            lo, hi = conn.fetch_all(self.dialect.rowid_range(table, rowid))[0]
        except sqlite3.OperationalError:
            return None  # WITHOUT ROWID table
        if lo is None:
            return [ChunkBounds("whole")]
        return [ChunkBounds("physical", a, b) for a, b in split_int_range(lo, hi, parts)]

    # -- check: the library, the file and dbstat; nothing cut -----------------------------
    def client_driver(self, conn: DbConn) -> str:
        return f"Python's sqlite3 module, SQLite library {sqlite3.sqlite_version}"

    def probe_privileges(self, conn: DbConn, tables: Sequence[TableRef]) -> list[Probe]:
        path = self.config.path
        opened = Probe(
            f"file {path}", True, f"{path.stat().st_size} bytes, read-only (mode=ro): never written"
        )
        # Sizes come from dbstat (https://www.sqlite.org/dbstat.html) where SQLite has it.
        sized = answers(conn, catalog_readable("dbstat")) is not None
        dbstat = Probe(
            "dbstat",
            sized,
            "table sizes from the pages each table holds"
            if sized
            else "this SQLite lacks it: each table is sized by a COUNT(*), 100 bytes a row",
        )
        return [opened, *super().probe_privileges(conn, tables), dbstat]

    def physical_outlook(self, conn: DbConn, table: TableRef) -> str | None:
        # physical_ranges without reading the rowids: none where columns take every rowid
        # name, nor for a WITHOUT ROWID table (whose rowid does not compile).
        names = [row[0] for row in conn.fetch_all(self.dialect.table_columns(table))]
        rowid = self.dialect.rowid_name(names)
        if rowid is None or answers(conn, select_nothing(self.dialect, table, rowid)) is None:
            return None
        return "physical ranges"
