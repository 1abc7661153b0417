"""Source COUNT(*) and exact numeric sums, at the export's snapshot, against the same figures
read back from the written files and the figures the workers recorded.

Integer and decimal columns are compared exactly (Decimal, never float). Floating columns are
not compared against the source: the database's SUM of doubles depends on summation order
and can overflow, so it proves nothing either way. Their file sums are compared with the
workers' (both the exact sum rounded once: float_sum.py) with a relative tolerance of 1e-12.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from exporter.errors import ExporterError
from exporter.layout import ExportLayout
from exporter.model import Chunk, ChunkBounds, ChunkStats, TablePlan, TableRef
from exporter.sources.base import Source
from exporter.validation.float_sum import float_total
from exporter.validation.readback import read_chunk_figures
from exporter.validation.readers import ChunkReaders
from exporter.validation.source_figures import add_figures, coverage_gap, table_figures
from exporter.validation.sums import EXACT

FLOAT_REL_TOLERANCE = 1e-12


@dataclass
class ColumnCheck:
    """One column's sums: source, exported (files), and whether they match."""

    column: str
    source: str | None
    exported: str
    match: bool | None  # None: not compared against the source (floating columns)


@dataclass
class TableVerdict:
    """The outcome of validating one table."""

    source_row_count: int | None = None
    exported_row_count: int = 0
    sums: list[ColumnCheck] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    file_rows: dict[str, int] = field(default_factory=dict)
    source_basis: str = ""
    """What the source's figures were taken over (validation/source_figures.py)."""

    def to_json(self) -> dict[str, Any]:
        """The figures as stored in metadata.json and summary_report.json."""
        return {
            "source_row_count": self.source_row_count,
            "exported_row_count": self.exported_row_count,
            "row_count_match": self.source_row_count == self.exported_row_count,
            "column_sums": [c.__dict__ for c in self.sums],
            "failures": self.failures,
            "source_figures_over": self.source_basis,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TableVerdict:
        """The verdict `to_json` stored (a proof carried over to a later run)."""
        return cls(
            source_row_count=data["source_row_count"],
            exported_row_count=data["exported_row_count"],
            sums=[ColumnCheck(**c) for c in data["column_sums"]],
            failures=list(data["failures"]),
            source_basis=data.get("source_figures_over", ""),
        )


def _same(a: str, b: str) -> bool:
    x, y = Decimal(a), Decimal(b)
    if x.is_nan() or y.is_nan():
        return x.is_nan() and y.is_nan()
    return EXACT.compare(x, y) == 0


def _close(a: float, b: float) -> bool:
    return (
        a == b
        or (math.isnan(a) and math.isnan(b))
        or math.isclose(a, b, rel_tol=FLOAT_REL_TOLERANCE, abs_tol=0.0)
    )


def source_side(
    source: Source,
    plan: TablePlan,
    stats: Sequence[ChunkStats],
    snapshot: str | None,
    *,
    chunk_figures: bool,
) -> tuple[int, list[Any], str]:
    """The source's COUNT(*) and exact sums, and where they come from: with `chunk_figures`,
    the sum of the figures each worker took of its chunk's range at the chunk's snapshot,
    where every chunk has them and the ranges cover the table once; else one query over the
    whole table, at the table's snapshot (`snapshot` where its plan pins none)."""
    exact_cols = [c for c in plan.columns if c.kind.is_exact_number]
    gap = coverage_gap(plan)
    summed = table_figures(stats, exact_cols) if chunk_figures and gap is None else None
    if summed is not None:
        return summed[0], summed[1], "the chunks' ranges, each at the snapshot it was read at"
    whole = Chunk(0, ChunkBounds("whole"))  # the table itself, AS OF where the plan says
    with source.session() as conn:
        with source.chunk_transaction(conn, plan.session_snapshot(snapshot)):
            parts = source.range_figures(conn, plan, whole, exact_cols)
    count, sums = add_figures(parts, exact_cols)
    why = f"; chunk ranges not used: {gap}" if chunk_figures and gap else ""
    return count, [sums[c.name] for c in exact_cols], f"the whole table{why}"


def validate_table(
    source: Source,
    plan: TablePlan,
    stats: Sequence[ChunkStats],
    layout: ExportLayout,
    snapshot: str | None,
    readers: ChunkReaders | None = None,
    *,
    chunk_figures: bool = False,
) -> TableVerdict:
    """Compare source, files and worker figures for one fully written table. The files are
    read by `readers` when given (in parallel, started ahead), else here."""
    verdict = TableVerdict()
    exact_cols = [c for c in plan.columns if c.kind.is_exact_number]
    # The source first: a query runs while `readers` are still reading the files.
    count, source_sums, verdict.source_basis = source_side(
        source, plan, stats, snapshot, chunk_figures=chunk_figures
    )
    file_sums = {c.name: Decimal(0) for c in exact_cols}
    file_floats: dict[str, list[float]] = {}
    by_index = {s.index: s for s in stats}
    for chunk in plan.chunks:
        path = layout.chunk_file(plan.table, chunk.index)
        if readers is not None:
            figures = readers.figures(plan, chunk.index)
        else:
            figures = read_chunk_figures(path, plan)
        verdict.file_rows[path.name] = figures.rows
        verdict.exported_row_count += figures.rows
        for name, total in figures.sums.items():
            file_sums[name] = EXACT.add(file_sums[name], Decimal(total))
        for name, value in figures.float_sums.items():
            file_floats.setdefault(name, []).append(value)
        recorded = by_index.get(chunk.index)
        if recorded is None:
            continue
        if recorded.rows != figures.rows:
            verdict.failures.append(
                f"{path.name}: {figures.rows} rows in the file, "
                f"{recorded.rows} recorded by the worker"
            )
        for name, total in (recorded.sums or {}).items():
            if not _same(total, figures.sums[name]):
                verdict.failures.append(
                    f"{path.name}: sum of {name} is {figures.sums[name]} "
                    f"in the file, {total} recorded by the worker"
                )
        for name, value in (recorded.float_sums or {}).items():
            if not _close(value, figures.float_sums[name]):
                verdict.failures.append(
                    f"{path.name}: float sum of {name} differs from the worker's"
                )
    verdict.source_row_count = count
    if verdict.source_row_count != verdict.exported_row_count:
        verdict.failures.append(
            f"row count: source {verdict.source_row_count}, files {verdict.exported_row_count}"
        )
    for column, value in zip(exact_cols, source_sums, strict=True):
        src = format(Decimal(value), "f") if value is not None else "0"
        exported = format(file_sums[column.name], "f")
        match = _same(src, exported)
        verdict.sums.append(ColumnCheck(column.name, src, exported, match))
        if not match:
            verdict.failures.append(f"sum of {column.name}: source {src}, files {exported}")
    for name, parts in file_floats.items():
        verdict.sums.append(ColumnCheck(name, None, repr(float_total(parts)), None))
    return verdict


def validate_tables(
    source: Source,
    tables: Sequence[tuple[TablePlan, Sequence[ChunkStats]]],
    layout: ExportLayout,
    snapshot: str | None,
    readers: ChunkReaders,
    *,
    chunk_figures: bool = False,
) -> dict[TableRef, TableVerdict | ExporterError]:
    """The verdict of every fully written table (plan, and its workers' figures), or the error
    that kept it from being checked. Every file is handed to `readers` first, so that they
    read while the source is queried, table after table."""
    readers.submit_all(plan for plan, _stats in tables)
    verdicts: dict[TableRef, TableVerdict | ExporterError] = {}
    for plan, stats in tables:
        try:
            verdicts[plan.table] = validate_table(
                source, plan, stats, layout, snapshot, readers, chunk_figures=chunk_figures
            )
        except ExporterError as exc:
            verdicts[plan.table] = exc
    return verdicts
