"""How an Oracle table is stored, read from the data dictionary, and where its ROWID ranges
are cut: the planning ladder's facts, at next to no cost on a table of any size.

Sizes: the allocated bytes of the table's segments, LOB segments included (USER_SEGMENTS for
the session user's own tables, DBA_SEGMENTS where readable), else the statistics' BLOCKS times
the block size, else NUM_ROWS x AVG_ROW_LEN; a table never analyzed and not visible in the
segment views is flagged, never silently taken as empty.
ROWID ranges: from the extents map (DBA_EXTENTS), grouped to about the wanted number of
ranges; where it is not readable, from a seeded sample of whole blocks (SAMPLE BLOCK), of
which only the sample is sorted. Either way the ranges are half-open between consecutive cut
points, the first and last open-ended, so every row is read exactly once.
SQL text: oracle_catalog_sql.py.
"""

from __future__ import annotations

import bisect
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from exporter.model import ChunkBounds, TableRef
from exporter.sources.base import DbConn
from exporter.sources.oracle_catalog_sql import DEFAULT_BLOCK_SIZE, OracleCatalog
from exporter.sources.oracle_errors import error_text
from exporter.sources.values import LeafPartition, TableSize

log = logging.getLogger(__name__)

SAMPLED_ROWIDS_PER_RANGE = 64
"""Sampled ROWIDs per wanted range: whole blocks come in runs, so a few dozen each."""
MIN_SAMPLE_PERCENT = 0.000001
"""SAMPLE BLOCK's smallest percentage (the grammar takes .000001 to 100, exclusive)."""


@dataclass
class Privileges:
    """What this session may read, learnt once per table lookup (a failed query is a no)."""

    session_user: str
    dba_views: bool | None = None
    """Whether the DBA size views (DBA_SEGMENTS, DBA_LOBS, DBA_INDEXES) answer (None: not
    tried yet)."""
    extents: bool | None = None
    """Whether DBA_EXTENTS answers (None: not tried yet): granted apart from the others."""


REFUSALS = ("ORA-00942", "ORA-01031")
"""What a session that may not read a view is told: the view is then taken as not readable."""


def _try(conn: DbConn, query: Any) -> list[tuple[Any, ...]] | None:
    """The rows, or None where the session may not read a view (ORA-00942, ORA-01031); any
    other error is said in a warning (never silently taken for a missing privilege), and
    the ladder's next step is taken all the same."""
    try:
        return conn.fetch_all(query)
    except Exception as exc:  # noqa: BLE001 - the driver's error
        text = " ".join(error_text(exc).split())
        if not any(code in text for code in REFUSALS):
            log.warning("planning query failed, taking the next way: %s", text)
        return None


def segment_bytes(
    conn: DbConn, dialect: OracleCatalog, table: TableRef, seen: Privileges
) -> int | None:
    """Allocated bytes of the table's segments, LOBs included; None where not visible."""
    if table.schema == seen.session_user:
        rows = _try(conn, dialect.segment_bytes(table, own=True))
        if rows and rows[0][0]:
            return int(rows[0][0])
    if seen.dba_views is False:
        return None
    rows = _try(conn, dialect.segment_bytes(table, own=False))
    seen.dba_views = rows is not None
    return int(rows[0][0]) if rows and rows[0][0] else None


def statistics_bytes(blocks: Any, num_rows: Any, avg_row_len: Any, block_size: Any) -> int | None:
    """The statistics' estimate: BLOCKS times the block size (the space the rows take, as a
    full scan reads it), else NUM_ROWS x AVG_ROW_LEN; None where there are no statistics."""
    if blocks is not None:
        return int(blocks) * int(block_size or DEFAULT_BLOCK_SIZE)
    if num_rows is not None and avg_row_len is not None:
        return int(num_rows) * int(avg_row_len)
    return None


