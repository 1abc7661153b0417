"""metadata.json carries the source's row count under the name the dialect gives it
(Dialect.source_row_count_field: `oracle_row_count` for Oracle, the name the operations
handbook compares with `exported_row_count`), and no such key for the other engines. Built
without any database: a plan, a result and a verdict made by hand."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from exporter.config import ExportConfig, parse_config
from exporter.export.records import build_metadata
from exporter.export.results import TableResult
from exporter.export.run import run_export
from exporter.fsutil import read_json
from exporter.layout import ExportLayout
from exporter.model import (
    ChunkStats,
    Column,
    ColumnKind,
    TableRef,
)
from exporter.sources.oracle_sql import OracleDialect
from exporter.sources.postgres_sql import PostgresDialect
from exporter.sources.sqlite import SqliteDialect
from exporter.validation.checks import TableVerdict
from tests.plans import whole_plan

SOURCES: dict[str, dict[str, Any]] = {
    "oracle": {
        "engine": "oracle",
        "host": "db.example.com",
        "service": "ORCLPDB1",
        "user": "EXPORT_USER",
        "password_env": "ORACLE_PASSWORD",
    },
    "postgresql": {"engine": "postgresql", "host": "127.0.0.1", "database": "d", "user": "u"},
    "sqlite": {"engine": "sqlite", "path": "unused.sqlite"},
}
TABLE = TableRef("HR", "EMPLOYEES")


def _config(engine: str, out: Path) -> ExportConfig:
    # The model alone: parse_config would also insist the password variable is set.
    data = {"source": SOURCES[engine], "export": {"output_dir": str(out)}}
    return ExportConfig.model_validate(data)


def _result(verdict: TableVerdict | None) -> TableResult:
    column = Column("ID", "NUMBER", ColumnKind.INTEGER, nullable=False, precision=10)
    plan = whole_plan(
        (column,), table=TABLE, marker="", size_bytes=65536, reason="below the threshold"
    )
    stats = [ChunkStats(0, "data_chunk_0.csv.gz", rows=1234, bytes_written=999, seconds=0.5)]
    return TableResult(TABLE, plan, stats=stats, validation=verdict)


def _metadata(engine: str, tmp_path: Path, verdict: TableVerdict | None) -> dict[str, Any]:
    config = _config(engine, tmp_path / "out")
    layout = ExportLayout(tmp_path / "out")
    return build_metadata(_result(verdict), layout, config, snapshot=None, db_row_hash=False)


def test_the_dialects_declare_the_name() -> None:
    assert OracleDialect.source_row_count_field == "oracle_row_count"
    assert PostgresDialect.source_row_count_field is None
    assert SqliteDialect.source_row_count_field is None


def test_oracle_metadata_carries_oracle_row_count_equal_to_the_source_count(
    tmp_path: Path,
) -> None:
    # Source and export differ here, so that the value is seen to be the source's.
    verdict = TableVerdict(source_row_count=1235, exported_row_count=1234)
    meta = _metadata("oracle", tmp_path, verdict)
    assert meta["engine"] == "oracle"
    assert meta["oracle_row_count"] == 1235 == meta["source_row_count"]
    assert meta["exported_row_count"] == 1234
    assert meta["row_count_match"] is False
    keys = list(meta)
    assert keys.index("oracle_row_count") == keys.index("source_row_count") + 1


def test_oracle_metadata_without_validation_has_no_count_either(tmp_path: Path) -> None:
    meta = _metadata("oracle", tmp_path, None)
    assert meta["oracle_row_count"] is None and meta["source_row_count"] is None
    assert meta["exported_row_count"] == 1234  # the files' rows


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
def test_other_engines_carry_no_engine_named_count(engine: str, tmp_path: Path) -> None:
    verdict = TableVerdict(source_row_count=1234, exported_row_count=1234)
    meta = _metadata(engine, tmp_path, verdict)
    assert meta["engine"] == engine and meta["source_row_count"] == 1234
    counts = sorted(key for key in meta if key.endswith("_row_count"))
    assert counts == ["exported_row_count", "source_row_count"]


def test_a_real_sqlite_export_writes_no_oracle_row_count(tmp_path: Path) -> None:
    db = tmp_path / "src.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"n{i}") for i in range(1, 8)])
    con.commit()
    con.close()
    out = tmp_path / "out"
    config = parse_config(
        {"source": {"engine": "sqlite", "path": str(db)}, "export": {"output_dir": str(out)}}
    )
    assert run_export(config, inline=True, show_progress=False).ok
    meta = read_json(ExportLayout(out).metadata_file(TableRef("main", "t")))
    assert meta["source_row_count"] == 7 == meta["exported_row_count"]
    assert "oracle_row_count" not in meta
