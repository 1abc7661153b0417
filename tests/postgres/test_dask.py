"""Scale-out on a Dask cluster (issue 16), on a LocalCluster of three worker processes with one
thread each: the same plan exported through it writes what the local pool writes, rows
reported on a worker reach the coordinator's bar, results come back as they finish, and a
worker killed in the middle of a chunk costs neither a chunk nor a row, nor repeats one."""

from __future__ import annotations

import gzip
import os
import signal
import threading
import time
from concurrent.futures import as_completed
from pathlib import Path
from typing import Any

import pytest

from exporter.config import parse_config
from exporter.export.run import run_export
from exporter.layout import ExportLayout, is_temp_file
from exporter.model import TableRef
from exporter.runtime.dask_executor import connect_cluster
from exporter.runtime.executors import open_executor
from exporter.runtime.progress import report_rows
from exporter.storage import list_names
from tests.postgres.scale_helpers import ROWS, TABLE, config_data, create_table, id_counts, wait_for

pytestmark = pytest.mark.postgres


def _on_dask(data: dict[str, Any], cluster: Any) -> dict[str, Any]:
    return {**data, "executor": {"kind": "dask", "address": cluster.scheduler_address}}


def test_the_cluster_writes_what_the_local_pool_writes(
    pg: Any, pg_schema: str, tmp_path: Path, dask_cluster: Any
) -> None:
    from distributed import Client, get_task_stream

    create_table(pg, pg_schema)
    local, remote = tmp_path / "local", tmp_path / "dask"
    by_pool = run_export(parse_config(config_data(pg_schema, str(local))), show_progress=False)
    config = parse_config(_on_dask(config_data(pg_schema, str(remote)), dask_cluster))
    with Client(dask_cluster) as client, get_task_stream(client) as stream:
        by_cluster = run_export(config, show_progress=False)

    assert [r.status for r in by_pool.results + by_cluster.results] == ["SUCCEEDED"] * 2
    assert by_cluster.workers == 3  # the cluster's threads, not this machine's pool
    ref = TableRef(pg_schema, TABLE)
    pool_files = ExportLayout(local).existing_chunk_files(ref)
    cluster_files = ExportLayout(remote).existing_chunk_files(ref)
    assert len(pool_files) >= 5 and pool_files.keys() == cluster_files.keys()
    for index, path in pool_files.items():
        same = gzip.decompress(path.read_bytes()) == gzip.decompress(
            cluster_files[index].read_bytes()
        )
        assert same, f"chunk {index} differs"
    # Every chunk was written, and read back for validation, by the cluster's workers.
    keys = [str(task["key"]) for task in stream.data]
    assert sum(k.startswith("export_chunk-") for k in keys) == len(pool_files)
    assert sum(k.startswith("_read-") for k in keys) == len(pool_files)
    (result,) = by_cluster.results
    assert result.validation is not None and not result.validation.failures
    assert result.validation.exported_row_count == result.validation.source_row_count == ROWS


class _Rows:
    """Stands in for the bars: counts what reaches add_rows."""

    def __init__(self) -> None:
        self.rows = 0

    def add_rows(self, table: str, rows: int) -> None:
        self.rows += rows


def test_rows_and_results_come_back_from_the_workers_as_they_happen(dask_cluster: Any) -> None:
    rows = _Rows()
    with (
        connect_cluster(dask_cluster.scheduler_address) as cluster,
        open_executor("dask", 1, progress=rows, cluster=cluster) as executor,
    ):
        reported = [executor.submit(report_rows, "s.t", 7) for _ in range(5)]
        assert [f.result(timeout=30) for f in reported] == [None] * 5
        wait_for("the rows reported on the workers", lambda: rows.rows == 35, timeout=10)
        slow, fast = executor.submit(time.sleep, 1.5), executor.submit(abs, -3)
        assert next(as_completed([slow, fast], timeout=30)) is fast
        assert fast.result() == 3 and slow.result(timeout=30) is None


