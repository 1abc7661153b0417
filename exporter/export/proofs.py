"""What a table's passed validation was proved on, so that a re-run need not prove it again.

When a table's validation passes, config/proof.json records the verdict, when it was proved,
the digest of its frozen plan.json (columns, chunks, file format), and every chunk file's name,
size and modification time in nanoseconds, taken before the files were read back (rsync's
quick check). A later run carries the verdict over, without a query to the source or a read of
any file, only while all of that still holds; any chunk file deleted, added or touched since,
or a new plan, means the table is validated again. A failed validation removes the proof.
`validate` and `export --revalidate` always validate.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from exporter.fsutil import read_json, write_json
from exporter.layout import ExportLayout
from exporter.model import TablePlan
from exporter.validation.checks import TableVerdict
from exporter.version import __version__

PROOF_FORMAT_VERSION = 1
FileStats = dict[str, list[int]]  # chunk file name -> [size, mtime_ns]


@dataclass(frozen=True)
class CarriedOver:
    """A verdict proved by an earlier run and still true of the files."""

    verdict: TableVerdict
    proved_at: str


def now() -> str:
    """The time a proof records: UTC, ISO 8601, to the second."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def file_stats(plan: TablePlan, layout: ExportLayout) -> FileStats:
    """Every chunk file on disk of the table: its size and modification time (ns)."""
    stats: FileStats = {}
    for path in layout.existing_chunk_files(plan.table).values():
        info = path.stat()
        stats[path.name] = [info.st_size, info.st_mtime_ns]
    return stats


def _plan_digest(plan: TablePlan, layout: ExportLayout) -> str:
    return hashlib.sha256(layout.plan_file(plan.table).read_bytes()).hexdigest()


def carried_over(plan: TablePlan, layout: ExportLayout) -> CarriedOver | None:
    """The table's recorded verdict when nothing it was proved on has changed, else None."""
    path = layout.proof_file(plan.table)
    try:
        proof: dict[str, Any] = read_json(path)
        if (
            proof.get("format_version") != PROOF_FORMAT_VERSION
            or proof["plan_sha256"] != _plan_digest(plan, layout)
            or proof["files"] != file_stats(plan, layout)
        ):
            return None
        return CarriedOver(TableVerdict.from_json(proof["verdict"]), proof["proved_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no proof, or one this version cannot read: validate


def record(
    plan: TablePlan,
    layout: ExportLayout,
    verdict: TableVerdict | None,
    stats: FileStats,
    snapshot: str | None,
) -> None:
    """After a validation: the proof of a passed one (`stats` taken before the files were
    read), or no proof at all."""
    path = layout.proof_file(plan.table)
    if verdict is None or verdict.failures:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return
    write_json(
        path,
        {
            "format_version": PROOF_FORMAT_VERSION,
            "tool_version": __version__,
            "proved_at": now(),
            "snapshot": snapshot,
            "plan_sha256": _plan_digest(plan, layout),
            "files": stats,
            "verdict": verdict.to_json(),
        },
    )
