"""The source's figures of a chunk's range are taken on a second connection of the worker, at
the run's exported snapshot, while the chunk is read (export/figures.py): both sessions hold
the one snapshot at once. A chunk is published only with its figures; a failing figures query
fails the chunk in the source's words, and a failing read waits for its figures."""

from __future__ import annotations

import errno
import gzip
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from exporter.export import task
from exporter.export.run import run_export
from exporter.layout import ExportLayout
from exporter.model import TableRef
from exporter.runtime import connections
from exporter.sources import get_source
from exporter.sources.dialect import Query
from exporter.sources.postgres import PostgresSource
from tests.conftest import make_config, pg_source

pytestmark = pytest.mark.postgres

ROWS = 40_000


def _ledger(pg: Any, schema: str, tmp_path: Path) -> tuple[Any, ExportLayout, TableRef]:
    """A table of a few chunks, its export config (inline, so that the test's patches reach
    the tasks), the output layout and the table."""
    s = f'"{schema}"'
    pg.execute(f"CREATE TABLE {s}.ledger (id bigint PRIMARY KEY, amount numeric(12, 2))")
    pg.execute(f"INSERT INTO {s}.ledger SELECT g, g / 100.0 FROM generate_series(1, {ROWS}) AS g")
    pg.execute(f"ANALYZE {s}.ledger")
    out = tmp_path / "out"
    config = make_config(
        pg_source(), out, schemas=[schema], chunk_threshold_gb=0.001, chunk_size_mb=0.3
    )
    return config, ExportLayout(out), TableRef(schema, "ledger")


def _export(config: Any) -> Any:
    (result,) = run_export(config, inline=True, validate=True, show_progress=False).results
    return result


def _file_rows(path: Path) -> int:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return sum(1 for _ in handle) - 1


def _figures_keys() -> list[tuple[int, str]]:
    return [key for key in connections._cache if key[1].startswith("figures:")]


def test_figures_run_on_a_second_session_at_the_snapshot_while_the_chunk_is_read(
    pg: Any, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, layout, ref = _ledger(pg, pg_schema, tmp_path)
    # Each chunk's read and figures meet here, both inside their snapshot transactions: run
    # one after the other (on one connection, or the figures after the read), they would not.
    both_in = threading.Barrier(2, timeout=20)
    reads: list[int] = []
    figures: list[tuple[int, str, str]] = []
    bulk_csv, range_figures = PostgresSource.bulk_csv, PostgresSource.range_figures
    write_bulk_lines = task.write_bulk_lines

    def read(self: Any, conn: Any, *args: Any) -> Any:
        reads.append(conn.raw.info.backend_pid)
        return bulk_csv(self, conn, *args)

    def lines(*args: Any) -> Any:
        both_in.wait()
        return write_bulk_lines(*args)

    def figures_of(self: Any, conn: Any, *args: Any) -> Any:
        ((snapshot,),) = conn.fetch_all(Query("SELECT pg_current_snapshot()::text"))
        figures.append((conn.raw.info.backend_pid, threading.current_thread().name, snapshot))
        both_in.wait()
        return range_figures(self, conn, *args)

    monkeypatch.setattr(PostgresSource, "bulk_csv", read)
    monkeypatch.setattr(task, "write_bulk_lines", lines)
    monkeypatch.setattr(PostgresSource, "range_figures", figures_of)

    result = _export(config)

    assert result.status == "SUCCEEDED", result.errors
    files = layout.existing_chunk_files(ref)
    assert len(files) >= 3 and len(reads) == len(figures) == len(files)
    # One session reads, another (kept from chunk to chunk) takes the figures, on a helper.
    assert len(set(reads)) == 1 and len({pid for pid, _, _ in figures}) == 1
    assert set(reads).isdisjoint(pid for pid, _, _ in figures)
    assert all(name.startswith("figures") for _, name, _ in figures)
    assert len({snapshot for _, _, snapshot in figures}) == 1  # the run's exported snapshot
    for index, path in files.items():
        stats = json.loads(layout.chunk_stats_file(ref, index).read_text(encoding="utf-8"))
        assert stats["source_rows"] == stats["rows"] == _file_rows(path)
    assert sum(s.source_rows or 0 for s in result.stats) == ROWS
    # The helper's connection closes with the inline executor's (the owner thread's).
    assert _figures_keys() == []
    figures_pid = figures[0][0]
    deadline = time.monotonic() + 10
    while pg.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (figures_pid,)).fetchall():
        assert time.monotonic() < deadline, "the figures session was left open"
        time.sleep(0.05)


def test_a_failing_figures_query_fails_its_chunk_which_is_not_published(
    pg: Any, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, layout, ref = _ledger(pg, pg_schema, tmp_path)
    source = get_source(config.source)
    conn = source.open()
    try:
        conn.fetch_all(Query("SELECT 1 / 0"))
    except Exception as exc:  # noqa: BLE001 - the driver's error, in the source's words
        expected = source.explain_error(exc).one_line()
    finally:
        conn.close()
    sessions: dict[int, int] = {}
    range_figures = PostgresSource.range_figures

    def figures_of(self: Any, conn: Any, plan: Any, chunk: Any, columns: Any) -> Any:
        sessions[chunk.index] = conn.raw.info.backend_pid
        if chunk.index == 1:
            conn.fetch_all(Query("SELECT 1 / 0"))
        return range_figures(self, conn, plan, chunk, columns)

    monkeypatch.setattr(PostgresSource, "range_figures", figures_of)

    result = _export(config)

    assert result.status == "FAILED"
    assert result.errors == [expected] and "division by zero" in expected
    files = layout.existing_chunk_files(ref)
    assert len(sessions) >= 3 and sorted(files) == [i for i in sorted(sessions) if i != 1]
    # Chunk 1 was read whole, but neither it nor its figures were published.
    assert not layout.chunk_stats_file(ref, 1).exists()
    assert not list(Path(layout.table_dir(ref)).glob(".*"))  # no temp file left
    # The failed session was dropped: the next chunk's figures came from a new one.
    assert sessions[0] == sessions[1] != sessions[2]


def test_a_failing_read_waits_for_its_figures_before_the_chunk_returns(
    pg: Any, pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, layout, ref = _ledger(pg, pg_schema, tmp_path)
    events: list[str] = []
    range_figures, write_chunk = PostgresSource.range_figures, task._write_chunk

    def slow_figures(self: Any, *args: Any) -> Any:
        time.sleep(0.3)  # still running when the read fails
        figures = range_figures(self, *args)
        events.append("figures done")
        return figures

    def full_disk(*args: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    def chunk(*args: Any) -> Any:
        try:
            return write_chunk(*args)
        finally:
            events.append("chunk returned")

    monkeypatch.setattr(PostgresSource, "range_figures", slow_figures)
    monkeypatch.setattr(task, "write_bulk_lines", full_disk)
    monkeypatch.setattr(task, "_write_chunk", chunk)

    result = _export(config)

    assert result.status == "FAILED" and layout.existing_chunk_files(ref) == {}
    assert result.errors and all("No space left" in e for e in result.errors)
    chunks = len(result.errors)
    assert chunks >= 3 and events == ["figures done", "chunk returned"] * chunks
    assert _figures_keys() == []