def test_a_worker_killed_mid_chunk_loses_and_repeats_nothing(
    pg: Any, pg_schema: str, tmp_path: Path, dask_cluster: Any
) -> None:
    from distributed import Client

    create_table(pg, pg_schema)
    out = tmp_path / "out"
    config = parse_config(_on_dask(config_data(pg_schema, str(out)), dask_cluster))
    layout, ref = ExportLayout(out), TableRef(pg_schema, TABLE)
    finished: dict[str, Any] = {}
    with Client(dask_cluster) as client:
        client.wait_for_workers(3, timeout=60)
        workers = set(client.run(os.getpid).values())

        def being_written() -> tuple[int, str] | None:
            """A worker's temp file in the table's folder: a chunk half written."""
            for name in list_names(layout.table_dir(ref)):
                if is_temp_file(Path(name)):
                    pid = int(name.rsplit(".", 2)[-2].split("-")[0])
                    if pid in workers:
                        return pid, name
            return None

        export = threading.Thread(
            target=lambda: finished.update(run=run_export(config, show_progress=False))
        )
        export.start()
        try:
            pid, temp = wait_for("a chunk being written", being_written)
            os.kill(pid, signal.SIGKILL)
        finally:
            export.join(timeout=240)

    (result,) = finished["run"].results
    assert result.status == "SUCCEEDED", result.errors
    assert result.plan is not None
    planned = len(result.plan.chunks)
    assert result.written + result.skipped == planned  # each chunk counted once
    files = layout.existing_chunk_files(ref)
    assert len(files) == planned
    killed_chunk = int(temp.split("data_chunk_", 1)[1].split(".", 1)[0])
    assert killed_chunk in files  # run again on another worker, published whole
    counts = id_counts(path.read_bytes() for path in files.values())
    assert sum(counts.values()) == ROWS and set(counts) == set(range(1, ROWS + 1))
    assert [name for name in list_names(layout.table_dir(ref)) if is_temp_file(Path(name))] == []
    assert result.validation is not None and result.validation.source_row_count == ROWS


def test_ctrl_c_on_the_coordinator_leaves_whole_chunks_and_the_rerun_finishes(
    pg: Any, pg_schema: str, tmp_path: Path, dask_cluster: Any
) -> None:
    """SIGINT to the coordinator's process group (a terminal's Ctrl-C; the cluster's workers
    are elsewhere): exit 130 with the one line, the tasks not started are cancelled, those
    running finish and publish whole files, and the same command completes the export with
    every row exactly once."""
    import yaml
    from distributed import Client

    from tests.postgres.scale_helpers import records
    from tests.sqlite.helpers import start_export

    create_table(pg, pg_schema)
    out = tmp_path / "out"
    data = _on_dask(config_data(pg_schema, str(out), chunk_size_mb=0.5), dask_cluster)
    config = tmp_path / "dask.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    layout, ref = ExportLayout(out), TableRef(pg_schema, TABLE)
    proc = start_export(config, tmp_path)
    try:
        wait_for(
            "a first chunk", lambda: layout.existing_chunk_files(ref) or proc.poll() is not None
        )
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, (proc.returncode, err)
    assert [line for line in err.splitlines() if "INFO" not in line] == [
        "interrupted: re-run the same command to resume"
    ], err
    with Client(dask_cluster) as client:  # the tasks that were running finish on the cluster
        wait_for("the cluster idle", lambda: not any(client.processing().values()), every=0.05)
    interrupted = layout.existing_chunk_files(ref)
    for path in interrupted.values():
        assert records(path.read_bytes())  # each a complete gzip stream with its header

    rerun = run_export(parse_config(data), show_progress=False)

    (result,) = rerun.results
    assert result.status == "SUCCEEDED", result.errors
    assert result.plan is not None and len(interrupted) < len(result.plan.chunks)
    files = layout.existing_chunk_files(ref)
    counts = id_counts(path.read_bytes() for path in files.values())
    assert sum(counts.values()) == ROWS and set(counts) == set(range(1, ROWS + 1))
    assert [name for name in list_names(layout.table_dir(ref)) if is_temp_file(Path(name))] == []
