"""Comparator sessions through the command line: killed with -9 and resumed by an id prefix
(the final report equals an uninterrupted run's), the session screens, the refusals, and
SQLite against PostgreSQL holding the same data."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.postgres.compare_helpers import compare_config, connect, pg_block

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def _write(config: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _cli(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "exporter", "compare", "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def _sessions(folder: Path) -> list[str]:
    state = folder / "state"
    return sorted(p.name[len("oracle_session_") : -5] for p in state.glob("oracle_session_*.json"))


def _fill_pair(two_databases: tuple[str, str], rows: int) -> None:
    for database in two_databases:
        with connect(database) as conn:
            conn.execute("CREATE TABLE items (id int PRIMARY KEY, label text, qty numeric)")
            conn.execute(
                "INSERT INTO items SELECT g, 'item ' || g, g * 0.5 "
                f"FROM generate_series(1, {rows}) AS g"
            )
    with connect(two_databases[1]) as conn:
        conn.execute("UPDATE items SET qty = qty + 1 WHERE id % 1999 = 0")
        conn.execute("DELETE FROM items WHERE id % 2503 = 0")


def test_killed_and_resumed_by_prefix_equals_an_uninterrupted_run(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    _fill_pair(two_databases, 20000)
    source, target = two_databases
    data = compare_config(pg_block(source), pg_block(target), tmp_path, chunk_rows=100)
    config = _write(data, tmp_path / "c.yaml")
    command = [sys.executable, "-m", "exporter", "compare", "--config", str(config)]
    proc = subprocess.Popen(
        [*command, "--workers", "1", "--no-progress"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    checkpoints = tmp_path / "checkpoints"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if checkpoints.is_dir() and len(list(checkpoints.iterdir())) >= 20:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list(checkpoints.iterdir()))
    assert 20 <= done < 200
    (session,) = _sessions(tmp_path)
    resumed = _cli(config, "--resume", session[:8], "--no-progress")
    assert resumed.returncode == 1, resumed.stderr  # differences found
    assert f"resuming comparison session {session}" in resumed.stderr
    assert "process" in resumed.stderr and "has ended" in resumed.stderr  # the lock taken over
    fresh = _cli(config, "--no-progress")
    assert fresh.returncode == 1, fresh.stderr
    first, second = _sessions(tmp_path)[0], session
    other = next(s for s in _sessions(tmp_path) if s != session)
    reports = tmp_path / "reports"
    for suffix in (".json", ".csv"):
        resumed_report = (reports / session / f"public_items{suffix}").read_text()
        fresh_report = (reports / other / f"public_items{suffix}").read_text()
        assert resumed_report == fresh_report
    report = json.loads((reports / session / "public_items.json").read_text())
    assert [k[0] for k in report["missing_in_target"]] == [2503 * i for i in range(1, 8)]
    assert len(report["different_rows"]) == 10
    assert first and second  # both sessions are listed


def test_session_screens_and_refusals(two_databases: tuple[str, str], tmp_path: Path) -> None:
    _fill_pair(two_databases, 3000)
    source, target = two_databases
    data = compare_config(pg_block(source), pg_block(target), tmp_path, chunk_rows=1000)
    config = _write(data, tmp_path / "c.yaml")
    run = _cli(config, "--no-progress")
    assert run.returncode == 1
    (session,) = _sessions(tmp_path)
    assert "missing in target 1, missing in source 0, different rows 1" in run.stdout
    listed = _cli(config, "--list-sessions")
    assert listed.returncode == 0 and session in listed.stdout and "completed" in listed.stdout
    assert "1/1" in listed.stdout and str(config) in listed.stdout
    status = _cli(config, "--status", session[:6])
    assert status.returncode == 0
    assert "Tables       1: 1 completed, 0 failed, 0 in progress, 0 pending" in status.stdout
    assert "public.items" in status.stdout and "3/3 chunks, 2 difference(s)" in status.stdout
    # An unknown id, a command that needs --resume, a changed config: one line, exit 2.
    for args, words in (
        (["--status", "zzzz"], "no comparison session zzzz"),
        (["--retry-failed"], "--retry-failed needs --resume"),
        (["--list-sessions", "--table", "public.items"], "do not go with"),
    ):
        refused = _cli(config, *args)
        assert refused.returncode == 2, refused
        assert words in refused.stderr and len(refused.stderr.splitlines()) == 1
    changed = _write({**data, "compare": {**data["compare"], "chunk_rows": 500}}, config)
    refused = _cli(changed, "--resume", session[:8])
    assert refused.returncode == 2
    assert "compare.chunk_rows" in refused.stderr and "error EXP-5005" in refused.stderr
    # An ambiguous prefix: a second session whose id starts alike.
    copy = tmp_path / "state" / f"oracle_session_{session[:4]}ffff-copy.json"
    copy.write_text((tmp_path / "state" / f"oracle_session_{session}.json").read_text())
    ambiguous = _cli(config, "--status", session[:4])
    assert ambiguous.returncode == 2 and "ambiguous" in ambiguous.stderr
    copy.unlink()
    # Cleanup: nothing is old enough; then everything is, reports kept unless asked.
    kept = _cli(config, "--cleanup", "1")
    assert kept.returncode == 0 and "removed 0 session(s)" in kept.stdout
    removed = _cli(config, "--cleanup", "0")
    assert "removed 1 session(s)" in removed.stdout and session in removed.stdout
    assert not _sessions(tmp_path) and not list((tmp_path / "checkpoints").iterdir())
    assert (tmp_path / "reports" / session / "public_items.csv").exists()


def test_columns_changed_before_a_resume_fail_the_table(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    _fill_pair(two_databases, 3000)
    source, target = two_databases
    data = compare_config(pg_block(source), pg_block(target), tmp_path, chunk_rows=1000)
    config = _write(data, tmp_path / "c.yaml")
    assert _cli(config, "--no-progress").returncode == 1
    (session,) = _sessions(tmp_path)
    # As if the run had stopped before its last chunk: that checkpoint gone, the table open.
    state_file = tmp_path / "state" / f"oracle_session_{session}.json"
    state = json.loads(state_file.read_text())
    state["tables"]["public_items"]["status"] = "in_progress"
    state_file.write_text(json.dumps(state))
    next((tmp_path / "checkpoints").glob("*_chunk_2.json")).unlink()
    with connect(target) as conn:
        conn.execute("ALTER TABLE items ALTER COLUMN label TYPE varchar(50)")
    resumed = _cli(config, "--resume", session, "--no-progress")
    assert resumed.returncode == 1
    status = _cli(config, "--status", session).stdout
    assert "FAILED" in status and "columns changed since the session planned it (label)" in status


def test_sqlite_against_postgresql_holding_the_same_data(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    rows = [
        (1, 0.1, "plain", b"\x00\x01", 7),
        (2, 2.5, "", b"", None),  # not -0.0: SQLite stores it as 0.0
        (3, 1e300, 'quote " and, comma', None, -5),
        (4, None, "line\nbreak ünïcödé 😀", b"\xff" * 40, 0),
        (5, 123456789.125, None, b"x", 9223372036854775807),
        (6, float("inf"), "back\\slash \\N", b"\\", 1),
    ]
    db = tmp_path / "copy.sqlite"
    lite = sqlite3.connect(db)
    lite.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, r REAL, s TEXT, b BLOB, n INTEGER)")
    lite.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", rows)
    lite.commit()
    lite.close()
    with connect(two_databases[1]) as conn:
        conn.execute("CREATE TABLE t (id bigint PRIMARY KEY, r float8, s text, b bytea, n bigint)")
        for row in rows:
            conn.execute("INSERT INTO t VALUES (%s, %s, %s, %s, %s)", row)
    data = compare_config(
        {"engine": "sqlite", "path": str(db)},
        pg_block(two_databases[1]),
        tmp_path,
        schema_map={"main": "public"},
    )
    config = _write(data, tmp_path / "c.yaml")
    equal = _cli(config, "--no-progress")
    assert equal.returncode == 0, equal.stderr + equal.stdout
    assert "1 equal, 0 with differences" in equal.stdout
    with connect(two_databases[1]) as conn:
        conn.execute("UPDATE t SET s = NULL WHERE id = 2")  # '' on SQLite, NULL here
    found = _cli(config, "--no-progress")
    assert found.returncode == 1
    (newest,) = [s for s in _sessions(tmp_path) if s not in equal.stderr]
    report = json.loads((tmp_path / "reports" / newest / "main_t.json").read_text())
    assert report["different_rows"] == [{"key": [2], "columns": {"s": ['""', None]}}]
