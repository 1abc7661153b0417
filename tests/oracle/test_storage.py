"""The Oracle planning ladder without a server: sizes from segments, then statistics, then a
flag; ROWID cut points from extents, else from a block sample; and ranges that tile a table.

A scripted connection answers each catalog query by the view it reads and refuses the ones a
user without DBA views may not read, the way a real session answers ORA-00942."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporter.model import ChunkBounds, TableRef
from exporter.sources.base import DbConn
from exporter.sources.dialect import Query
from exporter.sources.oracle_sql import OracleDialect
from exporter.sources.oracle_storage import (
    Privileges,
    block_size,
    group_extents,
    leaf_partitions,
    parallel_execute_ranges,
    quantile_cuts,
    rowid_bounds,
    rowid_ranges,
    statistics_bytes,
    table_size,
)
from exporter.sources.values import RowBatches

DIALECT = OracleDialect()
TABLE = TableRef("SALES", "ORDERS")


class _Refused(Exception):
    """What the driver raises for a view the session may not read (ORA-00942)."""


Answer = Callable[[Query], list[tuple[Any, ...]]]


class _Scripted(DbConn):
    """Answers each query with the first answer whose marker is in its SQL text."""

    def __init__(self, answers: dict[str, Answer | list[tuple[Any, ...]]]) -> None:
        self.answers = answers
        self.asked: list[Query] = []

    def fetch_all(self, query: Query) -> list[tuple[Any, ...]]:
        self.asked.append(query)
        for marker, answer in self.answers.items():
            if marker in query.sql:
                return answer(query) if callable(answer) else answer
        raise AssertionError(f"unexpected query: {query.sql}")

    def stream(self, query: Query, batch_rows: int) -> RowBatches:
        raise AssertionError("planning never streams")

    def close(self) -> None:
        pass


def _refused(query: Query) -> list[tuple[Any, ...]]:
    raise _Refused("ORA-00942: table or view does not exist")


def test_own_table_size_comes_from_user_segments_without_dba_views() -> None:
    conn = _Scripted({"FROM user_segments": [(5 * 2**30,)], "FROM dba_": _refused})
    size = table_size(conn, DIALECT, TABLE, Privileges("SALES"))
    assert (size.bytes, size.note) == (5 * 2**30, "")
    assert "dba_" not in " ".join(q.sql for q in conn.asked)


def test_another_users_table_size_comes_from_dba_segments_lobs_included() -> None:
    conn = _Scripted({"FROM dba_segments": [(7_000_000,)]})
    seen = Privileges("EXPORTER")
    size = table_size(conn, DIALECT, TABLE, seen)
    assert size.bytes == 7_000_000 and seen.dba_views is True
    (asked,) = conn.asked
    assert "dba_lobs" in asked.sql and asked.params == {"owner": "SALES", "name": "ORDERS"}


def test_without_segment_views_the_size_is_blocks_times_the_block_size() -> None:
    conn = _Scripted(
        {"FROM dba_segments": _refused, "FROM all_tables": [(1000, 50_000, 90, 1, 16384)]}
    )
    seen = Privileges("EXPORTER")
    size = table_size(conn, DIALECT, TABLE, seen)
    assert size.bytes == 1000 * 16384
    assert "statistics" in size.note and seen.dba_views is False


def test_a_table_never_analyzed_and_not_visible_is_flagged_not_taken_as_empty() -> None:
    conn = _Scripted(
        {"FROM dba_segments": _refused, "FROM all_tables": [(None, None, None, 0, None)]}
    )
    size = table_size(conn, DIALECT, TABLE, Privileges("EXPORTER"))
    assert size.bytes == 0
    assert "never analyzed" in size.note and "DBMS_STATS.GATHER_TABLE_STATS" in size.note


def test_dba_views_are_not_asked_again_once_refused() -> None:
    conn = _Scripted({"FROM dba_segments": _refused, "FROM all_tables": [(10, 1, 1, 1, None)]})
    seen = Privileges("EXPORTER")
    table_size(conn, DIALECT, TABLE, seen)
    table_size(conn, DIALECT, TableRef("SALES", "ITEMS"), seen)
    assert sum("dba_segments" in q.sql for q in conn.asked) == 1


@pytest.mark.parametrize(
    ("stats", "expected"),
    [
        ((10, 500, 100, 8192), 10 * 8192),  # blocks win over rows x length
        ((10, 500, 100, None), 10 * 8192),  # tablespace not visible: the default block size
        ((None, 500, 100, None), 500 * 100),
        ((None, None, 100, None), None),
        ((0, 0, 0, 8192), 0),  # analyzed and empty is a real zero
    ],
)
def test_statistics_bytes(stats: tuple[Any, ...], expected: int | None) -> None:
    assert statistics_bytes(*stats) == expected


def test_block_size_is_the_tablespaces_else_the_default() -> None:
    def stats(size: Any) -> _Scripted:
        return _Scripted({"FROM all_tables": [(10, 500, 100, 1, size)]})

    assert block_size(stats(16384), DIALECT, TABLE) == 16384
    assert block_size(stats(None), DIALECT, TABLE) == 8192
    assert block_size(_Scripted({"FROM all_tables": []}), DIALECT, TABLE) == 8192


def test_leaf_partitions_take_segment_sizes_else_their_statistics() -> None:
    conn = _Scripted(
        {
            "FROM all_tab_partitions": [
                ("PARTITION", "P2024", 100, 10, 10, 8192),
                ("SUBPARTITION", "SP_A", None, 30, 20, None),
                ("SUBPARTITION", "SP_B", 100, 30, 20, 32768),  # a 32 KB tablespace
                ("SUBPARTITION", "SP_C", 100, 30, 20, None),  # its tablespace not visible
            ],
            "FROM user_segments": [("P2024", 3 * 2**30)],
        }
    )
    leaves = leaf_partitions(conn, DIALECT, TABLE, Privileges("SALES"))
    assert [(lp.table, lp.size_bytes, lp.physical) for lp in leaves] == [
        (TableRef("PARTITION", "P2024"), 3 * 2**30, True),
        (TableRef("SUBPARTITION", "SP_A"), 600, True),
        (TableRef("SUBPARTITION", "SP_B"), 100 * 32768, True),
        (TableRef("SUBPARTITION", "SP_C"), 100 * 8192, True),
    ]


def test_a_leafs_size_adds_its_lob_partition_segments() -> None:
    """Out-of-line LOB data lives in LOB partition segments, often most of such a table: a
    leaf planned by its table segment alone would be read as one chunk many times too big.
    The query returns a leaf once per kind of segment; the sizes add up."""
    conn = _Scripted(
        {
            "FROM all_tab_partitions": [
                ("SUBPARTITION", "SP_A", 1, 1, 1, 8192),
                ("SUBPARTITION", "SP_B", 1, 1, 1, 8192),
            ],
            "FROM user_segments": [
                ("SP_A", 2**30),  # the TABLE SUBPARTITION segments
                ("SP_B", 2**20),
                ("SP_A", 6 * 2**30),  # the LOB SUBPARTITION segments mapped to SP_A
            ],
        }
    )
    leaves = leaf_partitions(conn, DIALECT, TABLE, Privileges("SALES"))
    assert [(lp.table.name, lp.size_bytes) for lp in leaves] == [
        ("SP_A", 7 * 2**30),
        ("SP_B", 2**20),
    ]
    (segments,) = [q for q in conn.asked if "FROM user_segments" in q.sql]
    assert "user_lob_partitions" in segments.sql and "user_lob_subpartitions" in segments.sql


def test_a_refused_lob_partition_view_keeps_the_table_segments_and_the_dba_views() -> None:
    """A session that may read DBA_SEGMENTS but not DBA_LOB_PARTITIONS (ORA-00942) sizes the
    leaves by their table segments, and keeps using the DBA views for other tables."""

    def segments(query: Any) -> list[tuple[Any, ...]]:
        if "lob_partitions" in query.sql:
            raise _Refused("ORA-00942: table or view does not exist")
        return [("P2024", 3 * 2**30)]

    conn = _Scripted(
        {
            "FROM all_tab_partitions": [("PARTITION", "P2024", 100, 10, 10, 8192)],
            "FROM dba_segments": segments,
        }
    )
    seen = Privileges("EXPORTER")  # another user's table: the DBA views
    leaves = leaf_partitions(conn, DIALECT, TABLE, seen)
    assert [(lp.table.name, lp.size_bytes) for lp in leaves] == [("P2024", 3 * 2**30)]
    assert seen.dba_views is True


def test_a_table_without_partitions_has_no_leaves() -> None:
    conn = _Scripted({"FROM all_tab_partitions": []})
    assert leaf_partitions(conn, DIALECT, TABLE, Privileges("SALES")) == []


def test_extents_are_grouped_into_runs_of_about_equal_blocks() -> None:
    extents = [(f"R{i:02d}", 8) for i in range(8)] + [("R08", 128), ("R09", 128)]
    # 320 blocks in 4 parts of 80: the starts nearest 80, 160 and 240 blocks in are those
    # with 64 and 192 blocks behind them (the second twice).
    assert group_extents(extents, 4) == ["R08", "R09"]
    assert group_extents([(f"R{i}", 10) for i in range(10)], 5) == ["R2", "R4", "R6", "R8"]
    assert group_extents([("R0", 10)], 1) == []
    assert group_extents([], 4) == []


def test_quantile_cuts_are_distinct_and_in_order() -> None:
    rowids = [f"R{i:03d}" for i in range(100)]
    assert quantile_cuts(rowids, 4) == ["R025", "R050", "R075"]
    assert quantile_cuts(["A", "A", "A", "B"], 4) == ["A", "B"]
    assert quantile_cuts(["A"], 4) == []


@given(st.lists(st.integers(0, 10_000), unique=True, min_size=1).map(sorted))
def test_rowid_bounds_tile_every_row_exactly_once(cut_points: list[int]) -> None:
    cuts = [f"{c:06d}" for c in cut_points]
    bounds = rowid_bounds(cuts)
    assert bounds is not None and bounds[0].lower is None and bounds[-1].upper is None
    for value in (f"{v:06d}" for v in range(-1, 10_002, 97)):
        holders = [
            b
            for b in bounds
            if (b.lower is None or b.lower <= value) and (b.upper is None or value < b.upper)
        ]
        assert len(holders) == 1


def test_no_cut_point_means_no_ranges() -> None:
    assert rowid_bounds([]) is None


def test_rowid_ranges_come_from_dba_extents_where_readable() -> None:
    extents = [(f"AAA{i}", 16) for i in range(8)]
    conn = _Scripted({"FROM dba_extents": extents})
    bounds, basis = rowid_ranges(conn, DIALECT, TABLE, None, 4, 10**9, Privileges("X"))
    assert basis == "ROWID ranges from DBA_EXTENTS"
    assert bounds == [
        ChunkBounds("physical", None, "AAA2"),
        ChunkBounds("physical", "AAA2", "AAA4"),
        ChunkBounds("physical", "AAA4", "AAA6"),
        ChunkBounds("physical", "AAA6", None),
    ]


def test_without_dba_extents_rowid_ranges_come_from_a_block_sample() -> None:
    sample = [(f"B{i:04d}",) for i in range(400)]
    conn = _Scripted({"FROM dba_extents": _refused, "SAMPLE BLOCK": sample})
    seen = Privileges("SALES")
    bounds, basis = rowid_ranges(conn, DIALECT, TABLE, None, 4, 1_000_000, seen)
    assert seen.extents is False
    assert basis.startswith("ROWID ranges from a ") and basis.endswith("% block sample")
    assert bounds is not None and len(bounds) == 4
    assert [b.upper for b in bounds[:-1]] == ["B0100", "B0200", "B0300"]
    # 4 ranges x 64 sampled ROWIDs of 1M rows: 0.0256 % of the blocks, seeded.
    (sampled,) = [q for q in conn.asked if "SAMPLE BLOCK" in q.sql]
    assert "SAMPLE BLOCK (0.025600) SEED (42)" in sampled.sql


def test_a_sample_that_comes_back_too_small_is_taken_again_larger() -> None:
    def answer(query: Query) -> list[tuple[Any, ...]]:
        # Few blocks come out of the first sample: the second, 8x larger, is enough.
        if "SAMPLE BLOCK (0.0000" in query.sql:
            return [("A",)]
        return [(f"C{i:03d}",) for i in range(100)]

    conn = _Scripted({"FROM dba_extents": [], "SELECT ROWIDTOCHAR(r)": answer})
    bounds, basis = rowid_ranges(conn, DIALECT, TABLE, None, 2, 10**9, Privileges("X"))
    assert bounds == [ChunkBounds("physical", None, "C050"), ChunkBounds("physical", "C050", None)]
    assert sum("SAMPLE BLOCK" in q.sql for q in conn.asked) == 2
    assert basis == "ROWID ranges from a 0.0001024 % block sample"


def test_a_small_table_is_sampled_whole_without_the_sample_clause() -> None:
    conn = _Scripted({"FROM dba_extents": _refused, "SELECT ROWIDTOCHAR(r)": [("A",), ("B",)]})
    rowid_ranges(conn, DIALECT, TABLE, None, 4, 10, Privileges("X"))
    (sampled,) = [q for q in conn.asked if "ROWIDTOCHAR(r)" in q.sql]
    assert "SAMPLE" not in sampled.sql


def test_a_leaf_partition_is_sampled_through_its_extension_clause() -> None:
    conn = _Scripted({"FROM dba_extents": _refused, "SELECT ROWIDTOCHAR(r)": [("A",), ("B",)]})
    rowid_ranges(conn, DIALECT, TABLE, TableRef("SUBPARTITION", "sp 1"), 2, 10, Privileges("X"))
    (sampled,) = [q for q in conn.asked if "ROWIDTOCHAR(r)" in q.sql]
    assert 'FROM "SALES"."ORDERS" SUBPARTITION ("sp 1")' in sampled.sql


class _Procedures:
    """Records each PL/SQL call; `fail` names a procedure that raises, as the server would."""

    def __init__(self, fail: str = "") -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def __call__(self, name: str, arguments: dict[str, Any]) -> None:
        self.calls.append((name, arguments))
        if name.endswith(self.fail) and self.fail:
            raise _Refused("ORA-16000: database or pluggable database open for read-only access")


def test_parallel_execute_chunks_become_ranges_and_the_task_is_dropped() -> None:
    conn = _Scripted({"FROM user_parallel_execute_chunks": [("A0",), ("A5",), ("A9",)]})
    calls = _Procedures()
    bounds = parallel_execute_ranges(conn, DIALECT, calls, TABLE, 1280)
    assert bounds == [
        ChunkBounds("physical", None, "A5"),
        ChunkBounds("physical", "A5", "A9"),
        ChunkBounds("physical", "A9", None),
    ]
    names = [name.rsplit(".", 1)[1] for name, _ in calls.calls]
    assert names == ["CREATE_TASK", "CREATE_CHUNKS_BY_ROWID", "DROP_TASK"]
    task = calls.calls[0][1]["task_name"]
    assert task.startswith("EXPORTER_") and len(task) <= 128
    assert calls.calls[1][1] == {
        "task_name": task,
        "table_owner": "SALES",
        "table_name": "ORDERS",
        "by_row": False,
        "chunk_size": 1280,
    }
    assert conn.asked[0].params == {"task": task}


def test_a_refused_parallel_execute_task_is_dropped_and_leaves_the_dictionary(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = _Procedures(fail="CREATE_CHUNKS_BY_ROWID")
    assert parallel_execute_ranges(_Scripted({}), DIALECT, calls, TABLE, 10) is None
    assert calls.calls[-1][0] == "DBMS_PARALLEL_EXECUTE.DROP_TASK"
    assert "ORA-16000" in caplog.text and "SALES.ORDERS" in caplog.text


def test_dba_extents_is_tried_even_where_the_size_views_are_closed() -> None:
    # Granted apart: a user may read DBA_EXTENTS without DBA_SEGMENTS or DBA_LOBS.
    seen = Privileges("EXPORTER", dba_views=False)
    conn = _Scripted({"FROM dba_extents": [(f"E{i}", 8) for i in range(4)]})
    bounds, basis = rowid_ranges(conn, DIALECT, TABLE, None, 2, 10**6, seen)
    assert basis == "ROWID ranges from DBA_EXTENTS" and seen.extents is True
    assert bounds is not None and len(bounds) == 2
