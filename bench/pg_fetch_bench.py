"""PostgreSQL rows-path reader benchmark: the streamed query (chunked rows mode, libpq 17+)
against the server-side cursor it replaced, both from exporter/sources/pg_rows.py, fetching
Python rows and nothing else (no encoding, no file).

    .venv/bin/python bench/export_bench.py --keep-table ...   # creates bench.t once
    .venv/bin/python bench/pg_fetch_bench.py                   # half of bench.t, 2 repeats
    .venv/bin/python bench/pg_fetch_bench.py --parallel 2      # both halves at once

Each run is a fresh process (so no run inherits another's heap), alternating the readers;
it reads the ids [1, rows / 2] (and, with --parallel 2, a second process the other half at
the same time) in batches of 10,000 rows, as `fetch_rows`. Prints each process's wall time
and its own CPU time (user + system); the server's CPU is not counted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

READERS = ("streamed", "cursor")
BATCH_ROWS = 10_000


def _child(reader: str, dsn: str, lo: int, hi: int) -> None:
    import psycopg

    from exporter.sources import pg_rows
    from exporter.sources.dialect import Query

    if reader == "cursor":
        pg_rows.chunked_rows_available = lambda: False  # type: ignore[assignment]
    query = Query("SELECT * FROM bench.t WHERE id BETWEEN %(lo)s AND %(hi)s", {"lo": lo, "hi": hi})
    with psycopg.connect(dsn, autocommit=True) as conn:
        start = time.perf_counter()
        rows = 0
        with conn.transaction():
            for batch in pg_rows.row_batches(conn, query, BATCH_ROWS):
                rows += len(batch)
        wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"rows": rows, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default="host=127.0.0.1 dbname=test user=postgres")
    parser.add_argument("--rows", type=int, default=3_000_000, help="rows in bench.t")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--parallel", type=int, choices=(1, 2), default=1)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        reader, lo, hi = args.child
        _child(reader, args.dsn, int(lo), int(hi))
        return
    half = args.rows // 2
    ranges = [(1, half), (half + 1, args.rows)][: args.parallel]
    for repeat in range(args.repeats):
        for reader in READERS if repeat % 2 == 0 else READERS[::-1]:
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        __file__,
                        "--dsn",
                        args.dsn,
                        "--child",
                        reader,
                        str(lo),
                        str(hi),
                    ],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for lo, hi in ranges
            ]
            for proc in procs:
                out, _ = proc.communicate()
                got = json.loads(out)
                print(
                    f"{reader:9s} rows {got['rows']:>9,}  wall {got['wall']:6.2f} s  "
                    f"client CPU {got['cpu']:6.2f} s"
                )


if __name__ == "__main__":
    main()
