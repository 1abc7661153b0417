"""The rows of a COPY TO STDOUT, read from libpq in batches, for PostgreSQL's bulk path.

The server sends one CopyData message per row. psycopg's `Copy` iterator hands them over one
at a time through its generator and wait machinery; this loop takes whole batches from
libpq's buffer (in C where it can, pg_copy_read.py) and waits on the socket only when the
buffer holds no complete row, with the socket's low-water mark raised for the wait so that
it ends once a quarter megabyte has arrived rather than at every 8 kB the server flushes.
psycopg still starts the COPY (binding the parameters, checking the result), and the loop
ends it as psycopg's `generators.copy_from` does, with psycopg's own `fetch_many`: a server
error (a range check in the query, a terminated backend) is raised as psycopg raises it.
Leaving the `Copy` block early (an error in the consumer) is psycopg's own path: it cancels
the COPY and drains it.

libpq: https://www.postgresql.org/docs/current/libpq-copy.html#LIBPQ-COPY-RECEIVE
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

from exporter.sources.pg_copy_read import RowReader, SocketWait, row_reader

COPY_BATCH_ROWS = 2048  # rows handed over at a time: one join, one marker test per batch

# What PQgetCopyData returned last (pg_copy_read.RowReader): no complete row buffered yet,
# the COPY has ended, an error (psycopg's `get_copy_data` raises it; the C reader returns it).
_MORE, _ENDED, _FAILED = 0, -1, -2


def copy_batches(
    copy: Any, conn: Any, batch_rows: int = COPY_BATCH_ROWS, reader: RowReader | None = None
) -> Generator[list[bytes], None, None]:
    """Lists of up to `batch_rows` rows of an open psycopg `copy` (COPY TO) on `conn`, each
    row bytes ending in a newline, until the COPY ends. `copy` stays open around the loop so
    that psycopg cancels and drains the COPY if the consumer stops early; the loop itself
    reads only through libpq, with `reader` (default: pg_copy_read.row_reader's)."""
    pgconn = conn.pgconn
    read = reader or row_reader(pgconn)
    batch: list[bytes] = []
    with SocketWait(pgconn) as socket_wait:
        status = _MORE
        while status != _ENDED:
            status, rows = read(batch_rows - len(batch))
            batch += rows
            if len(batch) >= batch_rows:
                yield batch
                batch = []
            if status == _MORE:
                # Wait only when the last read found nothing: after rows, libpq's buffer was
                # full or the socket holds more (a read that finds nothing costs no wake-up).
                if not rows:
                    socket_wait.wait()
                pgconn.consume_input()
            elif status == _FAILED:  # as psycopg's own get_copy_data raises it
                import psycopg

                message = pgconn.get_error_message()
                raise psycopg.OperationalError(f"receiving copy data failed: {message}")
    # No mark is raised outside a wait: psycopg may wait for the final result.
    _end_of_copy(conn)
    if batch:
        yield batch


def _end_of_copy(conn: Any) -> None:
    """libpq has returned the end of the COPY: fetch the final result as psycopg's
    `generators.copy_from` does (its `fetch_many`, through `conn.wait`, which also keeps an
    error the server sent before closing the connection, and cancels cleanly on Ctrl-C),
    and raise what the server reported."""
    import psycopg
    from psycopg import errors, generators, pq

    results = conn.wait(generators.fetch_many(conn.pgconn))
    if not results:
        raise psycopg.OperationalError("the COPY ended without a result")
    if results[0].status != pq.ExecStatus.COMMAND_OK:
        raise errors.error_from_result(results[0], encoding=conn.info.encoding)


def quoted_marker(null_marker: str) -> bytes:
    """How COPY (FORMAT csv) shows a value equal to its NULL string: quoted. COPY quotes any
    such value, text or not, so that it is not read back as NULL: a quoted marker is the only
    way such a value can appear in a line. https://www.postgresql.org/docs/current/sql-copy.html"""
    return ('"' + null_marker.replace('"', '""') + '"').encode("utf-8")


def marker_column(line: bytes, null_marker: str) -> int | None:
    """The position of the first cell of a COPY CSV line that is the null marker quoted (a
    value equal to the marker), or None. Under the empty marker none is: COPY writes '' and
    an empty bytea `""`, which is what canonical/cells.py writes too (`empty_cell`)."""
    if not null_marker:
        return None
    record = line.decode("utf-8").rstrip("\n")
    for position, (text, quoted) in enumerate(_cells(record)):
        if quoted and text == null_marker:
            return position
    return None


def _cells(line: str) -> Iterator[tuple[str, bool]]:
    """(text, was_quoted) for each cell of one CSV record."""
    i, n = 0, len(line)
    while i <= n:
        if i < n and line[i] == '"':
            j, parts = i + 1, []
            while True:
                k = line.index('"', j)
                parts.append(line[j:k])
                if k + 1 < n and line[k + 1] == '"':
                    parts.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            yield "".join(parts), True
        else:
            k = line.find(",", i)
            k = n if k < 0 else k
            yield line[i:k], False
            i = k
        i += 1  # skip the comma
