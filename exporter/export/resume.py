"""Resume decisions: which chunks still need writing, and the figures of those already written.

A chunk whose file exists is done (files appear only complete). Its figures come from the
sidecar the worker wrote before publishing, never overwritten here; if the sidecar is gone they
are recounted from the file itself.
"""

from __future__ import annotations

import logging

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


def chunk_stats(plan: TablePlan, layout: ExportLayout, index: int) -> ChunkStats:
    """Figures of a written chunk: its sidecar, or a recount of the file (then saved)."""
    sidecar = layout.chunk_stats_file(plan.table, index)
    path = layout.chunk_file(plan.table, index)
    if sidecar.exists():
        # The worker's record is evidence: even when the file's size no longer matches it
        # (edited or truncated by hand), keep it, so that validation's cross-check of the
        # file against the record reports the difference instead of blessing the new file.
        stats = ChunkStats.from_json(read_json(sidecar))
        if stats.bytes_written != path.stat().st_size:
            log.warning("%s: size differs from what its worker recorded", path)
        return stats
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
    write_json(sidecar, stats.to_json())
    return stats
