"""Resume decisions: which chunks still need writing, and the figures of those already written.

A chunk whose file exists is done (files appear only complete). Its figures come from the
sidecar the worker wrote before publishing, never overwritten here; if the sidecar is gone they
are recounted from the file itself. A table's sidecars are read by several threads at once:
in an object store each read is a request of some tens of milliseconds, which thousands of
chunks would otherwise pay one after another on every run.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from exporter.fsutil import read_json, write_json
from exporter.layout import ExportLayout
from exporter.model import Chunk, ChunkStats, TablePlan
from exporter.validation.readback import read_chunk_figures

log = logging.getLogger(__name__)


def pending_chunks(plan: TablePlan, layout: ExportLayout) -> list[Chunk]:
    """Chunks of `plan` without a file on disk."""
    done = layout.existing_chunk_files(plan.table)
    return [c for c in plan.chunks if c.index not in done]


def unexpected_chunk_files(plan: TablePlan, layout: ExportLayout) -> list[int]:
    """Indexes of chunk files on disk that the plan does not have."""
    known = {c.index for c in plan.chunks}
    return sorted(i for i in layout.existing_chunk_files(plan.table) if i not in known)


READ_THREADS = 16  # sidecars read at once (requests in flight, in an object store)


def all_chunk_stats(plan: TablePlan, layout: ExportLayout) -> list[ChunkStats]:
    """The figures of every chunk of `plan`, in chunk order: the sidecars read by several
    threads, a file without one recounted afterwards, one at a time (a recount reads the
    whole file, in memory-bounded blocks that several at once would multiply)."""
    indexes = [c.index for c in plan.chunks]
    with ThreadPoolExecutor(max(1, min(READ_THREADS, len(indexes))), "sidecars") as pool:
        recorded = list(pool.map(lambda i: recorded_stats(plan, layout, i), indexes))
    return [
        stats if stats is not None else recounted_stats(plan, layout, index)
        for index, stats in zip(indexes, recorded, strict=True)
    ]


def recorded_stats(plan: TablePlan, layout: ExportLayout, index: int) -> ChunkStats | None:
    """The worker's record of a written chunk (its sidecar); None where there is none."""
    path = layout.chunk_file(plan.table, index)
    try:  # read without asking first whether it exists: one request, not two
        recorded = read_json(layout.chunk_stats_file(plan.table, index))
    except FileNotFoundError:
        return None
    # The worker's record is evidence: even when the file's size no longer matches it
    # (edited or truncated by hand), keep it, so that validation's cross-check of the
    # file against the record reports the difference instead of blessing the new file.
    stats = ChunkStats.from_json(recorded)
    if stats.bytes_written != path.stat().st_size:
        log.warning("%s: size differs from what its worker recorded", path)
    return stats


def recounted_stats(plan: TablePlan, layout: ExportLayout, index: int) -> ChunkStats:
    """Figures of a written chunk counted from the file itself, saved as its sidecar."""
    path = layout.chunk_file(plan.table, index)
    figures = read_chunk_figures(path, plan)
    stats = ChunkStats(
        index=index,
        file_name=path.name,
        rows=figures.rows,
        bytes_written=path.stat().st_size,
        seconds=0.0,
        sums=figures.sums,
        float_sums=figures.float_sums,
    )
    write_json(layout.chunk_stats_file(plan.table, index), stats.to_json())
    return stats
