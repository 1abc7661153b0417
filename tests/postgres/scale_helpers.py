"""Helpers of the scale-out tests (issue 16): a chunked table, its config, and what the chunk
files hold, wherever they are."""

from __future__ import annotations

import collections
import csv
import gzip
import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from tests.conftest import pg_source

TABLE = "spread"
ROWS = 200_000  # ~17 MB of heap: about eight chunks of 2 MB
CHUNK_MB = 2.0

FILL_SQL = """
INSERT INTO {t} (id, txt, amount, at)
SELECT g,
       CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'say "hi", ' || g
                  ELSE repeat(md5(g::text), 1 + g % 2) END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE CAST(g * 1.25 - 9000 AS numeric(18, 4)) END,
       timestamptz '2001-01-01 00:00:00+00' + g * interval '1.5 second'
FROM generate_series(1, {rows}) AS g
"""


def create_table(pg: Any, schema: str) -> str:
    """The table the scale-out tests export, filled and analysed; its quoted name."""
    table = f'"{schema}"."{TABLE}"'
    pg.execute(
        f"CREATE TABLE {table} (id integer PRIMARY KEY, txt text, amount numeric(18, 4),"
        " at timestamptz)"
    )
    pg.execute(FILL_SQL.format(t=table, rows=ROWS))
    pg.execute(f"ANALYZE {table}")
    return table


def config_data(schema: str, output_dir: str, **export: Any) -> dict[str, Any]:
    """A config (as YAML data) that splits the table into about ten chunks."""
    return {
        "source": pg_source(),
        "export": {
            "schemas": [schema],
            "output_dir": output_dir,
            "chunk_threshold_gb": 0.001,
            "chunk_size_mb": CHUNK_MB,
            "workers": 2,
            **export,
        },
    }


def records(data: bytes) -> list[list[str]]:
    """The CSV records of one chunk file's bytes (a complete gzip stream), header first."""
    text = gzip.decompress(data).decode("utf-8")  # checks the gzip trailer too
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


def id_counts(files: Iterable[bytes]) -> collections.Counter[int]:
    """How often each id appears across the chunk files."""
    counts: collections.Counter[int] = collections.Counter()
    for data in files:
        header, *rows = records(data)
        at = header.index("id")
        counts.update(int(row[at]) for row in rows)
    return counts


def wait_for(
    what: str, check: Callable[[], Any], timeout: float = 60.0, every: float = 0.002
) -> Any:
    """Poll `check` every `every` seconds until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)
    return found
