"""export/snapshots.py: where a snapshot outlives the run (Oracle's SCN), every chunk of a table
is read at the one pinned in its plan, across resumes; a deleted folder takes a new one; a
table whose chunks may come from two images says so and is counted whole.

SQLite has no snapshot to share, so it is given one here: a dialect that declares its
snapshots outlive the run, runs that take "scn-100", "scn-200"..., and a record of the
snapshot each chunk session is set to. Everything else (planning, tasks, validation,
records) is the real export."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exporter.config import ExportConfig, parse_config
from exporter.errors import ERR_DATABASE, error
from exporter.export.run import run_export
from exporter.fsutil import read_json
from exporter.layout import ExportLayout
from exporter.model import TableRef
from exporter.sources.base import DbConn
from exporter.sources.sqlite import SqliteDialect, SqliteSource

ALPHA, BETA, GAMMA = (TableRef("main", n) for n in ("alpha", "beta", "gamma"))


class _PinnedDialect(SqliteDialect):
    supports_snapshot_export = True
    snapshot_outlives_run = True


class _Database:
    """The run's snapshots as they are taken, and the snapshot each chunk session is set to."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.next_scn = 100
        self.sessions: list[str | None] = []
        self.in_query = {"beta"}  # tables whose queries may name the snapshot themselves
        self.refuse_sessions = False
        original = SqliteSource.chunk_transaction
        outer = self

        @contextlib.contextmanager
        def exported_snapshot(self: SqliteSource) -> Iterator[str | None]:
            yield f"scn-{outer.next_scn}"

        @contextlib.contextmanager
        def chunk_transaction(
            self: SqliteSource, conn: DbConn, snapshot: str | None
        ) -> Iterator[None]:
            if snapshot and outer.refuse_sessions:
                raise error(ERR_DATABASE, target="sqlite", detail="DBMS_FLASHBACK refused")
            outer.sessions.append(snapshot)
            with original(self, conn, snapshot):
                yield

        def snapshot_in_query(self: SqliteSource, conn: DbConn, table: TableRef, s: str) -> bool:
            return table.name in outer.in_query

        monkeypatch.setattr(SqliteSource, "dialect", _PinnedDialect())
        monkeypatch.setattr(SqliteSource, "exported_snapshot", exported_snapshot)
        monkeypatch.setattr(SqliteSource, "chunk_transaction", chunk_transaction)
        monkeypatch.setattr(SqliteSource, "snapshot_in_query", snapshot_in_query)


@pytest.fixture()
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ExportConfig, _Database]:
    db = tmp_path / "db.sqlite"
    con = sqlite3.connect(db)
    for table in (ALPHA, BETA, GAMMA):
        con.execute(f"CREATE TABLE {table.name} (id INTEGER PRIMARY KEY, n INTEGER, s TEXT)")
        con.executemany(
            f"INSERT INTO {table.name} VALUES (?, ?, ?)",
            [(i, i * 7, f"{table.name} {i}") for i in range(1, 2001)],
        )
    con.commit()
    con.close()
    config = parse_config(
        {
            "source": {"engine": "sqlite", "path": str(db)},
            "export": {
                "output_dir": str(tmp_path / "out"),
                "chunk_threshold_gb": 0.00002,
                "chunk_size_mb": 0.02,
            },
        }
    )
    return config, _Database(monkeypatch)


def _run(config: ExportConfig) -> dict[str, Any]:
    run = run_export(config, inline=True, show_progress=False)
    return {r.table.name: r for r in run.results}


def _snapshots(layout: ExportLayout, table: TableRef) -> list[str | None]:
    folder = layout.chunk_stats_file(table, 0).parent
    return [json.loads(p.read_text())["snapshot"] for p in sorted(folder.glob("*.json"))]


