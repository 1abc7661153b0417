"""The demo flow end to end: `python -m exporter --config F` (the default command) builds the
demo database, splits `orders`, exports with a real spawned pool of 2 workers, validates, and
every source row comes back exactly once."""

from __future__ import annotations

import gzip
from pathlib import Path

import yaml

from tests.sqlite.conftest import Demo
from tests.sqlite.helpers import (
    REPO,
    chunk_files,
    export,
    exported_rows,
    load_plan,
    report,
    run_inprocess,
    run_subprocess,
    source_count,
    source_rows,
    source_tables,
    summary,
    table_dir,
)

DEMO_TABLES = ["customers", "notes", "orders", "products"]


def test_demo_export_with_process_pool(tmp_path: Path) -> None:
    # The shipped config/demo.yaml, unchanged but for an explicit pool of 2 workers; its
    # relative paths (demo_data/demo.sqlite, export_data) resolve against cwd = tmp_path.
    data = yaml.safe_load((REPO / "config" / "demo.yaml").read_text(encoding="utf-8"))
    assert data["source"]["create_demo"] is True
    assert not Path(data["source"]["path"]).is_absolute()
    assert not Path(data["export"]["output_dir"]).is_absolute()
    data["export"]["workers"] = 2
    config = tmp_path / "demo.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    db = tmp_path / data["source"]["path"]
    out = tmp_path / data["export"]["output_dir"]
    assert not db.exists()

    result = run_subprocess(["--config", "demo.yaml"], cwd=tmp_path)

    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    assert db.is_file(), "create_demo: true must build the demo database"
    assert source_tables(db) == DEMO_TABLES
    assert "4 of 4 table(s) succeeded" in result.out

    whole = report(out)
    assert whole["status"] == "SUCCEEDED"
    assert whole["workers"] == 2
    assert whole["totals"]["failed"] == 0
    tables = summary(out)
    assert sorted(tables) == DEMO_TABLES
    total = 0
    for name in DEMO_TABLES:
        entry = tables[name]
        expected = source_count(db, name)
        total += expected
        assert entry["status"] == "SUCCEEDED", (name, entry["errors"])
        assert entry["error"] is None and entry["errors"] == []
        assert entry["rows_exported"] == expected, name
        assert entry["validation"]["source_row_count"] == expected, name
        assert entry["validation"]["exported_row_count"] == expected, name
        assert entry["validation"]["row_count_match"] is True
        assert entry["validation"]["failures"] == []
        assert entry["chunks_written"] == entry["chunks_planned"] == len(chunk_files(out, name))
        assert entry["chunks_skipped"] == 0
        assert (
            sum(p.stat().st_size for p in chunk_files(out, name).values()) == entry["bytes_written"]
        )
    assert whole["totals"]["rows_exported"] == total

    # orders is split; the others are small enough for one chunk.
    orders = chunk_files(out, "orders")
    assert len(orders) > 1
    assert sorted(orders) == list(range(len(orders)))
    assert tables["orders"]["strategy"] == "physical"
    for name in ("customers", "notes", "products"):
        assert sorted(chunk_files(out, name)) == [0]

    # Every source row exactly once, across all chunk files (multisets, so a duplicate or a
    # lost row fails even if the counts happened to balance).
    for name in DEMO_TABLES:
        assert exported_rows(out, name) == source_rows(db, name), name

    # Chunk ranges do not overlap: each order_id is in exactly one chunk.
    seen: dict[int, int] = {}
    plan = load_plan(out, "orders")
    for index, path in orders.items():
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            header = handle.readline().rstrip("\n").split(",")
            assert header == [c.name for c in plan.columns] + ["row_hash"]
            for line in handle:
                order_id = int(line.split(",", 1)[0])
                assert order_id not in seen, (order_id, seen.get(order_id), index)
                seen[order_id] = index
    assert len(seen) == source_count(db, "orders")
    assert len(set(seen.values())) == len(orders), "some orders chunk is empty"

    # Per-table artefacts are written beside the chunks; no temp file is left behind.
    for name in DEMO_TABLES:
        cfg = table_dir(out, name) / "config"
        for artefact in ("plan.json", "metadata.json", "schema.json", "validation.sql"):
            assert (cfg / artefact).is_file(), (name, artefact)
    assert not [p for p in out.rglob("*.tmp")]


def test_demo_notes_tricky_values_round_trip(demo: Demo, capsys: object) -> None:
    """The notes table holds NULL next to '', quotes, commas, CR/LF, tabs, backslashes, emoji
    and BLOBs: each decodes back to exactly the stored value."""
    result = export(demo.config, capsys, "--table", "main.notes")
    assert result.code == 0, result.err
    assert sorted(summary(demo.out)) == ["notes"], "--table must narrow the run to one table"
    assert not table_dir(demo.out, "orders").exists()
    exported = exported_rows(demo.out, "notes")
    assert exported == source_rows(demo.db, "notes")
    bodies = [row[1] for row in exported]
    assert None in bodies and "" in bodies
    assert "line one\nline two" in bodies and "cr\r\nlf" in bodies


def test_validate_after_export(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys).code == 0
    before = {n: sorted(chunk_files(demo.out, n)) for n in DEMO_TABLES}

    result = run_inprocess(["validate", "--config", str(demo.config)], capsys)

    assert result.code == 0, result.err
    whole = report(demo.out)
    assert whole["workers"] == 0
    assert whole["status"] == "SUCCEEDED"
    for name, entry in summary(demo.out).items():
        assert entry["validation"]["row_count_match"] is True, name
        assert entry["chunks_written"] == 0
    assert {n: sorted(chunk_files(demo.out, n)) for n in DEMO_TABLES} == before
