"""`describe_strategy` (what `check` shows) and `decide_chunks` (what the planner cuts) climb
one ladder: for the same catalog facts they give the same strategy and the same reason, and
the description cuts nothing (no physical split, key range or sample is asked for)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from exporter.config.models import ExportSettings
from exporter.export.strategy import Decision, decide_chunks, describe_strategy
from exporter.keys import KeyValues
from exporter.model import ChunkBounds, Column, ColumnKind, TableRef
from exporter.sources.base import DbConn, Source
from exporter.sources.dialect import Query
from exporter.sources.sqlite import SqliteDialect
from exporter.sources.values import LeafPartition, RowBatches

MB = 1024 * 1024
TABLE = TableRef("s", "t")
ID = Column("id", "int8", ColumnKind.INTEGER, nullable=False)
CODE = Column("code", "text", ColumnKind.STRING, nullable=False)
AT = Column("at", "date", ColumnKind.DATE, nullable=False)
NUM0 = Column("n", "NUMBER", ColumnKind.DECIMAL, precision=20, scale=0)
CUTS = ["physical_split", "key_ranges", "sample_boundaries", "estimate_rows"]


class _NoSplitDialect(SqliteDialect):
    supports_physical_split = False


class _Conn(DbConn):
    """Never asked anything: the fake source answers from its own facts."""

    def fetch_all(self, query: Query) -> list[tuple[Any, ...]]:
        raise AssertionError(f"unexpected query: {query.sql}")

    def stream(self, query: Query, batch_rows: int) -> RowBatches:
        raise AssertionError("never streams")

    def close(self) -> None:
        pass


class _Facts(Source):
    """A source whose catalog is a few facts, counting every call that cuts chunks."""

    dialect = SqliteDialect()

    def __init__(
        self, pk: Sequence[str], ranged: bool, basis: str = "physical ranges", split: bool = True
    ) -> None:
        super().__init__(None)
        self.pk, self.ranged, self.basis = list(pk), ranged, basis
        self.dialect = SqliteDialect() if split else _NoSplitDialect()  # type: ignore[misc]
        self.calls: dict[str, int] = dict.fromkeys(CUTS, 0)

    def connect(self) -> DbConn:
        return _Conn()

    def server_version(self, conn: DbConn) -> str:
        return "facts"

    def primary_key(self, conn: DbConn, table: TableRef) -> list[str]:
        return self.pk

    def physical_outlook(self, conn: DbConn, table: TableRef) -> str | None:
        return self.basis if self.ranged else None

    def physical_split(
        self, conn: DbConn, table: TableRef, parts: int, leaf: TableRef | None = None
    ) -> tuple[list[ChunkBounds] | None, str]:
        self.calls["physical_split"] += 1
        if not self.ranged:
            return None, "none"
        return [ChunkBounds("physical", i, i + 1) for i in range(parts)], self.basis

    def key_ranges(
        self, conn: DbConn, table: TableRef, column: str, parts: int
    ) -> list[ChunkBounds]:
        self.calls["key_ranges"] += 1
        return [ChunkBounds("key", i, i + 1) for i in range(parts)]

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
        self.calls["sample_boundaries"] += 1
        return [(i, f"k{i}")[: len(key)] for i in range(1, parts)]

    def estimate_rows(self, conn: DbConn, table: TableRef) -> int:
        self.calls["estimate_rows"] += 1
        return 10**6


def _leaves(*sizes_mb: int) -> list[LeafPartition]:
    return [LeafPartition(TableRef("s", f"p{i}"), mb * MB, True) for i, mb in enumerate(sizes_mb)]


CASES = {
    # name: (size MB, leaves, pk, columns, physical ranges, engine splits, chunk_strategy)
    "small": (5, [], ["id"], [ID], True, True, "auto"),
    "none": (500, [], ["id"], [ID], True, True, "none"),
    "partitions": (500, _leaves(300, 40, 40, 120), ["id"], [ID], True, True, "auto"),
    "physical": (500, [], ["id"], [ID], True, True, "auto"),
    "no ranges, integer key": (500, [], ["id"], [ID], False, True, "auto"),
    "no ranges, NUMBER(20,0) key": (500, [], ["n"], [NUM0], False, True, "auto"),
    "no split, composite key": (500, [], ["code", "at"], [CODE, AT], True, False, "auto"),
    "key asked for": (500, [], ["code"], [CODE], True, True, "key"),
    "no ranges, no key": (500, [], [], [ID], False, True, "auto"),
    "no split, no key": (500, [], [], [ID], True, False, "physical"),
    "key column not exported": (500, [], ["gone"], [ID], False, True, "auto"),
}


def _both(case: str) -> tuple[Decision, Decision, _Facts, _Facts]:
    size, leaves, pk, columns, ranged, split, strategy = CASES[case]
    settings = ExportSettings(chunk_threshold_gb=0.05, chunk_size_mb=100, chunk_strategy=strategy)
    cut, told = _Facts(pk, ranged, split=split), _Facts(pk, ranged, split=split)
    args = (settings, TABLE, columns, size * MB, leaves, "")
    decided = decide_chunks(_Conn(), cut, *args)
    described = describe_strategy(_Conn(), told, *args)
    return decided, described, cut, told


@pytest.mark.parametrize("case", list(CASES))
def test_the_strategy_and_its_reason_agree(case: str) -> None:
    decided, described, _, _ = _both(case)
    assert (described.strategy, described.reason) == (decided.strategy, decided.reason)
    assert described.split_columns == decided.split_columns
    assert decided.aimed == len(decided.bounds)
    # The count aimed at is the count cut, where the cutting finds what it aimed at.
    assert described.aimed == decided.aimed


@pytest.mark.parametrize("case", list(CASES))
def test_describing_cuts_nothing(case: str) -> None:
    decided, described, cut, told = _both(case)
    assert told.calls == dict.fromkeys(CUTS, 0)
    assert described.strategy == "whole" or described.bounds == []
    if decided.strategy != "whole":
        assert sum(cut.calls.values()) > 0  # the planner did cut: the fake is not idle


def test_the_steps_taken() -> None:
    strategies = {case: _both(case)[0].strategy for case in CASES}
    assert strategies == {
        "small": "whole",
        "none": "whole",
        "partitions": "partitions",
        "physical": "physical",
        "no ranges, integer key": "key",
        "no ranges, NUMBER(20,0) key": "key",
        "no split, composite key": "key",
        "key asked for": "key",
        "no ranges, no key": "whole",
        "no split, no key": "whole",
        "key column not exported": "whole",
    }
    reason = _both("no ranges, no key")[1].reason
    assert reason.endswith(
        "but the table has no physical locator ranges and no primary key or NOT NULL unique "
        "key to range over: one chunk"
    )
    assert _both("no split, composite key")[1].reason.endswith(
        "ranges of primary key (code, at) cut at a sample"
    )


def test_the_physical_basis_is_the_sources() -> None:
    settings = ExportSettings(chunk_threshold_gb=0.05, chunk_size_mb=100)
    source = _Facts(["id"], True, basis="ranges from the extents map")
    told = describe_strategy(_Conn(), source, settings, TABLE, [ID], 500 * MB)
    assert told.reason.endswith(", ranges from the extents map")
    assert told.aimed == 5


def test_partitions_aim_at_the_chunks_the_planner_makes() -> None:
    # 300 MB in 100 MB chunks: 3 ranges; 40 + 40 grouped; 120 MB: 2 ranges.
    decided, described, _, _ = _both("partitions")
    assert described.aimed == decided.aimed == 3 + 1 + 2
