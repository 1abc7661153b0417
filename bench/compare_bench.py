"""Comparator benchmark: `./run.sh compare` against reladiff on bench.wide, the 11-column table of
export_bench.py (bench.t, 3M rows) without its few NaN and infinite doubles (reladiff casts
doubles to numeric and stops at the first infinity), and a copy of it, in another database of
the same server, that holds 200 planted differences.

    .venv/bin/python bench/compare_bench.py --reladiff /tmp/reladiff-venv/bin/reladiff
    .venv/bin/python bench/compare_bench.py --rows 300000 --repeats 1

What it does:

1. Creates (or reuses) bench.t in the source database exactly as export_bench.py does, then
   bench.wide from it (non-finite doubles made 0), and a copy of bench.wide in the target
   database (`--target-db`, default bench_target; created when missing), by binary COPY; both
   reused when they already hold this run's rows and plants.
2. Plants 200 differences in the copy, each on its own row (ids spread over the table): 40
   timestamptz values moved by one microsecond, 40 numeric values moved by 1e-10, 40 texts
   given a trailing space, 20 values set to NULL, 30 rows deleted, 30 rows inserted.
3. Runs, `--repeats` times each and alternating: the exporter's comparator (`compare`, a new
   session each time, `--workers` processes) and, when `--reladiff` names its executable,
   reladiff over the same key and columns with `--skip-sort-results` (without it reladiff 0.6
   fails to sort NULLs). Wall time around the command; every process of the tree is polled for
   its peak RSS (export_bench.TreeMonitor).
4. Checks that each tool reported exactly the 200 planted keys, prints a table, and saves
   everything to bench/out/compare-ROWS.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
import yaml
from export_bench import QUALIFIED as BENCH_T
from export_bench import REPO, TreeMonitor, ensure_table
from psycopg.conninfo import conninfo_to_dict, make_conninfo

OUT = REPO / "bench" / "out"
QUALIFIED = "bench.wide"
PLANT_VERSION = 2
# Columns that are NULL on some rows (export_bench's generator): a plant must change a value.
_NULL_EVERY = (59, 61, 67, 71, 83, 89, 97)
COLUMNS = ["amount", "qty", "ratio", "label", "day", "created", "updated", "flag", "blob", "note"]


def _plants(rows: int) -> dict[str, list[int]]:
    """The planted keys by kind of change: every one a different row, spread evenly."""
    step = rows // 181
    ids = []
    for i in range(170):
        key = 1 + i * step
        while any(key % n == 0 for n in _NULL_EVERY):
            key += 1
        ids.append(key)
    kinds = {"microsecond": 40, "1e-10": 40, "trailing space": 40, "null": 20, "deleted": 30}
    plants: dict[str, list[int]] = {}
    for kind, count in kinds.items():
        plants[kind], ids = ids[:count], ids[count:]
    plants["inserted"] = [rows + 1000 + i * 37 for i in range(30)]
    return plants


def _statements(plants: dict[str, list[int]]) -> list[str]:
    def ids(kind: str) -> str:
        return ", ".join(map(str, plants[kind]))

    return [
        f"UPDATE {QUALIFIED} SET updated = updated + INTERVAL '1 microsecond' "
        f"WHERE id IN ({ids('microsecond')})",
        f"UPDATE {QUALIFIED} SET amount = amount + 0.0000000001 WHERE id IN ({ids('1e-10')})",
        f"UPDATE {QUALIFIED} SET note = note || ' ' WHERE id IN ({ids('trailing space')})",
        f"UPDATE {QUALIFIED} SET qty = NULL WHERE id IN ({ids('null')})",
        f"DELETE FROM {QUALIFIED} WHERE id IN ({ids('deleted')})",
        f"INSERT INTO {QUALIFIED} (id, note) "
        f"SELECT g, 'inserted' FROM unnest(ARRAY[{ids('inserted')}]) AS g",
    ]


def ensure_wide(source: str, rows: int) -> None:
    """bench.wide in the source database: bench.t with its non-finite doubles made 0."""
    marker = f"compare_bench wide v{PLANT_VERSION} rows={rows}"
    with psycopg.connect(source, autocommit=True) as conn:
        found = conn.execute(
            "SELECT obj_description(to_regclass(%s), 'pg_class')", (QUALIFIED,)
        ).fetchone()
        if found and found[0] == marker:
            return
        print(f"creating {QUALIFIED} from {BENCH_T} ...", flush=True)
        conn.execute(f"DROP TABLE IF EXISTS {QUALIFIED}")
        conn.execute(f"CREATE TABLE {QUALIFIED} (LIKE {BENCH_T} INCLUDING ALL)")
        conn.execute(f"INSERT INTO {QUALIFIED} SELECT * FROM {BENCH_T}")
        conn.execute(
            f"UPDATE {QUALIFIED} SET ratio = 0 "
            "WHERE ratio = 'NaN' OR ratio IN ('Infinity', '-Infinity')"
        )
        conn.execute(f"VACUUM (FREEZE, ANALYZE) {QUALIFIED}")
        conn.execute(f"COMMENT ON TABLE {QUALIFIED} IS '{marker}'")


def ensure_target(source: str, target: str, rows: int) -> dict[str, list[int]]:
    """The target database's copy of bench.t with the plants; reused when already there."""
    plants = _plants(rows)
    marker = f"compare_bench v{PLANT_VERSION} rows={rows}"
    params = conninfo_to_dict(target)
    admin = make_conninfo(source, dbname=conninfo_to_dict(source).get("dbname", "test"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (params["dbname"],)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{params["dbname"]}"')
    with psycopg.connect(target, autocommit=True) as dst:
        found = dst.execute(
            "SELECT obj_description(to_regclass(%s), 'pg_class')", (QUALIFIED,)
        ).fetchone()
        if found and found[0] == marker:
            return plants
        print(f"copying {QUALIFIED} to the target and planting 200 differences ...", flush=True)
        started = time.monotonic()
        dst.execute("CREATE SCHEMA IF NOT EXISTS bench")
        dst.execute(f"DROP TABLE IF EXISTS {QUALIFIED}")
        with psycopg.connect(source) as src:
            ddl = src.execute(
                "SELECT 'CREATE TABLE bench.wide (' || string_agg(quote_ident(attname) || ' ' || "
                "format_type(atttypid, atttypmod), ', ' ORDER BY attnum) || ', PRIMARY KEY (id))' "
                "FROM pg_attribute WHERE attrelid = 'bench.wide'::regclass AND attnum > 0 "
                "AND NOT attisdropped"
            ).fetchone()
            assert ddl is not None
            dst.execute(ddl[0])
            with src.cursor().copy(f"COPY {QUALIFIED} TO STDOUT (FORMAT binary)") as out:
                with dst.cursor().copy(f"COPY {QUALIFIED} FROM STDIN (FORMAT binary)") as into:
                    for data in out:
                        into.write(data)
        for statement in _statements(plants):
            dst.execute(statement)
        dst.execute(f"VACUUM (FREEZE, ANALYZE) {QUALIFIED}")
        dst.execute(f"COMMENT ON TABLE {QUALIFIED} IS '{marker}'")
        print(f"target ready in {time.monotonic() - started:.1f} s", flush=True)
    return plants


def _pg_block(conninfo: str) -> dict[str, Any]:
    params = conninfo_to_dict(conninfo)
    return {
        "engine": "postgresql",
        "host": params.get("host", "127.0.0.1"),
        "port": int(params.get("port") or 5432),
        "database": params["dbname"],
        "user": params.get("user", "postgres"),
    }


def _timed(argv: list[str], cwd: Path, log: Path) -> tuple[float, int, dict[str, float]]:
    started = time.monotonic()
    # A wide "terminal": reladiff prints through rich, which wraps lines at COLUMNS.
    env = {**os.environ, "COLUMNS": "1000000"}
    with open(log, "wb") as handle:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, env=env)
        monitor = TreeMonitor(proc.pid, "tool")
        monitor.start()
        code = proc.wait()
        seconds = time.monotonic() - started
        monitor.stop()
    peaks: dict[str, float] = {}
    for sample in monitor.samples.values():
        peaks[sample.role] = max(peaks.get(sample.role, 0.0), sample.peak_rss_kb / 1024)
    return seconds, code, peaks


def run_exporter(source: str, target: str, workers: int, folder: Path) -> dict[str, Any]:
    config = {
        "source": _pg_block(source),
        "target": _pg_block(target),
        "compare": {
            "tables": [QUALIFIED],
            "state_dir": str(folder / "state"),
            "checkpoint_dir": str(folder / "checkpoints"),
            "report_dir": str(folder / "reports"),
        },
    }
    path = folder / "compare.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    argv = [sys.executable, "-m", "exporter", "compare", "--config", str(path)]
    argv += ["--workers", str(workers), "--no-progress"]
    seconds, code, peaks = _timed(argv, REPO, folder / "compare.log")
    (report,) = (folder / "reports").glob("*/bench_wide.json")
    data = json.loads(report.read_text())
    keys = {k[0] for k in data["missing_in_target"] + data["missing_in_source"]}
    keys |= {row["key"][0] for row in data["different_rows"]}
    summary = json.loads(next((folder / "reports").glob("*/summary.json")).read_text())
    return {"seconds": seconds, "exit": code, "peaks": peaks, "keys": keys, "summary": summary}


def run_reladiff(reladiff: str, source: str, target: str, folder: Path) -> dict[str, Any]:
    def url(conninfo: str) -> str:
        p = conninfo_to_dict(conninfo)
        user, host = p.get("user", "postgres"), p.get("host", "127.0.0.1")
        return f"postgresql://{user}@{host}:{p.get('port', 5432)}/{p['dbname']}"

    argv = [reladiff, url(source), QUALIFIED, url(target), QUALIFIED, "-k", "id"]
    for column in COLUMNS:
        argv += ["-c", column]
    argv += ["--skip-sort-results", "--json"]
    seconds, code, peaks = _timed(argv, folder, folder / "reladiff.log")
    keys = set()
    for line in (folder / "reladiff.log").read_text().splitlines():
        if line.startswith('["'):  # --json: one ["+" or "-", [key, ...]] per line
            _sign, row = json.loads(line)
            keys.add(int(row[0]))
    return {"seconds": seconds, "exit": code, "peaks": peaks, "keys": keys}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--source", default="host=127.0.0.1 dbname=test user=postgres")
    parser.add_argument("--target-db", default="bench_target")
    parser.add_argument("--reladiff", help="reladiff's executable (its own virtualenv)")
    args = parser.parse_args(argv)
    target = make_conninfo(args.source, dbname=args.target_db)
    ensure_table(args.source, args.rows)
    ensure_wide(args.source, args.rows)
    plants = ensure_target(args.source, target, args.rows)
    planted = {k for ids in plants.values() for k in ids}
    assert len(planted) == 200
    print(f"nproc {os.cpu_count()}, rows {args.rows:,}, workers {args.workers}", flush=True)
    runs: list[dict[str, Any]] = []
    tools = ["exporter"] + (["reladiff"] if args.reladiff else [])
    for repeat in range(args.repeats):
        for tool in tools if repeat % 2 == 0 else tools[::-1]:
            folder = Path(
                tempfile.mkdtemp(prefix=f"cmp-{tool}-", dir=OUT if OUT.is_dir() else None)
            )
            if tool == "exporter":
                result = run_exporter(args.source, target, args.workers, folder)
            else:
                result = run_reladiff(args.reladiff, args.source, target, folder)
            exact = result["keys"] == planted
            print(
                f"  {tool:<9} #{repeat + 1} {result['seconds']:7.2f} s  exit {result['exit']}  "
                f"keys {len(result['keys'])} "
                f"({'exactly the 200' if exact else 'NOT the planted 200'})  "
                + " ".join(f"{r}={mb:.0f}MB" for r, mb in sorted(result["peaks"].items())),
                flush=True,
            )
            runs.append(
                {
                    "tool": tool,
                    "repeat": repeat,
                    **{k: v for k, v in result.items() if k != "keys"},
                    "exact": exact,
                    "found": len(result["keys"]),
                }
            )
    for tool in tools:
        times = [r["seconds"] for r in runs if r["tool"] == tool]
        print(
            f"{tool}: median {statistics.median(times):.2f} s "
            f"({', '.join(f'{t:.2f}' for t in times)})"
        )
    OUT.mkdir(parents=True, exist_ok=True)
    saved = OUT / f"compare-{args.rows}.json"
    saved.write_text(
        json.dumps(
            {"nproc": os.cpu_count(), "rows": args.rows, "workers": args.workers, "runs": runs},
            indent=2,
            default=str,
        )
    )
    print(f"saved {saved}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
