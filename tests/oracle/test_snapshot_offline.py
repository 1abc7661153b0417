"""One image per Oracle table, without a server: the SCN pinned in a plan is read AS OF in every
query of the table where the user may flash it back, and the chunk and validation queries of
one plan all name the same SCN, partitions included."""

from __future__ import annotations

import dataclasses

import pytest
import sqlglot
from sqlglot import exp

from exporter.errors import ExporterError
from exporter.model import Chunk, ChunkBounds, Column, ColumnKind, FileFormat, TablePlan, TableRef
from exporter.sources.dialect import Query
from exporter.sources.oracle import OracleSource
from exporter.sources.oracle_sql import OracleDialect
from tests.oracle.test_offline import _oracle_source
from tests.oracle.test_storage import _refused, _Scripted

DIALECT = OracleDialect()
TABLE = TableRef("SALES", "ORDERS")
PLAN = TablePlan(
    table=TABLE,
    columns=(
        Column("ID", "NUMBER", ColumnKind.INTEGER, precision=10, scale=0),
        Column("NOTE", "CLOB", ColumnKind.STRING),
    ),
    size_bytes=1,
    strategy="physical",
    reason="test",
    chunks=(Chunk(0, ChunkBounds("whole")),),
    file_format=FileFormat("", True),
)
PINNED = dataclasses.replace(PLAN, snapshot="8123456789012", snapshot_in_query=True)
CHUNKS = (
    Chunk(0, ChunkBounds("physical", None, "AAAR3sAAEAAAACXAAA")),
    Chunk(1, ChunkBounds("whole", partitions=(TableRef("PARTITION", "P1"),))),
    Chunk(2, ChunkBounds("physical", "AAAR3s", None, partitions=(TableRef("SUBPARTITION", "S"),))),
)


def _as_of_scns(query: Query) -> list[int]:
    """The SCN each table of the query is read at (one entry per table read)."""
    tree = sqlglot.parse_one(query.sql, read="oracle")
    tables = list(tree.find_all(exp.Table))
    assert tables
    scns = []
    for table in tables:
        version = table.args.get("version")
        assert version is not None, f"{table.sql('oracle')} is not read AS OF"
        assert version.this == "SCN"
        scns.append(query.params[version.expression.name])
    return scns


def test_every_read_of_a_pinned_table_names_its_scn() -> None:
    for chunk in CHUNKS:
        for query in (
            DIALECT.select_chunk(PINNED, chunk),
            DIALECT.range_figures(PINNED, chunk, PINNED.columns[:1]),
        ):
            assert set(_as_of_scns(query)) == {8123456789012}


def test_a_plan_read_by_flashed_back_sessions_has_no_as_of() -> None:
    session_read = dataclasses.replace(PINNED, snapshot_in_query=False)
    for plan in (PLAN, session_read):
        for chunk in CHUNKS:
            query = DIALECT.select_chunk(plan, chunk)
            assert "AS OF" not in query.sql and "snapshot_scn" not in query.params


def test_the_partition_clause_comes_before_as_of() -> None:
    sql = DIALECT.select_chunk(PINNED, CHUNKS[2]).sql
    assert 'FROM "SALES"."ORDERS" SUBPARTITION ("S") AS OF SCN :snapshot_scn WHERE' in sql


def test_flashback_query_is_used_where_the_trial_query_passes() -> None:
    source = _oracle_source()
    allowed = _Scripted({"AS OF SCN": []})
    assert source.snapshot_in_query(allowed, TABLE, "42") is True
    (asked,) = allowed.asked
    assert asked.params == {"snapshot_scn": 42} and "WHERE 1 = 0" in asked.sql
    refused = _Scripted({"AS OF SCN": _refused})  # ORA-01031: no FLASHBACK on the table
    assert source.snapshot_in_query(refused, TABLE, "42") is False


def test_the_dialect_pins_snapshots_in_plans() -> None:
    assert OracleSource.dialect.snapshot_outlives_run is True


def test_without_dbms_flashback_the_scn_comes_from_timestamp_to_scn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = _oracle_source()
    conn = _Scripted({"DBMS_FLASHBACK": _refused, "TIMESTAMP_TO_SCN": [(987654321,)]})
    monkeypatch.setattr(source, "open", lambda: conn)
    with source.exported_snapshot() as scn:
        assert scn == "987654321"


def test_an_scn_that_cannot_be_read_is_one_line_naming_consistent_snapshot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = _oracle_source()
    conn = _Scripted({"DBMS_FLASHBACK": _refused, "TIMESTAMP_TO_SCN": _refused})
    monkeypatch.setattr(source, "open", lambda: conn)
    with pytest.raises(ExporterError) as caught, source.exported_snapshot():
        pass
    line = caught.value.one_line()
    assert "reading at one snapshot" in line and "export.consistent_snapshot: false" in line
