"""Crash safety: `kill -9` of the whole export (coordinator and workers) at random moments,
three times in a row, then the same command again finishes the job with every row exactly once.

What each kill must leave (README "What it writes", DESIGN.md section 4): no process of the run
alive, and every `data_chunk_N.csv.gz` on disk a complete gzip stream with its statistics
sidecar beside it. A re-run skips the chunks already there (their bytes never change), sweeps
the partial temp files, writes the rest and validates: SUCCEEDED, each source id once, no
temp file left.
"""

from __future__ import annotations

import collections
import csv
import gzip
import hashlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.layout import ExportLayout, is_temp_file
from exporter.model import TableRef
from tests.conftest import pg_source

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SEED = int(os.environ.get("EXPORTER_KILL_SEED", "20240611"))
ROWS = 600_000  # ~40 MB of heap: ~17 chunks of 2.5 MB, ~3 s for one export on 2 cores
KILLS = 3
TABLE = "kill_me"
NULL_MARKER = "\\N"
GROUP_EXIT_TIMEOUT = 20.0  # an orphaned worker is reaped by init, which may take a moment
PROGRESS_TIMEOUT = 60.0

# Awkward text (quotes, separators, CR/LF, non-ASCII, backslashes, '' and NULL), exact
# numerics with NULLs and negatives, and instants with microseconds.
FILL_SQL = """
INSERT INTO {t} (id, txt, amount, at)
SELECT g,
       CASE g % 9
           WHEN 0 THEN NULL
           WHEN 1 THEN ''
           WHEN 2 THEN 'say "hi", ' || g
           WHEN 3 THEN E'line\\nbreak\\r\\n' || g
           WHEN 4 THEN E'back\\\\N ' || g
           WHEN 5 THEN 'héllo 東京 🎉 ' || g
           WHEN 6 THEN ','
           WHEN 7 THEN '"'
           ELSE repeat(md5(g::text), 1 + g % 3)
       END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE CAST(g * 1.2345 - 50000 AS numeric(18, 4)) END,
       timestamptz '2000-01-01 00:00:00+00' + g * interval '1 minute 0.123457 second'
FROM generate_series(1, {rows}) AS g
"""


# The same rows in three table shapes (issue 17): a plain table (split by ctid ranges), one
# partitioned by two-month ranges of `at` plus a DEFAULT partition for the last four months
# (split per leaf), and one keyed only by text (split on its key, chunk_strategy key).
SHAPES: dict[str, tuple[str, dict[str, Any]]] = {
    "plain": ("(id integer PRIMARY KEY, txt text, amount numeric(18, 4), at timestamptz)", {}),
    "partitioned": (
        "(id integer, txt text, amount numeric(18, 4), at timestamptz NOT NULL, "
        "PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
        {},
    ),
    "text_key": (
        "(id integer NOT NULL, txt text, amount numeric(18, 4), at timestamptz, "
        "code text PRIMARY KEY GENERATED ALWAYS AS ('k' || md5(CAST(id AS text))) STORED)",
        {"chunk_strategy": "key"},
    ),
}


def _create_table(pg: Any, schema: str, shape: str) -> str:
    table = f'"{schema}"."{TABLE}"'
    pg.execute(f"CREATE TABLE {table} {SHAPES[shape][0]}")
    if shape == "partitioned":
        for month in range(1, 11, 2):
            pg.execute(
                f'CREATE TABLE "{schema}"."{TABLE}_{month:02d}" PARTITION OF {table} FOR VALUES '
                f"FROM ('2000-{month:02d}-01 00:00+00') TO ('2000-{month + 2:02d}-01 00:00+00')"
            )
        pg.execute(f'CREATE TABLE "{schema}"."{TABLE}_default" PARTITION OF {table} DEFAULT')
    pg.execute(FILL_SQL.format(t=table, rows=ROWS))
    pg.execute(f"ANALYZE {table}")
    return table


