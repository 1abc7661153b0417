"""Scale-out settings that cannot work are one line and exit 2, before any work (issue 16):
a Dask scheduler nobody answers at, `kind: dask` without an address, and Cloud Storage with
no credentials at all."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.cli import main
from tests.sqlite.helpers import REPO


def _config(tmp_path: Path, **blocks: Any) -> Path:
    db = tmp_path / "one.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    data = {"source": {"engine": "sqlite", "path": str(db)}, **blocks}
    data.setdefault("export", {"output_dir": str(tmp_path / "out")})
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _error_line(err: str) -> str:
    assert "Traceback" not in err, err
    (line,) = [line for line in err.splitlines() if line.startswith("error ")]
    return line


def test_a_scheduler_nobody_answers_at_is_one_line(tmp_path: Path, capsys: Any) -> None:
    import dask

    with socket.socket() as probe:  # a free port: nothing listens there
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    config = _config(tmp_path)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = main(["export", "--config", str(config), "--no-progress", "--dask", address])
    line = _error_line(capsys.readouterr().err)
    assert code == 2
    assert line.startswith(
        f"error EXP-1017: executor.address: cannot use the Dask scheduler at {address}:"
    )
    assert not (tmp_path / "out").exists()  # nothing planned, nothing written


def test_dask_without_an_address_is_one_line(tmp_path: Path, capsys: Any) -> None:
    config = _config(tmp_path, executor={"kind": "dask"})
    code = main(["validate", "--config", str(config)])
    line = _error_line(capsys.readouterr().err)
    assert code == 2
    assert line.startswith("error EXP-1001: executor.address: is required with executor.kind")


def test_cloud_storage_without_credentials_is_one_line(tmp_path: Path) -> None:
    config = _config(tmp_path, export={"output_dir": "gs://some-bucket/run"})
    home = tmp_path / "home"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GOOGLE_", "GCE_", "CLOUDSDK_", "STORAGE_EMULATOR"))
    }
    # No key, no gcloud login, and no metadata server asked: google-auth and gcsfs skip
    # the Compute Engine check under NO_GCE_CHECK, and any request would stay on loopback.
    env |= {
        "HOME": str(home),
        "CLOUDSDK_CONFIG": str(home / "gcloud"),
        "NO_GCE_CHECK": "true",
        "GCE_METADATA_HOST": "127.0.0.1:9",
        "GCE_METADATA_IP": "127.0.0.1:9",
        "PYTHONPATH": str(REPO),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "exporter", "export", "--config", str(config), "--no-progress"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    line = _error_line(proc.stderr)
    assert proc.returncode == 2, proc.stderr
    assert line.startswith(
        "error EXP-1018: export.storage_options.token: cannot use gs://some-bucket/run: "
        "no Google credentials found"
    ), line


@pytest.mark.parametrize("token", ["/nonexistent/key.json", '{"private_key": "x"}'])
def test_a_key_file_that_is_not_there_is_one_line_that_shows_no_key(
    tmp_path: Path, capsys: Any, token: str
) -> None:
    export = {"output_dir": "gs://b/run", "storage_options": {"token": token}}
    code = main(["export", "--config", str(_config(tmp_path, export=export))])
    line = _error_line(capsys.readouterr().err)
    assert code == 2 and line.startswith("error EXP-1018: export.storage_options.token:")
    assert "private_key" not in line
