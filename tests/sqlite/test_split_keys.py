"""A SQLite WITHOUT ROWID table has no physical locator: it splits on its primary key, however
many columns the key has and whatever their collation (issue 17).

The key here is (region TEXT COLLATE NOCASE, seq INTEGER): NOCASE orders 'b' before 'C' where
byte order puts 'C' first, so chunk bounds must come from the database's own order, or ranges
would overlap and gap. What is checked: several chunks each near the chunk size, every row
exactly once, validation SUCCEEDED, and a SIGKILL mid-run followed by a resume that leaves the
finished chunks as they were and still writes every row once.
"""

from __future__ import annotations

import gzip
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.sqlite.helpers import (
    chunk_files,
    export,
    exported_rows,
    file_state,
    load_plan,
    source_rows,
    start_export_once_a_chunk_exists,
    summary,
    write_config,
)

ROWS = 40_000
REGIONS = ["alpha", "Bravo", "charlie", "Delta", "echo", "Foxtrot", "golf", "Hotel"]
CHUNK_MB = 0.25


def _make_db(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE readings (region TEXT COLLATE NOCASE, seq INTEGER, note TEXT, "
        "amount NUMERIC, PRIMARY KEY (region, seq)) WITHOUT ROWID"
    )
    con.executemany(
        "INSERT INTO readings VALUES (?, ?, ?, ?)",
        (
            (
                REGIONS[i % len(REGIONS)],
                i // len(REGIONS),
                None if i % 11 == 0 else f"reading {i} \u00e9 " + "x" * (i % 40),
                i * 3 - 7000,
            )
            for i in range(ROWS)
        ),
    )
    con.commit()
    con.close()
    return path


def _config(tmp_path: Path, db: Path, out: Path) -> Path:
    return write_config(
        tmp_path,
        db,
        out,
        chunk_threshold_gb=0.0001,
        chunk_size_mb=CHUNK_MB,
        workers=2,
        fetch_rows=500,
    )


def _chunk_rows(out: Path) -> list[int]:
    """Rows in each chunk file, in chunk order (no value here holds a line break)."""
    counts = []
    for _, path in sorted(chunk_files(out, "readings").items()):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            counts.append(sum(1 for _ in handle) - 1)
    return counts


def test_composite_nocase_key_splits_into_chunks_near_the_chunk_size(
    tmp_path: Path, capsys: object
) -> None:
    db = _make_db(tmp_path / "k.sqlite")
    out = tmp_path / "out"

    result = export(_config(tmp_path, db, out), capsys)

    assert result.code == 0, result.err
    entry = summary(out)["readings"]
    assert entry["status"] == "SUCCEEDED", entry["errors"]
    assert entry["strategy"] == "key"
    plan = load_plan(out, "readings")
    assert plan.split_columns == ("region", "seq")
    assert all(isinstance(c.bounds.lower, (tuple, type(None))) for c in plan.chunks)
    assert exported_rows(out, "readings") == source_rows(db, "readings")
    assert entry["validation"]["row_count_match"] is True and not entry["validation"]["failures"]
    # Cut at quantiles of a sample: each chunk holds about an equal share of the rows.
    counts = _chunk_rows(out)
    assert len(counts) == len(plan.chunks) >= 4
    share = ROWS / len(counts)
    assert all(0.5 * share <= n <= 1.6 * share for n in counts), counts


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc")
def test_kill_then_resume_writes_every_row_once(tmp_path: Path, capsys: object) -> None:
    db = _make_db(tmp_path / "k.sqlite")
    out = tmp_path / "out"
    config = _config(tmp_path, db, out)
    proc = start_export_once_a_chunk_exists(config, tmp_path, out, "readings")
    try:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    survivors = {i: file_state(p) for i, p in chunk_files(out, "readings").items()}
    assert survivors, "no chunk was finished before the kill"

    again = export(config, capsys)

    assert again.code == 0, again.err
    entry = summary(out)["readings"]
    assert entry["status"] == "SUCCEEDED", entry["errors"]
    assert entry["chunks_skipped"] == len(survivors) < entry["chunks_planned"]
    files = chunk_files(out, "readings")
    assert {i: file_state(files[i]) for i in survivors} == survivors
    assert exported_rows(out, "readings") == source_rows(db, "readings")