def _write_config(tmp_path: Path, schema: str, out: Path, fetch_path: str, **extra: Any) -> Path:
    config = {
        "source": pg_source(),
        "export": {
            "schemas": [schema],
            "output_dir": str(out),
            "chunk_threshold_gb": 0.001,
            "chunk_size_mb": 2.5,
            "workers": 2,
            "fetch_path": fetch_path,
            **extra,
        },
        "validation": {"enabled": True},
    }
    path = tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _group_members(pgid: int) -> list[tuple[int, str]]:
    """(pid, state) of every process in group `pgid`, from /proc (empty where there is none)."""
    members = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[2]) == pgid:
            members.append((int(entry.name), fields[0]))
    return members


def _wait_group_gone(pgid: int) -> str:
    """Poll until no process of the group is left. A zombie (state Z) runs no code; it only
    waits for init to reap it, so a group of zombies counts as gone."""
    deadline = time.monotonic() + GROUP_EXIT_TIMEOUT
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return "group gone"
        live = [(pid, state) for pid, state in _group_members(pgid) if state != "Z"]
        if not live and Path("/proc/self/stat").exists():
            return "only zombies left"
        if time.monotonic() > deadline:
            pytest.fail(f"processes of the killed export survive SIGKILL: {live} (seed {SEED})")
        time.sleep(0.02)


def _wait_for_chunks(
    proc: subprocess.Popen[bytes],
    logs: Path,
    layout: ExportLayout,
    ref: TableRef,
    at_least: int,
    until: float = math.inf,
) -> None:
    """Wait until `at_least` chunk files are published or time.monotonic() reaches `until`."""
    deadline = time.monotonic() + PROGRESS_TIMEOUT
    while len(layout.existing_chunk_files(ref)) < at_least and time.monotonic() < until:
        if proc.poll() is not None:
            pytest.fail(
                f"export exited ({proc.returncode}) before {at_least} chunk files "
                f"(seed {SEED}):\n" + logs.read_text(errors="replace")[-3000:]
            )
        if time.monotonic() > deadline:
            pytest.fail(f"not {at_least} chunk files within {PROGRESS_TIMEOUT} s (seed {SEED})")
        time.sleep(0.005)


def _temp_files(root: Path) -> list[Path]:
    """Partial files: the layout's temp names, and anything else hidden or named *.tmp."""
    return [
        p
        for p in root.rglob("*")
        if p.is_file() and (is_temp_file(p) or p.name.startswith(".") or p.name.endswith(".tmp"))
    ]


def _check_published(layout: ExportLayout, ref: TableRef) -> dict[str, str]:
    """Every complete chunk file is a whole gzip stream of CSV with its sidecar; returns
    {file name: sha256}."""
    digests = {}
    for index, path in sorted(layout.existing_chunk_files(ref).items()):
        data = path.read_bytes()
        try:
            text = gzip.decompress(data)  # checks the CRC-32 and length trailer too
        except (OSError, EOFError) as exc:
            pytest.fail(f"{path.name} is published but not a valid gzip file: {exc!r}")
        assert text.startswith(b"id,txt,amount,at"), (path.name, text[:80])
        assert text.endswith(b"\n"), path.name
        assert layout.chunk_stats_file(ref, index).is_file(), f"{path.name} has no sidecar"
        digests[path.name] = hashlib.sha256(data).hexdigest()
    plan = layout.plan_file(ref)
    if plan.exists():  # written atomically: absent or whole
        json.loads(plan.read_text(encoding="utf-8"))
    return digests


def _chunk_ids_and_texts(
    layout: ExportLayout, ref: TableRef
) -> tuple[collections.Counter[int], dict[int, str]]:
    counts: collections.Counter[int] = collections.Counter()
    texts: dict[int, str] = {}
    for path in layout.existing_chunk_files(ref).values():
        # csv (C) rather than csvcheck.read_chunk (pure Python): 600k rows in about a second.
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            header = next(reader)
            id_at, txt_at = header.index("id"), header.index("txt")
            for record in reader:
                assert len(record) == len(header), (path.name, record)
                key = int(record[id_at])
                counts[key] += 1
                texts[key] = record[txt_at]
    return counts, texts


