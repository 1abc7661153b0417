"""The source's figures of a chunk's range (COUNT(*) and exact sums, for validation), taken on
a second connection while the chunk itself is read.

The figures query is a second scan of the chunk's range. After the read, on the same
connection, it added its time to every chunk's; beside the read, on a connection of its own
at the same snapshot, it costs a chunk no wall time (the database does both scans at once).

Each thread that exports chunks gets one helper thread, kept for the life of the process, so
the helper's cached connection (runtime/connections.py, role "figures") serves every chunk of
that thread. A process-pool worker has one such thread; a Dask worker runs tasks on several,
and with a helper each their figures never queue behind one another's. The helper's
connections count as its owner's (`work_for`): they close when the owner's do, at exit or
after a failed chunk, and the owner always waits for its figures first.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from exporter.config.plain import PlainSettings
from exporter.errors import ExporterError
from exporter.model import Chunk, TablePlan
from exporter.runtime.connections import (
    cached_connection,
    close_connections,
    drop_if_broken,
    work_for,
)
from exporter.validation.source_figures import ChunkFigures, add_figures

log = logging.getLogger(__name__)

_helpers: dict[int, ThreadPoolExecutor] = {}  # the exporting thread -> its helper
_helpers_lock = threading.Lock()


def _helper() -> ThreadPoolExecutor:
    """This thread's helper: one thread, started on first use and kept (Dask's and the
    pool's task threads live as long as their process, so there are as many as they)."""
    owner = threading.get_ident()
    with _helpers_lock:
        helper = _helpers.get(owner)
        if helper is None:
            helper = ThreadPoolExecutor(
                max_workers=1,
                thread_name_prefix="figures",
                initializer=work_for,
                initargs=(owner,),
            )
            _helpers[owner] = helper
    return helper


def start_figures(
    settings: PlainSettings, plan: TablePlan, chunk: Chunk, snapshot: str | None
) -> Future[ChunkFigures]:
    """Start taking COUNT(*) and the exact sums of `chunk`'s range on this thread's helper,
    in a transaction at `snapshot` (the session's; None where the query names it itself).
    The future's error is the source's one line (an ExporterError), as the read's would be."""
    return _helper().submit(_take_figures, settings, plan, chunk, snapshot)


def settle(figures: Future[ChunkFigures] | None, failure: BaseException) -> None:
    """Wait for figures no longer wanted, the chunk having failed with `failure`: the query
    must not run on unobserved, holding its connection, while the next chunk starts or the
    connections are closed. An error of its own besides is logged: the chunk's is told."""
    if figures is None or figures.cancel():  # cancelled: it had not started
        return
    own = figures.exception()  # waits
    if own is not None and own is not failure:
        log.debug("the figures of a failed chunk failed too: %s", own)


def _take_figures(
    settings: PlainSettings, plan: TablePlan, chunk: Chunk, snapshot: str | None
) -> ChunkFigures:
    """On the helper thread: the figures, on its cached connection."""
    source, conn = cached_connection(settings, role="figures")
    columns = [c for c in plan.columns if c.kind.is_exact_number]
    try:
        with source.chunk_transaction(conn, snapshot):
            parts = source.range_figures(conn, plan, chunk, columns)
    except ExporterError:
        drop_if_broken(conn)
        raise
    except Exception as exc:
        # As export_chunk does with a driver's error: the connection may be unusable, so
        # it is dropped (the next chunk reconnects), and the error told in the source's words.
        close_connections()
        log.debug("the figures of %s/%d failed", plan.table, chunk.index, exc_info=True)
        raise source.explain_error(exc) from exc
    return add_figures(parts, columns)
