"""Helpers for the SQLite end-to-end tests: configs as YAML files, running the real CLI,
reading the summary report, and snapshots of what is on disk."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from exporter.cli import main
from exporter.layout import ExportLayout
from exporter.model import TablePlan, TableRef
from tests.csvcheck import table_rows

REPO = Path(__file__).resolve().parents[2]
SUBPROCESS_TIMEOUT = 120


@dataclass
class Result:
    """What one CLI run returned and printed."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def write_config(
    folder: Path, db: Path, out: Path, *, create_demo: bool = False, **export: Any
) -> Path:
    """A YAML config file in `folder` (absolute paths only, so the cwd does not matter)."""
    source: dict[str, Any] = {"engine": "sqlite", "path": str(db)}
    if create_demo:
        source["create_demo"] = True
    data = {"source": source, "export": {"output_dir": str(out), **export}}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run_subprocess(args: list[str], cwd: Path) -> Result:
    """`python -m exporter ARGS` in a fresh interpreter (real spawn pool, real stderr)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "exporter", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def default_sigint() -> None:
    """For a child run as a terminal would run it: SIGINT back to its default action. A
    process started from a shell that ignores SIGINT (a background job's) inherits the ignored
    signal, and a Ctrl-C sent to it would do nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_export(config: Path, cwd: Path) -> subprocess.Popen[str]:
    """`python -m exporter export` started in its own process group, as a terminal runs it
    (Ctrl-C reaches the group): stderr piped, SIGINT at its default action."""
    return subprocess.Popen(
        [sys.executable, "-m", "exporter", "export", "--config", str(config), "--no-progress"],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_sigint,
    )


def start_export_once_a_chunk_exists(
    config: Path,
    cwd: Path,
    out: Path,
    table: str,
) -> subprocess.Popen[str]:
    """`python -m exporter export` in its own process group (as a terminal would run it),
    returned once the first chunk file of main.TABLE exists (or the run has ended)."""
    proc = start_export(config, cwd)
    deadline = time.monotonic() + SUBPROCESS_TIMEOUT
    while not chunk_files(out, table) and proc.poll() is None:
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("no chunk file appeared")
        time.sleep(0.005)
    return proc


def run_inprocess(args: list[str], capsys: Any) -> Result:
    """`exporter.cli.main(ARGS)` in this process (workers are still separate processes)."""
    code = main(args)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def export(config: Path, capsys: Any, *extra: str) -> Result:
    """One export run in-process, without progress bars."""
    return run_inprocess(["export", "--config", str(config), "--no-progress", *extra], capsys)


def summary(out: Path) -> dict[str, dict[str, Any]]:
    """summary_report.json's tables, by table name (schema main)."""
    report = json.loads((out / "summary_report.json").read_text(encoding="utf-8"))
    return {t["table"]: t for t in report["tables"]}


def report(out: Path) -> dict[str, Any]:
    """The whole summary_report.json."""
    return json.loads((out / "summary_report.json").read_text(encoding="utf-8"))


def table_dir(out: Path, table: str) -> Path:
    return ExportLayout(out).table_dir(TableRef("main", table))


def chunk_files(out: Path, table: str) -> dict[int, Path]:
    """Completed chunk files of main.TABLE, by index."""
    return ExportLayout(out).existing_chunk_files(TableRef("main", table))


def load_plan(out: Path, table: str) -> TablePlan:
    path = ExportLayout(out).plan_file(TableRef("main", table))
    return TablePlan.from_json(json.loads(path.read_text(encoding="utf-8")))


def file_state(path: Path) -> tuple[int, int, int]:
    """(inode, mtime_ns, size): changes when a file is rewritten or replaced."""
    st = path.stat()
    return st.st_ino, st.st_mtime_ns, st.st_size


def tree_state(root: Path) -> dict[str, tuple[int, int, int, bytes]]:
    """Every file under `root`: inode, mtime, size and content."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): (*file_state(p), p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def unzipped(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


def source_rows(db: Path, table: str) -> Counter[tuple[Any, ...]]:
    """Every row of a SQLite table, as a multiset."""
    con = sqlite3.connect(db)
    try:
        return Counter(con.execute(f'SELECT * FROM "{table}"').fetchall())
    finally:
        con.close()


def source_count(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return int(con.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])
    finally:
        con.close()


def exported_rows(out: Path, table: str) -> Counter[tuple[Any, ...]]:
    """Every row of every chunk file of main.TABLE, decoded, as a multiset."""
    plan = load_plan(out, table)
    rows = table_rows(out, "main", table, list(plan.columns), plan.file_format.null_marker)
    return Counter(rows)


def source_tables(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite%' ORDER BY name"
            )
        ]
    finally:
        con.close()
