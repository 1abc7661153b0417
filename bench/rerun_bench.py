"""Re-run benchmark: a finished, validated export run again (nothing changed), against the
export itself, and what the database was asked meanwhile.

    .venv/bin/python bench/rerun_bench.py                 # 300 tables of 1,000 rows, and bench.t
    .venv/bin/python bench/rerun_bench.py --tables 50

1. Creates database `bench_rerun` (dropped and made again) with `--tables` small tables
   (id bigint primary key, a numeric, a text; `--rows` rows each), and sets its
   log_statement to `all`, so that the server's log shows every statement of the runs.
2. Exports them (`./run.sh export`, validation on, 2 workers) into a fresh folder, then runs
   the same command twice more (the first re-run rewrites each metadata.json once, to say its
   verdict was carried over), and once more with `--revalidate`; then the same three for
   export_bench.py's bench.t in database `test` when it exists (its row count as it is).
3. Prints the wall seconds of each run and, for the small tables, how many statements of each
   run the server logged that count or sum (`count(`, `sum(`: the source side of validation)
   and how many in all, read from the server's log file (`--log`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import yaml

REPO = Path(__file__).resolve().parent.parent
DATABASE = "bench_rerun"


def _create(admin: str, tables: int, rows: int) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
        conn.execute(f"ALTER DATABASE {DATABASE} SET log_statement = 'all'")
    with psycopg.connect(admin.replace("dbname=test", f"dbname={DATABASE}"), autocommit=True) as c:
        for i in range(tables):
            c.execute(
                f"CREATE TABLE t{i:03} (id bigint PRIMARY KEY, amount numeric(12,2), note text)"
            )
            c.execute(
                f"INSERT INTO t{i:03} SELECT g, g / 7.0, 'note ' || g "
                f"FROM generate_series(1, {rows}) AS g"
            )
        c.execute("ANALYZE")


def _config(folder: Path, database: str, schemas: list[str], include: list[str]) -> Path:
    config = {
        "source": {"engine": "postgresql", "host": "127.0.0.1", "database": database,
                   "user": "postgres"},
        "export": {"schemas": schemas, "include": include, "output_dir": str(folder / "out"),
                   "workers": 2},
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{database}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _timed(config: Path, *extra: str) -> tuple[float, int]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "exporter", "export", "--config", str(config), "--no-progress",
         *extra],
        cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    return time.monotonic() - started, done.returncode


def _log_size(log: Path) -> int:
    return log.stat().st_size if log.exists() else 0


def _statements(log: Path, since: int) -> tuple[int, int]:
    """(statements counting or summing, statements) logged for bench_rerun since byte `since`."""
    with open(log, encoding="utf-8", errors="replace") as handle:
        handle.seek(since)
        text = handle.read()
    # Simple-protocol statements log as "statement: ...", bound ones as "execute <name>: ...".
    lines = [
        line for line in text.splitlines() if re.search(r"LOG:  (statement|execute [^:]*):", line)
    ]
    figures = [line for line in lines if re.search(r"\b(count|sum)\(", line, re.IGNORECASE)]
    return len(figures), len(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", type=int, default=300)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--admin", default="host=127.0.0.1 dbname=test user=postgres")
    parser.add_argument(
        "--log", type=Path, default=Path("/var/log/postgresql/postgresql-15-main.log")
    )
    args = parser.parse_args()
    print(f"nproc {os.cpu_count()}; {args.tables} tables of {args.rows} rows", flush=True)
    _create(args.admin, args.tables, args.rows)
    folder = Path(tempfile.mkdtemp(prefix="rerun-"))
    small = _config(folder / "small", DATABASE, ["public"], ["*"])
    big = _config(folder / "big", "test", ["bench"], ["bench.t"])
    for name, config in (("small tables", small), ("bench.t", big)):
        if name == "bench.t":
            with psycopg.connect(args.admin) as conn:
                found = conn.execute("SELECT to_regclass('bench.t')").fetchone()
            if not found or found[0] is None:
                continue
        for label, extra in (
            ("export", ()),
            ("re-run", ()),
            ("re-run again", ()),
            ("re-run --revalidate", ("--revalidate",)),
        ):
            mark = _log_size(args.log)
            seconds, code = _timed(config, *extra)
            line = f"  {name:<13} {label:<20} {seconds:7.2f} s  exit {code}"
            if name == "small tables" and args.log.exists():
                figures, total = _statements(args.log, mark)
                line += f"  statements logged: {total}, counting or summing: {figures}"
            print(line, flush=True)
    shutil.rmtree(folder, ignore_errors=True)
    with psycopg.connect(args.admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
