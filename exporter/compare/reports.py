"""What a comparison tells its user: per table, the keys missing on each side and the rows that
differ (JSON and CSV under report_dir/<session id>/), the run summary, and the screens of
`--status` and `--list-sessions`.

Values are the comparison form's text (canonical/digest.py): NULL is `\\N` in CSV and null in
JSON, text is quoted, binary is base64. A table's CSV grows as its chunks finish, so a crash
keeps what was found; both files are rewritten whole from the checkpoints when the table ends.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from exporter.canonical.digest import NULL_CELL
from exporter.compare.plan import TablePair
from exporter.compare.sessions import COMPLETED, FAILED, IN_PROGRESS, Session, TableState
from exporter.compare.task import CompareOutcome
from exporter.fsutil import write_atomic, write_json

MARKS = {COMPLETED: "done", FAILED: "FAILED", IN_PROGRESS: "running"}


def _csv_rows(pair: TablePair, outcome: CompareOutcome) -> Iterable[list[Any]]:
    """One CSV row per missing key, and per differing column of a differing row."""
    for key in outcome.missing_in_target:
        yield ["missing_in_target", *key, "", "", ""]
    for key in outcome.missing_in_source:
        yield ["missing_in_source", *key, "", "", ""]
    for row in outcome.different:
        for column, (mine, theirs) in row["columns"].items():
            shown = (NULL_CELL if v is None else v for v in (mine, theirs))
            yield ["different", *row["key"], column, *shown]


def csv_header(pair: TablePair) -> list[str]:
    """difference, the key columns, column, source_value, target_value."""
    keys = [f"key_{column.name}" for column in pair.source_key]
    return ["difference", *keys, "column", "source_value", "target_value"]


def _csv_text(rows: Iterable[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def append_chunk(path: Path, pair: TablePair, outcome: CompareOutcome) -> None:
    """Add a finished chunk's differences to the table's CSV (created with its header)."""
    rows = list(_csv_rows(pair, outcome))
    if not rows and path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8", newline="") as handle:
        if handle.tell() == 0:
            handle.write(_csv_text([csv_header(pair)]))
        handle.write(_csv_text(rows))


def write_table(
    json_path: Path,
    csv_path: Path,
    pair: TablePair,
    state: TableState,
    outcomes: dict[int, CompareOutcome],
) -> None:
    """Both files of a table, whole, from every checkpoint (chunk order, then key order)."""
    ordered = [outcomes[i] for i in sorted(outcomes)]
    report = {
        "table": pair.name,
        "target": pair.target.qualified,
        "key": [column.name for column in pair.source_key],
        "status": state.status,
        "rows_source": state.rows_source,
        "rows_target": state.rows_target,
        "chunks": state.chunks_total,
        "chunks_differed": state.chunks_differed,
        "error": state.error,
        "missing_in_target": [k for o in ordered for k in o.missing_in_target],
        "missing_in_source": [k for o in ordered for k in o.missing_in_source],
        "different_rows": [r for o in ordered for r in o.different],
    }
    write_json(json_path, report)
    rows = [csv_header(pair), *(row for o in ordered for row in _csv_rows(pair, o))]
    write_atomic(csv_path, _csv_text(rows))


def summary(session: Session, seconds: float) -> dict[str, Any]:
    """The run's figures: per table and in total."""
    tables = list(session.tables.values())
    rows = sum(t.rows_source for t in tables)
    return {
        "session_id": session.session_id,
        "status": session.status,
        "seconds": round(seconds, 3),
        "tables": len(tables),
        "tables_equal": sum(1 for t in tables if t.status == COMPLETED and not t.differences),
        "tables_different": sum(1 for t in tables if t.differences),
        "tables_failed": sum(1 for t in tables if t.status == FAILED),
        "rows_source": rows,
        "rows_target": sum(t.rows_target for t in tables),
        "chunks_checked": sum(t.chunks_done for t in tables),
        "chunks_differed": sum(t.chunks_differed for t in tables),
        "missing_in_target": sum(t.missing_in_target for t in tables),
        "missing_in_source": sum(t.missing_in_source for t in tables),
        "different_rows": sum(t.different_rows for t in tables),
        "ranges_checked": sum(t.ranges_checked for t in tables),
        "keys_streamed": sum(t.keys_streamed for t in tables),
        "rows_fetched_for_detail": sum(t.rows_fetched for t in tables),
        "rows_per_second": round(rows / seconds) if seconds > 0 else None,
        "per_table": {name: vars(t) for name, t in session.tables.items()},
    }


def summary_text(figures: dict[str, Any], report_dir: Path) -> str:
    """The summary as printed at the end of a run."""
    return "\n".join(
        [
            f"session {figures['session_id']}: {figures['status']}, "
            f"{figures['tables']} table(s): {figures['tables_equal']} equal, "
            f"{figures['tables_different']} with differences, {figures['tables_failed']} failed",
            f"rows: source {figures['rows_source']}, target {figures['rows_target']}; "
            f"chunks checked {figures['chunks_checked']}, differed {figures['chunks_differed']}",
            f"missing in target {figures['missing_in_target']}, missing in source "
            f"{figures['missing_in_source']}, different rows {figures['different_rows']}; "
            f"rows fetched for detail {figures['rows_fetched_for_detail']}",
            f"elapsed {figures['seconds']:.1f} s"
            + (f", {figures['rows_per_second']} rows/s" if figures["rows_per_second"] else "")
            + f"; reports in {report_dir}",
        ]
    )


def status_screen(session: Session) -> str:
    """`--status ID`: the totals, then one line per table (its error under a failed one)."""
    tables = list(session.tables.values())
    counts = {s: sum(1 for t in tables if t.status == s) for s in MARKS}
    pending = len(tables) - sum(counts.values())
    lines = [
        f"Session      {session.session_id} ({session.status})",
        f"Config       {session.config_file}",
        f"Source       {session.source}",
        f"Target       {session.target}",
        f"Started      {session.started_at}",
        f"Last update  {session.updated_at}",
        f"Tables       {len(tables)}: {counts[COMPLETED]} completed, {counts[FAILED]} failed, "
        f"{counts[IN_PROGRESS]} in progress, {pending} pending",
        "",
    ]
    width = max((len(f"{t.schema}.{t.table}") for t in tables), default=10)
    for t in sorted(tables, key=lambda t: (t.schema, t.table)):
        name = f"{t.schema}.{t.table}"
        mark = MARKS.get(t.status, "pending")
        found = f", {t.differences} difference(s)" if t.differences else ""
        lines.append(
            f"  [{mark:^7}] {name:<{width}}  {t.status:<11} "
            f"{t.chunks_done}/{t.chunks_total} chunks{found}"
        )
        if t.status == FAILED and t.error:
            lines.append(f"            {t.error}")
    return "\n".join(lines)


def sessions_list(sessions: Sequence[Session]) -> str:
    """`--list-sessions`: id, start, status, tables done/total, config file."""
    if not sessions:
        return "no comparison sessions"
    lines = [f"{'SESSION':<36}  {'STARTED':<25}  {'STATUS':<11}  {'TABLES':>7}  CONFIG"]
    for s in sessions:
        done = sum(1 for t in s.tables.values() if t.status in (COMPLETED, FAILED))
        lines.append(
            f"{s.session_id:<36}  {s.started_at:<25}  {s.status:<11}  "
            f"{f'{done}/{len(s.tables)}':>7}  {s.config_file}"
        )
    return "\n".join(lines)


def json_text(data: Any) -> str:
    """Data as the reports write it."""
    return json.dumps(data, indent=2)
