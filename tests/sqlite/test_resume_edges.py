"""Resume after the unexpected: the coordinator killed mid-run (SIGKILL), a lost statistics
sidecar, a chunk file the plan does not know, chunk files without their plan."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.sqlite.conftest import DEMO_EXPORT, Demo
from tests.sqlite.helpers import (
    chunk_files,
    export,
    exported_rows,
    file_state,
    source_rows,
    start_export_once_a_chunk_exists,
    summary,
    table_dir,
    write_config,
)


def _group_alive(pgid: int) -> bool:
    """True while a process of group `pgid` is still running (zombies waiting to be reaped
    by init do not count: they cannot write anything)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and PDEATHSIG")
def test_kill_mid_run_then_resume(demo: Demo, capsys: object) -> None:
    # Small chunks and fetches, so the run is still going when the first chunk appears.
    config = write_config(
        demo.root, demo.db, demo.out, **{**DEMO_EXPORT, "chunk_size_mb": 0.25, "fetch_rows": 500}
    )
    proc = start_export_once_a_chunk_exists(config, demo.root, demo.out, "orders")
    try:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        # Workers die with the coordinator (PR_SET_PDEATHSIG): nothing keeps writing files.
        deadline = time.monotonic() + 10
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group_alive(proc.pid), "worker processes outlived the killed coordinator"
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (demo.out / "summary_report.json").exists()
    survivors = {i: file_state(p) for i, p in chunk_files(demo.out, "orders").items()}

    again = export(config, capsys)

    assert again.code == 0, again.err
    tables = summary(demo.out)
    for name, entry in tables.items():
        assert entry["status"] == "SUCCEEDED", (name, entry["errors"])
        assert exported_rows(demo.out, name) == source_rows(demo.db, name), name
    orders = chunk_files(demo.out, "orders")
    assert len(orders) == tables["orders"]["chunks_planned"] > len(survivors)
    assert {i: file_state(orders[i]) for i in survivors} == survivors
    assert tables["orders"]["chunks_skipped"] == len(survivors)
    assert not [p for p in demo.out.rglob("*.tmp")]


def test_lost_sidecar_is_recounted(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys).code == 0
    chunk = chunk_files(demo.out, "orders")[1]
    state = file_state(chunk)
    sidecar = table_dir(demo.out, "orders") / "config" / "chunks" / "data_chunk_1.json"
    assert sidecar.is_file()
    sidecar.unlink()

    again = export(demo.config, capsys)

    assert again.code == 0, again.err
    assert file_state(chunk) == state
    assert sidecar.is_file()
    entry = summary(demo.out)["orders"]
    assert entry["status"] == "SUCCEEDED"
    assert entry["rows_exported"] == sum(source_rows(demo.db, "orders").values())
    assert entry["validation"]["failures"] == []


def test_chunk_file_unknown_to_the_plan(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys).code == 0
    orders = chunk_files(demo.out, "orders")
    stray = orders[0].with_name("data_chunk_99.csv.gz")
    stray.write_bytes(orders[0].read_bytes())

    again = export(demo.config, capsys)

    assert again.code == 1
    tables = summary(demo.out)
    assert tables["orders"]["status"] == "FAILED"
    assert "99" in tables["orders"]["error"]
    assert stray.exists(), "a file the tool did not expect must not be deleted"
    assert all(t["status"] == "SUCCEEDED" for n, t in tables.items() if n != "orders")


def test_chunks_without_their_plan(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys).code == 0
    plan = table_dir(demo.out, "orders") / "config" / "plan.json"
    plan.unlink()
    states = {i: file_state(p) for i, p in chunk_files(demo.out, "orders").items()}

    again = export(demo.config, capsys)

    assert again.code == 1
    entry = summary(demo.out)["orders"]
    assert entry["status"] == "FAILED"
    assert "plan.json" in entry["error"]
    assert {i: file_state(p) for i, p in chunk_files(demo.out, "orders").items()} == states
    assert not plan.exists(), "a new plan must not be frozen over untrusted chunk files"


def test_sidecars_are_read_at_once_and_lost_ones_recounted_one_at_a_time(
    demo: Demo, capsys: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import threading

    from exporter.export import resume
    from exporter.export.resume import all_chunk_stats
    from exporter.layout import ExportLayout
    from exporter.model import TablePlan
    from exporter.storage import StoreSpec

    assert export(demo.config, capsys).code == 0
    plan_path = table_dir(demo.out, "orders") / "config" / "plan.json"
    plan = TablePlan.from_json(json.loads(plan_path.read_text()))
    assert len(plan.chunks) >= 3
    layout = ExportLayout.at(StoreSpec(str(demo.out)))
    expected = all_chunk_stats(plan, layout)
    lost = table_dir(demo.out, "orders") / "config" / "chunks" / "data_chunk_1.json"
    lost.unlink()

    # Two sidecar reads must be in flight together (a serial loop breaks the barrier);
    # recounts must never overlap.
    together = threading.Barrier(2, timeout=10)
    recorded, recounted = resume.recorded_stats, resume.recounted_stats
    counting = threading.Lock()

    def reading(*args: object) -> object:
        if args[2] in (0, 2):
            together.wait()
        return recorded(*args)  # type: ignore[arg-type]

    def recounting(*args: object) -> object:
        assert counting.acquire(blocking=False), "two recounts at once"
        try:
            return recounted(*args)  # type: ignore[arg-type]
        finally:
            counting.release()

    monkeypatch.setattr(resume, "recorded_stats", reading)
    monkeypatch.setattr(resume, "recounted_stats", recounting)
    again = all_chunk_stats(plan, layout)

    assert [s.index for s in again] == [c.index for c in plan.chunks]
    assert [(s.rows, s.sums) for s in again] == [(s.rows, s.sums) for s in expected]
    assert lost.is_file()
