"""One chunk of a comparison, as a task for any executor: plain data in (`CompareTask`), plain
data out (`CompareOutcome`), its own connections to both databases (runtime/connections.py),
each side read inside its snapshot."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from exporter.compare.drill import ChunkDrill, Side
from exporter.compare.plan import KeyRange, TablePair
from exporter.config.plain import PlainSettings
from exporter.errors import ERR_UNEXPECTED, ExporterError, error
from exporter.runtime.connections import cached_connection, close_connections
from exporter.runtime.progress import report_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompareTask:
    """Everything one chunk needs; plain data, so it pickles to a worker process."""

    source: PlainSettings
    target: PlainSettings
    pair: TablePair
    chunk: KeyRange
    expected_rows: int
    snapshots: tuple[str | None, str | None] = (None, None)


@dataclass
class CompareOutcome:
    """A chunk's result: both sides' rows and what differs, or the error that stopped it."""

    table: str
    index: int
    rows_source: int = 0
    rows_target: int = 0
    missing_in_target: list[list[Any]] = field(default_factory=list)
    missing_in_source: list[list[Any]] = field(default_factory=list)
    different: list[dict[str, Any]] = field(default_factory=list)
    ranges_checked: int = 0
    keys_streamed: int = 0
    rows_fetched: int = 0
    seconds: float = 0.0
    error: str | None = None

    @property
    def equal(self) -> bool:
        """No difference found (and no error)."""
        return self.error is None and not (
            self.missing_in_target or self.missing_in_source or self.different
        )

    @property
    def differences(self) -> int:
        """Rows missing on either side or different."""
        return len(self.missing_in_target) + len(self.missing_in_source) + len(self.different)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompareOutcome:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def compare_chunk(task: CompareTask) -> CompareOutcome:
    """Compare one chunk on both databases; never raises for the chunk's own failure."""
    pair, chunk = task.pair, task.chunk
    started = time.monotonic()
    outcome = CompareOutcome(pair.name, chunk.index)
    try:
        source, src_conn = cached_connection(task.source, role="source")
        target, tgt_conn = cached_connection(task.target, role="target")
        src = Side("source", source, src_conn, pair.source, pair.source_columns, pair.source_key)
        tgt = Side("target", target, tgt_conn, pair.target, pair.target_columns, pair.target_key)
        snap_src, snap_tgt = task.snapshots
        with contextlib.ExitStack() as stack:
            for side, snapshot in ((src, snap_src), (tgt, snap_tgt)):
                stack.enter_context(side.source.compare_transaction(side.conn, snapshot))
            found = ChunkDrill(pair, src, tgt).run(chunk.lower, chunk.upper, task.expected_rows)
        outcome = CompareOutcome(pair.name, chunk.index, **asdict(found))
        report_rows(pair.name, found.rows_source)
    except ExporterError as exc:
        close_connections()  # a failed query may have left either connection unusable
        outcome.error = exc.one_line()
    except Exception as exc:  # a bug: said in one line; the chunk can be retried
        close_connections()
        log.debug("chunk %s/%d failed", pair.name, chunk.index, exc_info=True)
        outcome.error = error(ERR_UNEXPECTED, kind=type(exc).__name__, detail=exc).one_line()
    outcome.seconds = round(time.monotonic() - started, 3)
    return outcome