@pytest.mark.parametrize(
    ("shape", "fetch_path"),  # COPY ("auto"), and Arrow batches (ADBC)
    [("plain", "auto"), ("plain", "batch"), ("partitioned", "auto"), ("text_key", "auto")],
)
def test_sigkill_three_times_then_resume_exports_every_row_once(
    pg: Any, pg_schema: str, tmp_path: Path, shape: str, fetch_path: str
) -> None:
    table = _create_table(pg, pg_schema, shape)
    out = tmp_path / "out"
    config = _write_config(tmp_path, pg_schema, out, fetch_path, **SHAPES[shape][1])
    layout, ref = ExportLayout(out), TableRef(pg_schema, TABLE)
    command = [sys.executable, "-m", "exporter", "export", "--config", str(config), "--no-progress"]
    rng = random.Random(SEED)
    published: dict[str, str] = {}  # chunk file name -> sha256, as first seen after a kill
    partial_left = 0
    for attempt in range(KILLS):
        logs = tmp_path / f"attempt_{attempt}.log"
        before = len(layout.existing_chunk_files(ref))
        started = time.monotonic()
        with open(logs, "wb") as log_file:
            proc = subprocess.Popen(
                command, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                if attempt == 0:
                    # Anywhere from start-up and planning to the first few chunks.
                    until = time.monotonic() + rng.uniform(0.2, 1.0)
                    _wait_for_chunks(proc, logs, layout, ref, 3, until)
                else:
                    _wait_for_chunks(proc, logs, layout, ref, before + rng.randint(1, 2))
                    time.sleep(rng.uniform(0.0, 0.2))
                assert proc.poll() is None, f"the export finished before kill {attempt + 1}"
                killed_at = time.monotonic() - started
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=GROUP_EXIT_TIMEOUT)
            finally:
                if proc.poll() is None:  # a failed assertion above: leave nothing running
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        gone = _wait_group_gone(proc.pid)
        partial = _temp_files(out)  # what the kill left half-written
        partial_left += bool(partial)
        # Shown by pytest when the test fails, to replay a run with EXPORTER_KILL_SEED.
        print(
            f"seed {SEED} kill {attempt + 1}: at {killed_at:.2f} s, "
            f"{len(layout.existing_chunk_files(ref))} chunk files, "
            f"{len(partial)} partial file(s), {gone}"
        )
        assert proc.returncode == -signal.SIGKILL
        digests = _check_published(layout, ref)
        assert len(digests) >= before, "a published chunk file disappeared"
        for name, digest in published.items():
            assert digests.get(name) == digest, f"{name} changed after it was published"
        published.update(digests)
    assert published, f"no chunk was published before the last kill (seed {SEED})"
    assert partial_left, f"no kill caught a chunk being written (seed {SEED})"

    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr

    report = json.loads(layout.summary_report().read_text(encoding="utf-8"))
    assert report["status"] == "SUCCEEDED", report
    (entry,) = report["tables"]
    assert (entry["schema"], entry["table"], entry["status"]) == (pg_schema, TABLE, "SUCCEEDED")
    planned = entry["chunks_planned"]
    assert 10 <= planned <= 30, f"{planned} chunks: resize the table or chunk_size_mb"
    strategy = {"plain": "physical", "partitioned": "partitions", "text_key": "key"}[shape]
    assert entry["strategy"] == strategy
    assert entry["chunks_skipped"] == len(published)
    assert entry["chunks_written"] == planned - len(published)
    assert entry["rows_exported"] == ROWS
    assert entry["validation"]["source_row_count"] == ROWS
    assert entry["validation"]["row_count_match"] is True
    assert not entry["validation"]["failures"]

    assert _temp_files(out) == []
    final = _check_published(layout, ref)
    assert len(final) == planned
    assert all(final[name] == digest for name, digest in published.items()), (
        "the re-run rewrote chunks that were already complete"
    )

    counts, texts = _chunk_ids_and_texts(layout, ref)
    assert sum(counts.values()) == ROWS
    repeated = [key for key, n in counts.items() if n != 1]
    assert not repeated, f"ids written more than once: {repeated[:20]}"
    ((source_count,),) = pg.execute(f"SELECT count(*) FROM {table}").fetchall()
    assert source_count == ROWS
    with pg.cursor() as cur:
        cur.execute(f"SELECT id, txt FROM {table}")
        source = {key: NULL_MARKER if txt is None else txt for key, txt in cur}
    assert set(counts) == set(source), "ids missing from the files or not in the source"
    wrong = [key for key, txt in source.items() if texts[key] != txt]
    assert not wrong, [(key, source[key], texts[key]) for key in wrong[:5]]
