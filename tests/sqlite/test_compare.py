"""The comparator on SQLite files, through the real command line (no server needed): the
differences found, Ctrl-C leaving a resumable session and saying how to resume it, a resume
narrowed to one table, and --retry-failed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.sqlite.helpers import REPO, default_sigint, run_subprocess

ROWS = 30_000


def _database(path: Path, changes: Sequence[str] = ()) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, raw BLOB)")
    conn.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?)",
        ((i, f"item {i}", i / 4, bytes([i % 256])) for i in range(1, ROWS + 1)),
    )
    conn.execute("CREATE TABLE tags (tag TEXT PRIMARY KEY, n INTEGER) WITHOUT ROWID")
    conn.executemany("INSERT INTO tags VALUES (?, ?)", ((f"t{i:03}", i) for i in range(200)))
    for change in changes:
        conn.execute(change)
    conn.commit()
    conn.close()
    return path


def _config(tmp_path: Path, source: Path, target: Path, **compare: Any) -> Path:
    data = {
        "source": {"engine": "sqlite", "path": str(source)},
        "target": {"engine": "sqlite", "path": str(target)},
        "compare": {
            "state_dir": str(tmp_path / "state"),
            "checkpoint_dir": str(tmp_path / "checkpoints"),
            "report_dir": str(tmp_path / "reports"),
            **compare,
        },
    }
    path = tmp_path / "compare.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _session(tmp_path: Path) -> str:
    (path,) = (tmp_path / "state").glob("oracle_session_*.json")
    return path.name[len("oracle_session_") : -len(".json")]


def _report(tmp_path: Path, session: str, table: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (tmp_path / "reports" / session / f"main_{table}.json").read_text()
    )
    return data


CHANGES = [
    "UPDATE items SET name = 'item 7 ' WHERE id = 7",
    "UPDATE items SET price = NULL WHERE id = 20000",
    "UPDATE items SET raw = x'ff' WHERE id = 29999",
    "DELETE FROM items WHERE id = 15000",
    "INSERT INTO items VALUES (40000, 'new', 1.0, NULL)",
    "UPDATE tags SET n = -1 WHERE tag = 't150'",
]


def test_sqlite_files_compared(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        _database(tmp_path / "a.db"),
        _database(tmp_path / "b.db", CHANGES),
        chunk_rows=5000,
    )
    result = run_subprocess(["compare", "--config", str(config), "--no-progress"], tmp_path)
    assert result.code == 1, result.err
    session = _session(tmp_path)
    items = _report(tmp_path, session, "items")
    assert items["missing_in_target"] == [[15000]] and items["missing_in_source"] == [[40000]]
    assert {row["key"][0]: row["columns"] for row in items["different_rows"]} == {
        7: {"name": ['"item 7"', '"item 7 "']},
        20000: {"price": ["5000", None]},
        29999: {"raw": ["Lw==", "/w=="]},
    }
    tags = _report(tmp_path, session, "tags")  # a WITHOUT ROWID table keyed by text
    assert tags["different_rows"] == [{"key": ["t150"], "columns": {"n": ["150", "-1"]}}]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and signals")
def test_ctrl_c_leaves_a_session_to_resume(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        _database(tmp_path / "a.db"),
        _database(tmp_path / "b.db", CHANGES),
        chunk_rows=100,
        workers=1,
    )

    proc = subprocess.Popen(
        [sys.executable, "-m", "exporter", "compare", "--config", str(config), "--no-progress"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )
    checkpoints = tmp_path / "checkpoints"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if checkpoints.is_dir() and len(list(checkpoints.iterdir())) >= 10:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the comparison ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    session = _session(tmp_path)
    last = [line for line in err.splitlines() if line.strip()][-1]
    assert last == (
        f"interrupted: resume with ./run.sh compare --config {config} --resume {session[:8]}"
    )
    state = json.loads((tmp_path / "state" / f"oracle_session_{session}.json").read_text())
    assert state["status"] == "interrupted"
    # Resume one table only: the other stays as it was.
    only = run_subprocess(
        ["compare", "--config", str(config), "--resume", session[:8], "--table", "main.tags"],
        tmp_path,
    )
    assert only.code == 1, only.err  # tags differ
    state = json.loads((tmp_path / "state" / f"oracle_session_{session}.json").read_text())
    assert state["tables"]["main_tags"]["status"] == "completed"
    assert state["tables"]["main_items"]["status"] != "completed"
    rest = run_subprocess(["compare", "--config", str(config), "--resume", session[:8]], tmp_path)
    assert rest.code == 1, rest.err
    items = _report(tmp_path, session, "items")
    assert items["missing_in_target"] == [[15000]] and len(items["different_rows"]) == 3


def test_retry_failed_runs_a_failed_table_again(tmp_path: Path) -> None:
    source = _database(tmp_path / "a.db")
    target = _database(tmp_path / "b.db")
    conn = sqlite3.connect(target)
    conn.execute("ALTER TABLE tags RENAME TO tags_later")
    conn.commit()
    config = _config(tmp_path, source, target)
    first = run_subprocess(["compare", "--config", str(config)], tmp_path)
    assert first.code == 1
    assert "--resume" in first.err and "--retry-failed" in first.err
    session = _session(tmp_path)
    state = json.loads((tmp_path / "state" / f"oracle_session_{session}.json").read_text())
    assert state["tables"]["main_tags"]["status"] == "failed"
    assert "no table main.tags on the target" in state["tables"]["main_tags"]["error"]
    conn.execute("ALTER TABLE tags_later RENAME TO tags")
    conn.commit()
    conn.close()
    again = run_subprocess(
        ["compare", "--config", str(config), "--resume", session, "--retry-failed"], tmp_path
    )
    assert again.code == 0, again.err
    state = json.loads((tmp_path / "state" / f"oracle_session_{session}.json").read_text())
    assert state["status"] == "completed"
    assert {t["status"] for t in state["tables"].values()} == {"completed"}
