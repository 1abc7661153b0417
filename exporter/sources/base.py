"""The one interface every database engine implements: a `Source` owns connections (`DbConn`)
and reads the catalog and the rows, with the SQL text of its `Dialect` (dialect.py). Callers
read the dialect's capability flags and never engine names.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from exporter.errors import ERR_DATABASE, ExporterError, error
from exporter.keys import KeyValues, sort_keys
from exporter.model import Chunk, ChunkBounds, Column, TablePlan, TableRef
from exporter.sources.dialect import BulkOptions, Dialect, Figures, Query
from exporter.sources.probes import Probe, probe_selects, probe_snapshot
from exporter.sources.ranges import split_int_range
from exporter.sources.values import BulkLines, LeafPartition, RowBatches, TableSize

SAMPLE_KEYS_PER_CHUNK = 512
"""Sampled keys per chunk. Samples are whole blocks, whose keys come in runs, so many are
needed: with 64, chunks aimed at 100k rows came out 25k to 170k; with 512, 66k to 135k."""
MAX_SAMPLE_KEYS = 500_000
"""Keeps the planner's memory bounded on the largest tables."""


class DbConn(ABC):
    """One open connection of a Source."""

    @abstractmethod
    def fetch_all(self, query: Query) -> list[tuple[Any, ...]]:
        """All rows of a (small) query."""

    @abstractmethod
    def stream(self, query: Query, batch_rows: int) -> RowBatches:
        """Rows of a large query in batches of at most `batch_rows`; memory stays bounded."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    def reusable(self) -> bool:
        """Whether the next chunk may use this connection (asked before each chunk and after
        a failed one): still open, and not left inside a transaction, a half-read result or
        another session state a chunk sets (default: yes)."""
        return True


class Source(ABC):
    """Connections and catalog facts of one engine; one instance per process."""

    dialect: ClassVar[Dialect]
    # Modules a worker process needs for this engine (its driver): imported once by the
    # process workers fork from, before the first chunk (runtime/worker_server.py).
    worker_modules: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any) -> None:
        self.config = config

    @classmethod
    def loader_library_dir(cls, source_block: Mapping[str, Any]) -> str | None:
        """A directory the dynamic loader must search before Python starts, for the `source:`
        block of a config file as written (not validated); None: nothing is needed."""
        return None

    # -- connections ------------------------------------------------------------------------
    def prepare(self) -> None:
        """One-time setup by the coordinator before planning (default: nothing)."""
        return None

    @abstractmethod
    def connect(self) -> DbConn:
        """Open a connection, with the session settings output must not depend on."""

    def open(self) -> DbConn:
        """connect(), with a driver's error turned into a SourceError."""
        try:
            return self.connect()
        except ExporterError:
            raise
        except Exception as exc:
            raise self.explain_error(exc) from exc

    @contextlib.contextmanager
    def session(self) -> Iterator[DbConn]:
        """A connection closed on exit, with driver errors turned into SourceErrors."""
        conn = self.open()
        try:
            yield conn
        except ExporterError:
            raise
        except Exception as exc:
            raise self.explain_error(exc) from exc
        finally:
            conn.close()

    def explain_error(self, exc: BaseException) -> ExporterError:
        """A driver error as one line with a likely fix."""
        detail = " ".join(str(exc).split()) or type(exc).__name__
        return error(ERR_DATABASE, target=self.describe_target(), detail=detail)

    def describe_target(self) -> str:
        """Where this source points, for messages (never includes a password)."""
        return self.dialect.name

    @abstractmethod
    def server_version(self, conn: DbConn) -> str:
        """The server's version string."""

    # -- catalog ----------------------------------------------------------------------------
    def list_tables(self, conn: DbConn, schemas: Sequence[str]) -> list[TableRef]:
        """Base tables of the given schemas (all user schemas when empty)."""
        wanted: list[str | None] = [*schemas] or [*self.dialect.default_schemas] or [None]
        found: set[TableRef] = set()
        for schema in wanted:
            for owner, name in conn.fetch_all(self.dialect.list_tables(schema)):
                found.add(TableRef(owner, name))
        return sorted(found)

    def describe(self, conn: DbConn, table: TableRef) -> list[Column]:
        """The table's columns, in order, with their kinds."""
        columns = []
        for name, native, precision, scale, not_null in conn.fetch_all(
            self.dialect.table_columns(table)
        ):
            p = int(precision) if precision is not None else None
            s = int(scale) if scale is not None else None
            kind = self.dialect.column_kind(native, p, s)
            columns.append(Column(name, native, kind, not bool(not_null), p, s))
        return columns

    def primary_key(self, conn: DbConn, table: TableRef) -> list[str]:
        """Primary-key column names in key order (empty when there is none)."""
        return [row[0] for row in conn.fetch_all(self.dialect.primary_key(table))]

    def unique_keys(self, conn: DbConn, table: TableRef) -> dict[str, list[str]]:
        """Unique keys other than the primary key: name -> column names in key order."""
        query = self.dialect.unique_keys(table)
        keys: dict[str, list[str]] = {}
        for name, column in conn.fetch_all(query) if query is not None else []:
            keys.setdefault(str(name), []).append(str(column))
        return keys

    def range_figures(
        self, conn: DbConn, plan: TablePlan, chunk: Chunk, columns: Sequence[Column]
    ) -> list[Figures]:
        """COUNT(*) and exact sums of `columns` over one chunk's range (one per leaf partition
        it reads whole), at the snapshot the session or the query reads."""
        rows = conn.fetch_all(self.dialect.range_figures(plan, chunk, columns))
        return [self.dialect.parse_figures(row, columns) for row in rows]

    def size_bytes(self, conn: DbConn, table: TableRef) -> int:
        """Storage size of the table in bytes."""
        rows = conn.fetch_all(self.dialect.table_size_bytes(table))
        return int(rows[0][0] or 0) if rows else 0

    def table_size(self, conn: DbConn, table: TableRef) -> TableSize:
        """`size_bytes`, with what it rests on where that is less than the storage itself."""
        return TableSize(self.size_bytes(conn, table))

    def physical_ranges(
        self, conn: DbConn, table: TableRef, parts: int
    ) -> list[ChunkBounds] | None:
        """About `parts` physical ranges covering the table, or None when it has no locator."""
        return None

    def physical_split(
        self, conn: DbConn, table: TableRef, parts: int, leaf: TableRef | None = None
    ) -> tuple[list[ChunkBounds] | None, str]:
        """About `parts` physical ranges of `table`, or of its leaf partition `leaf`, and
        what they were cut from, for the plan's reason (default: `physical_ranges` of the
        leaf, a table of its own)."""
        return self.physical_ranges(conn, leaf or table, parts), "physical ranges"

    def partitions(self, conn: DbConn, table: TableRef) -> list[LeafPartition]:
        """The leaf partitions holding a partitioned table's rows, in name order; empty for a
        table that is not partitioned."""
        return []

    def key_ranges(
        self, conn: DbConn, table: TableRef, column: str, parts: int
    ) -> list[ChunkBounds]:
        """About `parts` ranges of an integer key covering every value (the ends are open)."""
        lo, hi = conn.fetch_all(self.dialect.key_range(table, column))[0]
        if lo is None:
            return [ChunkBounds("whole")]
        return [ChunkBounds("key", a, b) for a, b in split_int_range(int(lo), int(hi), parts)]

    def sample_boundaries(
        self,
        conn: DbConn,
        table: TableRef,
        key: Sequence[Column],
        rows: int,
        parts: int,
        *,
        native: bool = False,
    ) -> list[KeyValues]:
        """Up to `parts - 1` distinct cut points, in key order, at quantiles of a sample of
        `table`'s `key` (about `rows` rows): nothing sorts or scans a whole table to plan it.

        In binary order, sorted here (the comparator's: both databases must cut alike;
        TypeError where the values have no common order, text and numbers in one SQLite
        column), or with `native` in the columns' own order, sorted by the database (the
        exporter's: ranges its indexes serve, whatever the collation)."""
        wanted = min(MAX_SAMPLE_KEYS, parts * SAMPLE_KEYS_PER_CHUNK)
        percent = min(100.0, 100.0 * wanted / max(rows, 1))
        sampler = self.dialect.sorted_sample_keys if native else self.dialect.sample_keys
        while True:
            sample = [tuple(row) for row in conn.fetch_all(sampler(table, key, percent))]
            keys = list(dict.fromkeys(sample)) if native else sort_keys(sample)
            if len(keys) >= min(parts * 4, rows) or percent >= 100.0:
                break
            percent = min(100.0, percent * 8)  # a sample of whole blocks came out too small
        if len(keys) < 2:
            return []
        cuts = dict.fromkeys(keys[len(keys) * i // parts] for i in range(1, parts))
        return list(cuts)

    def estimate_rows(self, conn: DbConn, table: TableRef) -> int:
        """The catalog's estimate of the table's rows, or its count where there is none."""
        rows = conn.fetch_all(self.dialect.row_estimate(table))
        estimate = rows[0][0] if rows else None
        if estimate is None or float(estimate) < 0:
            ((estimate,),) = conn.fetch_all(self.dialect.count_rows(table))
        return int(estimate)

    # -- snapshots and chunks ---------------------------------------------------------------
    @contextlib.contextmanager
    def exported_snapshot(self) -> Iterator[str | None]:
        """Hold a snapshot open for the whole run and yield its id (None: not supported)."""
        yield None

    def snapshot_in_query(self, conn: DbConn, table: TableRef, snapshot: str) -> bool:
        """Whether `table`'s queries may name `snapshot` themselves (Dialect.snapshot_read)
        rather than set the session to it (default: no)."""
        return False

    @contextlib.contextmanager
    def chunk_transaction(self, conn: DbConn, snapshot: str | None) -> Iterator[None]:
        """Run one chunk's reads inside a transaction that sees `snapshot`."""
        yield

    def compare_transaction(
        self, conn: DbConn, snapshot: str | None
    ) -> contextlib.AbstractContextManager[None]:
        """`chunk_transaction` for the comparator's queries, with whatever session settings
        suit many of them running at once (default: none)."""
        return self.chunk_transaction(conn, snapshot)

    def arrow_batches(
        self, conn: DbConn, query: Query, snapshot: str | None, batch_rows: int
    ) -> Generator[Any, None, None]:
        """The rows of `query` as Arrow record batches of bounded size (`batch_rows` rows where
        the driver counts in rows), read in a transaction that sees `snapshot` (only where
        `dialect.supports_arrow_batches`)."""
        raise NotImplementedError(f"{self.dialect.name} has no Arrow read path")

    def bulk_csv(
        self, conn: DbConn, plan: TablePlan, chunk: Chunk, options: BulkOptions
    ) -> BulkLines:
        """The chunk as CSV lines formatted by the database, read inside `chunk_transaction`
        (only where `dialect.supports_bulk_csv`)."""
        raise NotImplementedError(f"{self.dialect.name} has no bulk CSV read path")

    # -- check (export/preflight.py; sources/probes.py): told without cutting anything -----
    def client_driver(self, conn: DbConn) -> str:
        """The client library read through, its version and mode (default: not named)."""
        return ""

    def probe_privileges(self, conn: DbConn, tables: Sequence[TableRef]) -> list[Probe]:
        """`check`'s lines on what this session may do that an export of `tables` needs or
        would use (default: SELECT on each table, and one snapshot for every chunk)."""
        return [*probe_selects(self, conn, tables), probe_snapshot(self, conn)]

    def physical_outlook(self, conn: DbConn, table: TableRef) -> str | None:
        """What physical_split would cut `table`'s ranges from (its basis), or None where it
        has none: told from the catalog, without cutting any (default: the dialect's flag)."""
        return "physical ranges" if self.dialect.supports_physical_split else None
