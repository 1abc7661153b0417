"""A re-run does only the work that is left: a table proved before whose plan and chunk files
have not changed keeps its verdict (no query to the source, no file read back); a chunk file
deleted, touched or changed makes its table, and only it, be validated again."""

from __future__ import annotations

import gzip
import os
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from exporter.config import ExportConfig, parse_config
from exporter.export.revalidate import validate_existing
from exporter.export.run import run_export
from exporter.fsutil import read_json
from exporter.layout import ExportLayout
from exporter.model import TableRef
from exporter.sources.sqlite import SqliteSource
from exporter.validation import readers

TABLES = ("alpha", "beta", "gamma")


@pytest.fixture()
def setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[ExportConfig, ExportLayout, Counter[str]]:
    db = tmp_path / "db.sqlite"
    con = sqlite3.connect(db)
    for name in TABLES:
        con.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, n INTEGER, s TEXT)")
        con.executemany(
            f"INSERT INTO {name} VALUES (?, ?, ?)",
            [(i, i * 3, f"{name} {i}") for i in range(1, 3001)],
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
    # Every source figure and every file read back, counted by table.
    work: Counter[str] = Counter()
    range_figures = SqliteSource.range_figures
    read = readers.read_chunk_figures

    def counted_sums(self: SqliteSource, conn: Any, plan: Any, chunk: Any, columns: Any) -> Any:
        work[f"source {plan.table.name}"] += 1
        return range_figures(self, conn, plan, chunk, columns)

    def counted_read(path: Path, plan: Any) -> Any:
        work[f"read {plan.table.name}"] += 1
        return read(path, plan)

    monkeypatch.setattr(SqliteSource, "range_figures", counted_sums)
    monkeypatch.setattr(readers, "read_chunk_figures", counted_read)
    return config, ExportLayout(tmp_path / "out"), work


def _run(config: ExportConfig, **options: Any) -> dict[str, Any]:
    run = run_export(config, inline=True, show_progress=False, **options)
    return {r.table.name: r for r in run.results}


def _summary(layout: ExportLayout) -> dict[str, dict[str, Any]]:
    return {t["table"]: t for t in read_json(layout.summary_report())["tables"]}


def test_a_rerun_of_a_proved_export_queries_nothing_and_reads_nothing(
    setup: tuple[ExportConfig, ExportLayout, Counter[str]],
) -> None:
    config, layout, work = setup
    first = _run(config)
    assert all(r.status == "SUCCEEDED" for r in first.values())
    chunks = {name: len(layout.existing_chunk_files(TableRef("main", name))) for name in TABLES}
    assert min(chunks.values()) >= 2
    assert work == Counter(
        {**{f"source {n}": 1 for n in TABLES}, **{f"read {n}": chunks[n] for n in TABLES}}
    )
    proved = {n: _summary(layout)[n]["proved_at"] for n in TABLES}
    verdicts = {n: _summary(layout)[n]["validation"] for n in TABLES}
    work.clear()
    again = _run(config)
    assert work == Counter(), "a re-run of a proved, unchanged export does no validation work"
    assert all(r.status == "SUCCEEDED" and r.carried_over for r in again.values())
    summary = _summary(layout)
    for name in TABLES:
        row = summary[name]
        assert row["validation_action"] == "carried_over"
        assert row["proved_at"] == proved[name] and row["validation"] == verdicts[name]
        assert (row["chunks_written"], row["chunks_skipped"]) == (0, chunks[name])
    meta = read_json(layout.metadata_file(TableRef("main", "beta")))
    assert meta["validation_carried_over"] is True and meta["status"] == "SUCCEEDED"
    # --revalidate proves everything again.
    work.clear()
    forced = _run(config, revalidate=True)
    assert all(not r.carried_over for r in forced.values())
    assert {k for k in work if k.startswith("source")} == {f"source {n}" for n in TABLES}


def test_a_touched_or_deleted_chunk_revalidates_its_table_only(
    setup: tuple[ExportConfig, ExportLayout, Counter[str]],
) -> None:
    config, layout, work = setup
    _run(config)
    beta, gamma = TableRef("main", "beta"), TableRef("main", "gamma")
    chunk = layout.chunk_file(beta, 1)
    info = chunk.stat()
    os.utime(chunk, ns=(info.st_atime_ns, info.st_mtime_ns + 1))  # touched: same bytes
    layout.chunk_file(gamma, 0).unlink()
    work.clear()
    results = _run(config)
    summary = _summary(layout)
    assert summary["alpha"]["validation_action"] == "carried_over"
    assert summary["beta"]["validation_action"] == "validated"
    assert summary["gamma"]["validation_action"] == "validated"
    assert summary["gamma"]["chunks_written"] == 1
    assert all(r.status == "SUCCEEDED" for r in results.values())
    assert work["source alpha"] == 0 and work["read alpha"] == 0
    assert work["source beta"] == 1 and work["source gamma"] == 1
    work.clear()
    assert all(r.carried_over for r in _run(config).values())  # proved again: quiet again
    assert work == Counter()


def test_a_changed_byte_is_found_by_the_next_run_and_by_validate(
    setup: tuple[ExportConfig, ExportLayout, Counter[str]],
) -> None:
    config, layout, _work = setup
    _run(config)
    alpha = TableRef("main", "alpha")
    chunk = layout.chunk_file(alpha, 0)
    info = chunk.stat()
    text = gzip.decompress(chunk.read_bytes())
    changed = text.replace(b'\n5,15,"alpha 5"', b'\n5,16,"alpha 5"', 1)  # one byte, a sum
    assert changed != text
    chunk.write_bytes(gzip.compress(changed))
    results = _run(config)
    assert results["alpha"].status == "FAILED" and not results["alpha"].carried_over
    assert not layout.proof_file(alpha).exists(), "a failed validation leaves no proof"
    assert results["beta"].carried_over and results["beta"].status == "SUCCEEDED"
    # Even with the modification time set back to what the proof recorded, `validate` reads
    # every file: it never carries a verdict over.
    os.utime(chunk, ns=(info.st_atime_ns, info.st_mtime_ns))
    checked = {r.table.name: r for r in validate_existing(config).results}
    assert checked["alpha"].status == "FAILED"
    assert {r.carried_over for r in checked.values()} == {False}
