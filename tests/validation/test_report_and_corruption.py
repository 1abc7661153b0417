"""summary_report.json against its template, and `validate` on chunk files changed by hand."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from exporter.config import ExportConfig, parse_config
from exporter.export.revalidate import validate_existing
from exporter.export.run import run_export
from exporter.fsutil import read_json
from exporter.layout import ExportLayout
from exporter.model import TableRef

TEMPLATE = Path(__file__).resolve().parents[2] / "summary_report.json.template"
ORDERS = TableRef("main", "orders")


def exported(tmp_path: Path) -> tuple[ExportConfig, ExportLayout]:
    db = tmp_path / "shop.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, qty INTEGER, price REAL, note TEXT)")
    con.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?)",
        [(i, i % 9, i * 0.25, None if i % 4 else f"n{i}") for i in range(1, 2001)],
    )
    con.execute("CREATE TABLE tags (t TEXT)")
    con.execute("INSERT INTO tags VALUES ('a')")
    con.commit()
    con.close()
    config = parse_config(
        {
            "source": {"engine": "sqlite", "path": str(db)},
            "export": {
                "output_dir": str(tmp_path / "out"),
                "chunk_threshold_gb": 0.00002,
                "chunk_size_mb": 0.02,
                "workers": 2,  # `validate` reads the files back in two processes
            },
        }
    )
    assert run_export(config, inline=True, show_progress=False).ok
    layout = ExportLayout(tmp_path / "out")
    assert len(layout.existing_chunk_files(ORDERS)) >= 2
    return config, layout


def shape(value: Any) -> Any:
    """Keys of every object, recursively; a list of objects has its first item's shape."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value and isinstance(value[0], dict) else "list"
    return None


def test_template_documents_every_field(tmp_path: Path) -> None:
    _, layout = exported(tmp_path)
    report = read_json(layout.summary_report())
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    orders = next(t for t in report["tables"] if t["table"] == "orders")
    report["tables"] = [orders]  # the table with column sums and a validation
    assert shape(report) == shape(template)
    assert report["totals"]["validated"] == 2 and report["totals"]["validation_failed"] == 0

    def strings(value: Any) -> bool:
        if isinstance(value, dict):
            return all(strings(v) for v in value.values())
        if isinstance(value, list):
            return all(strings(v) for v in value)
        return isinstance(value, str) and len(value) > 10

    assert strings(template)


def rewrite(path: Path, edit: Any) -> None:
    """Decompress a chunk file, edit its lines, and compress it again (an edit by hand)."""
    lines = gzip.decompress(path.read_bytes()).decode("utf-8").splitlines(keepends=True)
    path.write_bytes(gzip.compress("".join(edit(lines)).encode("utf-8")))


def change_qty(lines: list[str]) -> list[str]:
    cells = lines[1].split(",")
    cells[1] = str(int(cells[1]) + 5)
    return [lines[0], ",".join(cells), *lines[2:]]


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "unreadable"),
        (lambda p: rewrite(p, lambda lines: lines[:1] + lines[2:]), "row count: source 2000"),
        (lambda p: rewrite(p, change_qty), "sum of qty: source"),
        (
            lambda p: rewrite(p, lambda lines: [lines[0].replace("qty", "qtx"), *lines[1:]]),
            "header",
        ),
    ],
    ids=["truncated", "row deleted", "value changed", "header edited"],
)
def test_a_damaged_chunk_fails_validate(tmp_path: Path, damage: Any, named: str) -> None:
    config, layout = exported(tmp_path)
    chunk = layout.chunk_file(ORDERS, 1)
    record = layout.chunk_stats_file(ORDERS, 1).read_bytes()
    damage(chunk)
    run = validate_existing(config)
    # The worker's record survives as evidence; it is never rewritten to fit the file.
    assert layout.chunk_stats_file(ORDERS, 1).read_bytes() == record
    by_table = {r.table: r for r in run.results}
    assert by_table[TableRef("main", "tags")].status == "SUCCEEDED"
    result = by_table[ORDERS]
    assert result.status == "FAILED"
    assert any(named in e for e in result.errors), result.errors
    report = read_json(layout.summary_report())
    assert report["status"] == "FAILED" and report["totals"]["failed"] == 1
    meta = read_json(layout.metadata_file(ORDERS))
    assert meta["status"] == "FAILED" and meta["errors"] == result.errors


def test_a_row_deleted_by_hand_is_caught_against_the_worker_record(tmp_path: Path) -> None:
    config, layout = exported(tmp_path)
    rewrite(layout.chunk_file(ORDERS, 0), lambda lines: lines[:1] + lines[2:])
    result = {r.table: r for r in validate_existing(config).results}[ORDERS]
    assert result.status == "FAILED"
    assert any("recorded by the worker" in e for e in result.errors), result.errors