def test_every_chunk_of_a_table_is_read_at_the_snapshot_pinned_in_its_plan(
    setup: tuple[ExportConfig, _Database],
) -> None:
    config, db = setup
    layout = ExportLayout(Path(config.export.output_dir))
    first = _run(config)
    assert {r.status for r in first.values()} == {"SUCCEEDED"}
    for table in (ALPHA, BETA, GAMMA):
        plan = read_json(layout.plan_file(table))
        assert plan["snapshot"] == "scn-100"
        assert plan.get("snapshot_in_query", False) is (table is BETA)
        assert len(layout.existing_chunk_files(table)) >= 2
        meta = read_json(layout.metadata_file(table))
        assert meta["snapshot"] == "scn-100"
        assert "chunks' ranges" in meta["source_figures_over"]
    # beta's queries name the snapshot: its sessions are never set to it.
    chunks = sum(len(layout.existing_chunk_files(t)) for t in (ALPHA, GAMMA))
    # Each chunk's rows, then its range's figures; and the one trial of a session.
    assert db.sessions.count("scn-100") == 2 * chunks + 1

    # A later run at a new snapshot: alpha's lost chunk is read again at alpha's snapshot;
    # beta, whose folder was deleted, is planned again at the new one.
    layout.chunk_file(ALPHA, 1).unlink()
    layout.chunk_stats_file(ALPHA, 1).unlink()
    for path in sorted(layout.table_dir(BETA).rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    layout.table_dir(BETA).rmdir()
    db.next_scn, db.sessions = 200, []
    second = _run(config)
    assert {r.status for r in second.values()} == {"SUCCEEDED"}
    # alpha's one chunk and its figures; beta's sessions are set to no snapshot (AS OF).
    assert [s for s in db.sessions if s] == ["scn-100"] * 2 and "scn-200" not in db.sessions
    assert set(_snapshots(layout, ALPHA)) == {"scn-100"}
    assert read_json(layout.plan_file(BETA))["snapshot"] == "scn-200"
    assert set(_snapshots(layout, BETA)) == {"scn-200"}
    assert read_json(layout.metadata_file(ALPHA))["snapshot"] == "scn-100"


def test_chunks_from_two_snapshots_are_never_mixed_silently(
    setup: tuple[ExportConfig, _Database], caplog: pytest.LogCaptureFixture
) -> None:
    config, db = setup
    layout = ExportLayout(Path(config.export.output_dir))
    _run(config)
    # gamma as an earlier version left it: chunk files, and a plan with no snapshot pinned.
    plan = read_json(layout.plan_file(GAMMA))
    del plan["snapshot"]
    layout.plan_file(GAMMA).write_text(json.dumps(plan))
    layout.chunk_file(GAMMA, 0).unlink()
    db.next_scn = 300
    with caplog.at_level(logging.WARNING):
        again = _run(config)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("main.gamma" in w and "two images" in w for w in warned)
    assert sorted(set(_snapshots(layout, GAMMA)), key=str) == ["scn-100", "scn-300"]
    meta = read_json(layout.metadata_file(GAMMA))
    assert meta["snapshot"] is None
    # Counted whole, as the chunks' own figures could not tell a row read twice.
    assert meta["source_figures_over"].startswith("the whole table")
    assert again["gamma"].status == "SUCCEEDED"  # the table itself did not change


def test_a_table_that_cannot_be_read_at_the_snapshot_fails_before_any_chunk(
    setup: tuple[ExportConfig, _Database],
) -> None:
    config, db = setup
    db.refuse_sessions = True  # e.g. no EXECUTE on DBMS_FLASHBACK
    results = _run(config)
    layout = ExportLayout(Path(config.export.output_dir))
    assert results["beta"].status == "SUCCEEDED"  # its queries name the snapshot
    for name, table in (("alpha", ALPHA), ("gamma", GAMMA)):
        assert results[name].status == "FAILED"
        assert "reading at one snapshot: main." + name in results[name].errors[0]
        assert "DBMS_FLASHBACK refused" in results[name].errors[0]
        assert not layout.existing_chunk_files(table)