def block_size(conn: DbConn, dialect: OracleCatalog, table: TableRef) -> int:
    """The block size of the table's tablespace where USER_TABLESPACES shows it, else
    DB_BLOCK_SIZE's default (a count of blocks from a size in bytes needs it)."""
    rows = conn.fetch_all(dialect.table_statistics(table))
    size = rows[0][4] if rows else None
    return int(size) if size else DEFAULT_BLOCK_SIZE


def table_size(
    conn: DbConn, dialect: OracleCatalog, table: TableRef, seen: Privileges
) -> TableSize:
    """The table's size and, where it is not the allocated storage, what it rests on."""
    allocated = segment_bytes(conn, dialect, table, seen)
    if allocated is not None:
        return TableSize(allocated)
    ((blocks, num_rows, avg_len, analyzed, block_size),) = conn.fetch_all(
        dialect.table_statistics(table)
    )
    estimate = statistics_bytes(blocks, num_rows, avg_len, block_size)
    if not analyzed or estimate is None:
        return TableSize(
            0,
            "never analyzed and its segments are not visible: size unknown; gather "
            "statistics (DBMS_STATS.GATHER_TABLE_STATS) or grant SELECT on DBA_SEGMENTS",
        )
    return TableSize(estimate, "estimated from optimizer statistics")


def leaf_partitions(
    conn: DbConn, dialect: OracleCatalog, table: TableRef, seen: Privileges
) -> list[LeafPartition]:
    """The partitions (or subpartitions) that hold the table's rows, named (level, name)
    as OracleCatalog.leaf_clause reads them, with their segment sizes where visible (LOB
    partition segments included), else their statistics' (which count no out-of-line LOB
    data: such a leaf is planned smaller than it reads)."""
    rows = conn.fetch_all(dialect.leaf_partitions(table))
    if not rows:
        return []
    allocated: dict[str, int] = {}
    own = table.schema == seen.session_user
    for scope_own in (True, False) if own else (False,):
        if not scope_own and seen.dba_views is False:
            break
        found = _try(conn, dialect.leaf_segment_bytes(table, own=scope_own))
        if found is None:  # a LOB partition view refused: the table's own segments alone
            found = _try(conn, dialect.leaf_segment_bytes(table, own=scope_own, lobs=False))
        if not scope_own:
            seen.dba_views = found is not None
        if found:
            for name, size in found:  # a leaf's own segment, then its LOB segments
                allocated[name] = allocated.get(name, 0) + int(size or 0)
            break
    leaves = []
    for level, name, blocks, num_rows, avg_len, block_size in rows:
        size = allocated.get(name)
        if size is None:
            size = statistics_bytes(blocks, num_rows, avg_len, block_size) or 0
        leaves.append(LeafPartition(TableRef(level, name), size, physical=True))
    return leaves


def group_extents(extents: Sequence[tuple[str, int]], parts: int) -> list[str]:
    """Cut points from (first ROWID, blocks) of extents in ROWID order: for each of the
    `parts - 1` even splits of the blocks, the extent start nearest to it (a start can serve
    only once, so a few large extents give fewer, never emptier, ranges)."""
    before: list[int] = []  # blocks in the extents before each one
    total = 0
    for _, blocks in extents:
        before.append(total)
        total += int(blocks)
    if parts < 2 or total == 0:
        return []
    chosen: list[int] = []
    for k in range(1, parts):
        target = total * k / parts
        i = bisect.bisect_left(before, target)
        near = min(
            (j for j in (i - 1, i) if 0 < j < len(before)),
            key=lambda j: abs(before[j] - target),
            default=None,
        )
        if near is not None and near not in chosen:
            chosen.append(near)
    return [extents[j][0] for j in sorted(chosen)]