def test_a_failed_table_still_gets_its_files(tmp_path: Path) -> None:
    db = tmp_path / "bad.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE bad (id INTEGER, t TEXT)")
    con.execute("INSERT INTO bad VALUES (1, '\\N')")  # a value equal to the null marker
    con.commit()
    con.close()
    config = parse_config(
        {"source": {"engine": "sqlite", "path": str(db)}, "export": {"output_dir": str(tmp_path)}}
    )
    run = run_export(config, inline=True, show_progress=False)
    assert not run.ok
    layout, table = ExportLayout(tmp_path), TableRef("main", "bad")
    meta = read_json(layout.metadata_file(table))
    assert meta["status"] == "FAILED" and "null marker" in meta["errors"][0]
    assert meta["source_row_count"] is None and meta["validation_ran"] is False
    assert layout.schema_file(table).exists() and layout.load_command_file(table).exists()
    assert not layout.validation_sql_file(table).exists()  # no source figures to check against


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("DELETE FROM orders WHERE id % 100 = 0", "row count: source 1980, files 2000"),
        (
            "INSERT INTO orders SELECT id + 5000, qty, price, note FROM orders WHERE id <= 7",
            "row count: source 2007, files 2000",
        ),
    ],
    ids=["rows deleted at the source", "rows added at the source"],
)
def test_the_source_count_against_the_files(tmp_path: Path, change: str, expected: str) -> None:
    """Files that agree with their workers' records but not with the source: only the source's
    COUNT(*) against the files' rows can catch it (and the sums, here)."""
    config, layout = exported(tmp_path)
    con = sqlite3.connect(tmp_path / "shop.sqlite")
    con.execute(change)
    con.commit()
    con.close()
    result = {r.table: r for r in validate_existing(config).results}[ORDERS]
    assert result.status == "FAILED"
    assert expected in result.errors, result.errors
    assert not any("recorded by the worker" in e for e in result.errors)
    meta = read_json(layout.metadata_file(ORDERS))
    assert meta["row_count_match"] is False and meta["exported_row_count"] == 2000


def test_a_worker_never_writes_over_a_chunk_file_that_exists(tmp_path: Path) -> None:
    """export_chunk's own guard, apart from the planner's: a task for a chunk whose file is
    there (another run, a duplicate task) leaves the file, and its record, as they are."""
    from exporter.export.planner import plan_export
    from exporter.export.task import ChunkTask, WriteOptions, export_chunk
    from exporter.runtime import connections
    from exporter.sources import get_source

    config, layout = exported(tmp_path)
    source = get_source(config.source)
    (planned,) = [p for p in plan_export(source, config.export, layout) if p.table == ORDERS]
    assert planned.plan is not None
    final = layout.chunk_file(ORDERS, 0)
    final.write_bytes(b"not a chunk: the guard must not read or replace it")
    record = layout.chunk_stats_file(ORDERS, 0).read_bytes()
    options = WriteOptions(None, 100, True, "auto")
    chunk = planned.plan.chunks[0]
    task = ChunkTask(config.source.plain(), planned.plan, chunk, layout.spec, options)
    connections.close_connections()
    outcome = export_chunk(task)
    assert outcome.skipped and outcome.error is None and outcome.stats is None
    assert final.read_bytes() == b"not a chunk: the guard must not read or replace it"
    assert layout.chunk_stats_file(ORDERS, 0).read_bytes() == record
    assert not connections._cache, "the guard comes before any connection"


def test_a_chunk_published_meanwhile_by_another_writer_is_left_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First writer wins: a task whose chunk was published while it read it (a task of an
    interrupted run still running on a Dask worker, docs/SCALE_OUT.md) replaces neither the
    file nor its record, and leaves no temp file."""
    from exporter.export import task as task_module
    from exporter.export.planner import plan_export
    from exporter.export.task import ChunkTask, WriteOptions, export_chunk
    from exporter.layout import is_temp_file
    from exporter.runtime import connections
    from exporter.sources import get_source

    config, layout = exported(tmp_path)
    source = get_source(config.source)
    (planned,) = [p for p in plan_export(source, config.export, layout) if p.table == ORDERS]
    assert planned.plan is not None
    final, record = layout.chunk_file(ORDERS, 0), layout.chunk_stats_file(ORDERS, 0)
    final.unlink()  # to be written again by this task
    theirs, their_record = b"the other writer's chunk", b'{"the other writer": true}\n'
    reading = task_module.write_row_batches

    def published_meanwhile(*args: Any, **kwargs: Any) -> Any:
        sums = reading(*args, **kwargs)
        record.write_bytes(their_record)
        final.write_bytes(theirs)
        return sums

    monkeypatch.setattr(task_module, "write_row_batches", published_meanwhile)
    options = WriteOptions(None, 100, True, "rows")
    chunk = planned.plan.chunks[0]
    task = ChunkTask(config.source.plain(), planned.plan, chunk, layout.spec, options)
    connections.close_connections()
    outcome = export_chunk(task)
    connections.close_connections()

    assert outcome.skipped and outcome.error is None, outcome
    assert final.read_bytes() == theirs
    assert record.read_bytes() == their_record
    assert [p for p in final.parent.rglob("*") if is_temp_file(p)] == []
