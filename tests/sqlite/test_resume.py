"""Resume: a re-run reuses the frozen plan, leaves finished chunk files alone, re-creates only
what is missing (with identical content), and sweeps temp files left by a crash."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from exporter.layout import temp_path
from tests.sqlite.conftest import Demo
from tests.sqlite.helpers import (
    chunk_files,
    export,
    exported_rows,
    file_state,
    report,
    source_rows,
    summary,
    table_dir,
    unzipped,
)


def _chunk_states(out: Path) -> dict[str, tuple[int, int, int]]:
    return {
        str(p.relative_to(out)): file_state(p)
        for p in sorted(out.rglob("data_chunk_*"))  # chunk files and their sidecars
    }


def test_second_run_rewrites_nothing(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys).code == 0
    before = _chunk_states(demo.out)
    plans = {p: file_state(p) for p in demo.out.rglob("plan.json")}
    assert len([k for k in before if k.endswith(".csv.gz")]) >= 5

    again = export(demo.config, capsys, "--workers", "1")

    assert again.code == 0, again.err
    assert report(demo.out)["workers"] == 1, "--workers overrides export.workers"
    assert _chunk_states(demo.out) == before
    assert {p: file_state(p) for p in demo.out.rglob("plan.json")} == plans
    for name, entry in summary(demo.out).items():
        assert entry["status"] == "SUCCEEDED", (name, entry["errors"])
        assert entry["chunks_written"] == 0, name
        assert entry["chunks_skipped"] == entry["chunks_planned"], name
        assert entry["validation"]["row_count_match"] is True


def test_deleted_chunk_is_recreated_identically(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys).code == 0
    orders = chunk_files(demo.out, "orders")
    assert len(orders) >= 2
    victim = orders[1]
    content = unzipped(victim)
    others = {i: file_state(p) for i, p in orders.items() if i != 1}
    small = {n: file_state(chunk_files(demo.out, n)[0]) for n in ("customers", "notes")}
    victim.unlink()

    again = export(demo.config, capsys)

    assert again.code == 0, again.err
    assert victim.is_file()
    assert unzipped(victim) == content
    after = chunk_files(demo.out, "orders")
    assert sorted(after) == sorted(orders)
    assert {i: file_state(p) for i, p in after.items() if i != 1} == others
    assert {n: file_state(chunk_files(demo.out, n)[0]) for n in small} == small
    entry = summary(demo.out)["orders"]
    assert entry["status"] == "SUCCEEDED"
    assert entry["chunks_written"] == 1
    assert entry["chunks_skipped"] == entry["chunks_planned"] - 1
    assert entry["rows_exported"] == sum(source_rows(demo.db, "orders").values())


def test_deleted_table_folder_is_reexported(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys).code == 0
    folder = table_dir(demo.out, "orders")
    contents = {i: unzipped(p) for i, p in chunk_files(demo.out, "orders").items()}
    customers = file_state(chunk_files(demo.out, "customers")[0])
    shutil.rmtree(folder)

    again = export(demo.config, capsys)

    assert again.code == 0, again.err
    assert (folder / "config" / "plan.json").is_file()
    rewritten = chunk_files(demo.out, "orders")
    assert {i: unzipped(p) for i, p in rewritten.items()} == contents
    assert exported_rows(demo.out, "orders") == source_rows(demo.db, "orders")
    entry = summary(demo.out)["orders"]
    assert entry["status"] == "SUCCEEDED"
    assert entry["chunks_written"] == entry["chunks_planned"] == len(contents)
    assert entry["chunks_skipped"] == 0
    assert file_state(chunk_files(demo.out, "customers")[0]) == customers


def test_stale_temp_files_are_swept(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys).code == 0
    orders = chunk_files(demo.out, "orders")
    content = unzipped(orders[1])
    # A crash while writing chunk 1: the final name is gone, a partial temp file remains.
    orders[1].unlink()
    partial = temp_path(orders[1])
    partial.write_bytes(b"\x1f\x8b partial gzip")
    other_pid = orders[0].with_name(f".{orders[0].name}.{os.getpid() + 12345}.tmp")
    other_pid.write_bytes(b"left by a killed worker")
    sidecar_dir = table_dir(demo.out, "orders") / "config" / "chunks"
    json_tmp = temp_path(sidecar_dir / "data_chunk_1.json")
    json_tmp.write_text("{", encoding="utf-8")
    report_tmp = temp_path(demo.out / "summary_report.json")
    report_tmp.write_text("{", encoding="utf-8")
    # Files a user put there are not temp files and must survive.
    keep = [
        table_dir(demo.out, "orders") / "README.tmp",
        table_dir(demo.out, "orders") / "notes.txt",
        table_dir(demo.out, "orders") / ".keep",
    ]
    for path in keep:
        path.write_text("mine", encoding="utf-8")

    again = export(demo.config, capsys)

    assert again.code == 0, again.err
    for stale in (partial, other_pid, json_tmp, report_tmp):
        assert not stale.exists(), stale
    for path in keep:
        assert path.read_text(encoding="utf-8") == "mine", path
    assert unzipped(orders[1]) == content
    assert not [p for p in demo.out.rglob(".*.tmp")]
    entry = summary(demo.out)["orders"]
    assert entry["status"] == "SUCCEEDED", entry["errors"]
    assert entry["chunks_written"] == 1
