"""The source's side of validation is taken per chunk by the workers, at the run's snapshot,
instead of one serial COUNT(*) and SUM over the whole table at the end (issue 14). A table
whose chunks come from two runs, so from two snapshots, is counted whole again: its files may
hold a row twice or not at all, which the chunks' own figures could not tell."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from exporter.layout import ExportLayout
from exporter.model import TableRef
from tests.postgres.test_split_tables import create_events, write_config
from tests.sqlite.helpers import export, summary

pytestmark = pytest.mark.postgres

ROWS = 40_000


def _stats(layout: ExportLayout, ref: TableRef) -> dict[int, dict[str, Any]]:
    return {
        i: json.loads(layout.chunk_stats_file(ref, i).read_text(encoding="utf-8"))
        for i in layout.existing_chunk_files(ref)
    }


def _file_rows(path: Path) -> int:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return sum(1 for _ in handle) - 1  # no value here holds a line break


def test_each_chunk_carries_the_source_figures_of_its_range(
    pg: Any, pg_schema: str, tmp_path: Path, capsys: object
) -> None:
    create_events(pg, pg_schema, rows=ROWS)
    ((total,),) = pg.execute(f'SELECT sum(amount) FROM "{pg_schema}".events').fetchall()
    config = write_config(tmp_path, pg_schema, chunk_size_mb=0.5)
    layout, ref = ExportLayout(tmp_path / "out"), TableRef(pg_schema, "events")

    result = export(config, capsys)

    assert result.code == 0, result.err
    stats = _stats(layout, ref)
    assert len(stats) >= 4
    for index, path in layout.existing_chunk_files(ref).items():
        assert stats[index]["source_rows"] == _file_rows(path)
    assert sum(s["source_rows"] for s in stats.values()) == ROWS
    amounts = sum(float(s["source_sums"]["amount"] or 0) for s in stats.values())
    assert amounts == pytest.approx(float(total))
    assert len({s["snapshot"] for s in stats.values()}) == 1
    meta = json.loads(layout.metadata_file(ref).read_text(encoding="utf-8"))
    assert meta["source_figures_over"].startswith("the chunks' ranges")
    assert meta["source_row_count"] == ROWS and meta["row_count_match"] is True


def test_a_table_resumed_at_another_snapshot_is_counted_whole_and_a_change_found(
    pg: Any, pg_schema: str, tmp_path: Path, capsys: object
) -> None:
    s = f'"{pg_schema}"'
    pg.execute(f"CREATE TABLE {s}.ledger (id bigint PRIMARY KEY, amount numeric(12, 2))")
    pg.execute(f"INSERT INTO {s}.ledger SELECT g, g / 100.0 FROM generate_series(1, {ROWS}) AS g")
    pg.execute(f"ANALYZE {s}.ledger")
    config = write_config(tmp_path, pg_schema, chunk_size_mb=0.3)
    out = tmp_path / "out"
    layout, ref = ExportLayout(out), TableRef(pg_schema, "ledger")
    assert export(config, capsys).code == 0
    assert summary(out)["ledger"]["status"] == "SUCCEEDED"
    chunks = layout.existing_chunk_files(ref)
    assert len(chunks) >= 3

    # The first chunk is lost, and rows of the last ones change before the re-run: the
    # re-run reads chunk 0 at a new snapshot, the others hold the old image.
    chunks[0].unlink()
    pg.execute(f"UPDATE {s}.ledger SET amount = amount + 1 WHERE id > {ROWS - 100}")
    again = export(config, capsys)

    entry = summary(out)["ledger"]
    meta = json.loads(layout.metadata_file(ref).read_text(encoding="utf-8"))
    assert meta["snapshot"] is None  # no one snapshot holds every chunk
    assert meta["source_figures_over"].startswith("the whole table")
    assert again.code != 0 and entry["status"] == "FAILED"
    assert any("sum of amount" in f for f in entry["validation"]["failures"])
