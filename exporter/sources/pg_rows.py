"""A PostgreSQL query's rows as Python tuples, in batches: the rows path's reader.

The rows are streamed: the query runs as one statement whose rows libpq hands over
`batch_rows` at a time (chunked rows mode, libpq 17 and later, through psycopg's
`Cursor.stream(size=...)`), while the server goes on producing the next ones into the
socket. A server-side cursor (DECLARE, then FETCH per batch) makes the server wait idle
while the client turns each batch into Python objects, and the client wait while the server
produces the next. Half of bench.t's 3M rows, read alone, took 8.6-9.4 s through a cursor
and 4.9-5.4 s streamed, with no more client CPU (bench/pg_fetch_bench.py, docs/BENCHMARKS.md).
Memory stays bounded: libpq parses no further than the chunk it is building, the rest waits
in the socket's buffers, and the server blocks when they are full (a bench.t worker's peak
RSS was 99-100 MB either way).

Where psycopg cannot stream in chunks (its libpq, or the libpq it was built against, older
than 17: a system libpq under psycopg's pure-Python or locally built implementation), the
server-side cursor is kept.

psycopg: https://www.psycopg.org/psycopg3/docs/api/cursors.html#psycopg.Cursor.stream
libpq: https://www.postgresql.org/docs/current/libpq-single-row-mode.html
"""

from __future__ import annotations

import contextlib
import itertools
from typing import Any

from exporter.sources.dialect import Query
from exporter.sources.values import RowBatches

# Local to the chunk's transaction (outside one, PostgreSQL ignores it with a warning).
NO_PARALLEL_PLANS = "SET LOCAL max_parallel_workers_per_gather = 0"


def chunked_rows_available() -> bool:
    """Whether psycopg can hand over rows in chunks: psycopg's own test, which asks for libpq
    17 or later both at run time and, for a locally built psycopg, at build time.
    https://www.psycopg.org/psycopg3/docs/api/objects.html#psycopg.Capabilities.has_stream_chunked
    """
    import psycopg

    return bool(psycopg.capabilities.has_stream_chunked())


def row_batches(raw: Any, query: Query, batch_rows: int) -> RowBatches:
    """The rows of `query` on the psycopg connection `raw`, in lists of at most `batch_rows`.

    Closing the generator early ends the query: psycopg cancels a stream left midway and
    reads what was already sent, which leaves the transaction failed (the caller rolls it
    back, as a chunk that failed does); a cursor is closed. Until the generator is closed or
    exhausted, a stream holds the connection's lock: nothing else may run on `raw`.
    """
    if not chunked_rows_available():
        yield from _cursor_batches(raw, query, batch_rows)
        return
    with raw.cursor() as cur:
        # A cursor's query never gets a parallel plan; a statement may. As under the cursor
        # (and as for the comparator's chunks): the workers already read side by side, and
        # parallel workers of the server's own would only fight them for its cores.
        # https://www.postgresql.org/docs/current/when-can-parallel-query-be-used.html
        cur.execute(NO_PARALLEL_PLANS)
        rows = cur.stream(query.sql, dict(query.params), size=batch_rows)
        # The stream is closed before the cursor: it holds the connection's lock until then.
        with contextlib.closing(rows):
            while batch := list(itertools.islice(rows, batch_rows)):
                yield batch


def _cursor_batches(raw: Any, query: Query, batch_rows: int) -> RowBatches:
    # https://www.psycopg.org/psycopg3/docs/advanced/cursors.html#server-side-cursors
    with raw.cursor(name="exporter_chunk") as cur:
        cur.itersize = batch_rows
        cur.execute(query.sql, dict(query.params))
        while batch := cur.fetchmany(batch_rows):
            yield batch