def quantile_cuts(rowids: Sequence[str], parts: int) -> list[str]:
    """Up to `parts - 1` distinct cut points at quantiles of sorted sampled ROWIDs."""
    if parts < 2 or len(rowids) < 2:
        return []
    return list(dict.fromkeys(rowids[len(rowids) * i // parts] for i in range(1, parts)))


def rowid_bounds(cuts: Sequence[str]) -> list[ChunkBounds] | None:
    """Half-open ROWID ranges between cut points in ROWID order, the first open below and
    the last open above, so that together they hold every row (None: no cut point)."""
    if not cuts:
        return None
    edges: list[str | None] = [None, *cuts, None]
    return [ChunkBounds("physical", lo, hi) for lo, hi in zip(edges, edges[1:], strict=False)]


Call = Callable[[str, dict[str, Any]], None]
"""Runs a PL/SQL procedure by name with keyword arguments (a driver cursor's callproc)."""


def parallel_execute_cuts(
    conn: DbConn, dialect: OracleCatalog, call: Call, table: TableRef, blocks_per_range: int
) -> list[str]:
    """Cut points from the chunks DBMS_PARALLEL_EXECUTE.CREATE_CHUNKS_BY_ROWID makes of the
    table's extents, of about `blocks_per_range` blocks each: every chunk's first ROWID but
    the first. The task it needs is created under a unique name and always dropped (each
    call commits: .../arpls/DBMS_PARALLEL_EXECUTE.html)."""
    task = f"EXPORTER_{uuid.uuid4().hex[:20].upper()}"
    call("DBMS_PARALLEL_EXECUTE.CREATE_TASK", {"task_name": task})
    try:
        call(
            "DBMS_PARALLEL_EXECUTE.CREATE_CHUNKS_BY_ROWID",
            {
                "task_name": task,
                "table_owner": table.schema,
                "table_name": table.name,
                "by_row": False,
                "chunk_size": max(1, blocks_per_range),
            },
        )
        starts = [r for (r,) in conn.fetch_all(dialect.parallel_execute_starts(task))]
    finally:
        call("DBMS_PARALLEL_EXECUTE.DROP_TASK", {"task_name": task})
    return starts[1:]


def parallel_execute_ranges(
    conn: DbConn, dialect: OracleCatalog, call: Call, table: TableRef, blocks_per_range: int
) -> list[ChunkBounds] | None:
    """`parallel_execute_cuts` as ranges; None, with a warning, where the package refused
    (a read-only standby: ORA-16000), for the dictionary's ranges to be used instead."""
    try:
        cuts = parallel_execute_cuts(conn, dialect, call, table, blocks_per_range)
    except Exception as exc:  # noqa: BLE001 - the driver's error, said in the warning
        text = " ".join(error_text(exc).split())
        log.warning("%s: DBMS_PARALLEL_EXECUTE cut no ROWID ranges (%s)", table, text)
        return None
    return rowid_bounds(cuts)


def rowid_ranges(
    conn: DbConn,
    dialect: OracleCatalog,
    table: TableRef,
    leaf: TableRef | None,
    parts: int,
    rows: int,
    seen: Privileges,
) -> tuple[list[ChunkBounds] | None, str]:
    """About `parts` ROWID ranges of the table (or of one leaf partition), and their basis:
    the extents map where DBA_EXTENTS is readable, else a block sample."""
    if seen.extents is not False:
        extents = _try(conn, dialect.extent_starts(table, leaf))
        seen.extents = extents is not None if seen.extents is None else seen.extents
        if extents:
            bounds = rowid_bounds(group_extents([(s, int(b)) for s, b in extents], parts))
            if bounds:
                return bounds, "ROWID ranges from DBA_EXTENTS"
    wanted = parts * SAMPLED_ROWIDS_PER_RANGE
    percent = max(MIN_SAMPLE_PERCENT, min(100.0, 100.0 * wanted / max(rows, 1)))
    while True:
        sample = [r for (r,) in conn.fetch_all(dialect.sampled_rowids(table, leaf, percent))]
        if len(sample) >= min(parts * 4, rows) or percent >= 100.0:
            break
        percent = min(100.0, percent * 8)  # too few blocks came out: a larger sample
    bounds = rowid_bounds(quantile_cuts(sample, parts))
    return bounds, f"ROWID ranges from a {percent:g} % block sample"
