"""The output side failing: a folder that cannot be made, and a disk that stops taking bytes
(simulated with RLIMIT_FSIZE, which makes writes past the limit fail with EFBIG, as a full
disk fails them with ENOSPC). One clear line each; nothing half-written is left; a re-run
resumes."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys

import pytest
import yaml

from exporter.layout import is_temp_file
from tests.sqlite.conftest import Demo
from tests.sqlite.helpers import REPO, export, exported_rows, run_subprocess, source_rows, summary


def test_output_dir_that_cannot_be_made_is_one_line(demo: Demo) -> None:
    blocker = demo.root / "a_file"
    blocker.write_text("not a folder")
    data = yaml.safe_load(demo.config.read_text(encoding="utf-8"))
    data["export"]["output_dir"] = str(blocker / "out")
    demo.config.write_text(yaml.safe_dump(data), encoding="utf-8")

    result = run_subprocess(["--config", str(demo.config)], demo.root)

    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    (line,) = [line for line in result.err_lines if line.startswith("error ")]  # not the log
    assert line.startswith("error EXP-1001: export.output_dir: cannot write"), line


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics")
def test_a_full_disk_fails_the_chunks_cleanly_and_the_rerun_resumes(
    demo: Demo, capsys: object
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "exporter", "export", "--config", str(demo.config), "--no-progress"],
        cwd=demo.root,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_file_size,  # inherited by the spawned workers
        check=False,
    )

    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    tables = summary(demo.out)
    # orders' chunks are ~800 KB compressed: every one hits the 100 KB limit.
    assert tables["orders"]["status"] == "FAILED"
    assert "EXP-3001" in tables["orders"]["error"] and "File too large" in tables["orders"]["error"]
    assert tables["products"]["status"] == "SUCCEEDED"
    assert not [p for p in demo.out.rglob("*") if is_temp_file(p)]
    assert not list((demo.out / "main" / "orders").glob("data_chunk_*.csv.gz"))

    again = export(demo.config, capsys)

    assert again.code == 0, again.err
    assert exported_rows(demo.out, "orders") == source_rows(demo.db, "orders")
