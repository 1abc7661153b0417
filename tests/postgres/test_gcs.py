"""Straight to Cloud Storage (issue 16), against a local emulator (gcp-storage-emulator):
an export to gs://bucket/run1 killed with SIGKILL once its first chunk object exists, then
run again with its chunks on a Dask cluster whose workers upload themselves, leaves every
row exactly once, validated, with load_command.sh naming the real gs:// URIs; a bucket that
does not exist is one line.

gcsfs is pointed at the emulator by `export.storage_options.endpoint_url` (the same as
STORAGE_EMULATOR_HOST), with `token: anon`. gcsfs uploads a file smaller than 50 MiB in one
multipart request and a larger one as a resumable upload; the emulator (2026.7.19) takes
both (tried with 3 MB and 60 MB files), so no block size needs setting. What it cannot serve
is the gRPC storage-control API that gcsfs's optional zonal/hierarchical-bucket support
calls first, so with an emulator the exporter uses gcsfs's core class (storage.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.cli import main
from tests.postgres.scale_helpers import ROWS, TABLE, config_data, create_table, id_counts, wait_for

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]


def _store(endpoint: str) -> Any:
    from gcsfs.core import GCSFileSystem

    # A listing cache would hide objects the export writes meanwhile.
    return GCSFileSystem(endpoint_url=endpoint, token="anon", use_listings_cache=False)


def _write_config(tmp_path: Path, data: dict[str, Any], endpoint: str) -> Path:
    data["export"]["storage_options"] = {"endpoint_url": endpoint, "token": "anon"}
    path = tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_killed_then_resumed_on_dask_every_row_once_in_cloud_storage(
    pg: Any, pg_schema: str, tmp_path: Path, gcs_emulator: str, dask_cluster: Any
) -> None:
    create_table(pg, pg_schema)
    root = f"bucket/run1-{pg_schema}"
    config = _write_config(tmp_path, config_data(pg_schema, f"gs://{root}"), gcs_emulator)
    store = _store(gcs_emulator)
    folder = f"{root}/{pg_schema}/{TABLE}"

    def chunk_objects() -> dict[str, bytes]:
        names = [p for p in store.find(folder, maxdepth=1) if p.endswith(".csv.gz")]
        return {p.rsplit("/", 1)[1]: store.cat_file(p) for p in names}

    command = [sys.executable, "-m", "exporter", "export", "--config", str(config)]
    log = tmp_path / "killed.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*command, "--no-progress"], cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            first = lambda: chunk_objects() or proc.poll() is not None  # noqa: E731
            wait_for("a first chunk object", first, every=0.05)  # each look is a request
            assert proc.poll() is None, log.read_text()
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    time.sleep(0.3)  # an upload whose last byte was sent before the kill may still land
    before = chunk_objects()
    assert before, "no chunk object before the kill"
    id_counts(before.values())  # each object there is a whole gzip stream of CSV

    again = subprocess.run(
        [*command, "--no-progress", "--dask", dask_cluster.scheduler_address],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"report: gs://{root}/summary_report.json" in again.stdout

    report = json.loads(store.cat_file(f"{root}/summary_report.json"))
    (entry,) = report["tables"]
    assert report["status"] == entry["status"] == "SUCCEEDED", entry["errors"]
    assert entry["validation"]["source_row_count"] == ROWS and not entry["validation"]["failures"]
    assert entry["output_dir"] == f"gs://{folder}"
    after = chunk_objects()
    assert len(after) == entry["chunks_planned"] >= 5
    assert entry["chunks_skipped"] == len(before) < len(after)  # killed part way
    assert entry["chunks_written"] == len(after) - len(before)  # by the cluster's workers
    assert all(after[name] == data for name, data in before.items()), "a chunk was rewritten"
    counts = id_counts(after.values())
    assert sum(counts.values()) == ROWS and set(counts) == set(range(1, ROWS + 1))
    # Nothing but the export's own names: no temp, probe or half-uploaded object.
    leftovers = [p for p in store.find(root) if p.rsplit("/", 1)[1].startswith(".")]
    assert leftovers == []
    config_dir = f"{folder}/config"
    meta = json.loads(store.cat_file(f"{config_dir}/metadata.json"))
    assert meta["row_count_match"] is True and meta["status"] == "SUCCEEDED"
    assert store.exists(f"{config_dir}/validation.sql") and store.exists(f"{config_dir}/proof.json")
    script = store.cat_file(f"{config_dir}/load_command.sh").decode()
    assert f"gs://{folder}/data_chunk_*.csv.gz" in script and "GCS_BUCKET" not in script


def test_a_bucket_that_does_not_exist_is_one_line(
    pg_available: None, pg_schema: str, tmp_path: Path, gcs_emulator: str, capsys: Any
) -> None:
    config = _write_config(tmp_path, config_data(pg_schema, "gs://no-such-bucket/x"), gcs_emulator)

    code = main(["export", "--config", str(config), "--no-progress"])

    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if line.startswith("error ")]
    assert code == 2, err
    assert line.startswith("error EXP-1018: export.output_dir: cannot use gs://no-such-bucket/x")
    assert "no-such-bucket does not exist" in line and "Traceback" not in err
