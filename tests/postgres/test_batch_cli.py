"""The Arrow batch path through the real CLI and a real process pool: a clean exit (0, no
traceback, not even one a driver's finaliser prints at interpreter shutdown), and files that
validate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import pg_source
from tests.sqlite.helpers import run_subprocess

pytestmark = pytest.mark.postgres


def test_batch_path_with_a_process_pool_exits_cleanly(
    pg: Any, pg_schema: str, tmp_path: Path
) -> None:
    pg.execute(f'CREATE TABLE "{pg_schema}".t (id bigint PRIMARY KEY, v numeric(12, 2), s text)')
    pg.execute(
        f'INSERT INTO "{pg_schema}".t SELECT g, g / 7.0, md5(g::text) '
        "FROM generate_series(1, 5000) AS g"
    )
    config = {
        "source": pg_source(),
        "export": {
            "schemas": [pg_schema],
            "output_dir": str(tmp_path / "out"),
            "fetch_path": "batch",
            "workers": 2,
            "chunk_threshold_gb": 0,
            "chunk_size_mb": 0.1,
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    result = run_subprocess(["export", "--config", str(path), "--no-progress"], tmp_path)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err and "Exception ignored" not in result.err, result.err
    report = json.loads((tmp_path / "out" / "summary_report.json").read_text())
    assert [t["status"] for t in report["tables"]] == ["SUCCEEDED"]
    chunks = list((tmp_path / "out" / pg_schema / "t" / "config" / "chunks").glob("*.json"))
    assert len(chunks) > 1
    assert {json.loads(c.read_text())["path"] for c in chunks} == {"arrow"}
