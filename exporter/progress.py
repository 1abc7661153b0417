"""Progress bars (tqdm): overall chunks, overall rows with rows/s, and one bar per active table.

Bars are drawn only when stderr is a terminal; in logs and CI the run stays quiet apart from
the log lines.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


class Progress:
    """The bars of one export run."""

    def __init__(
        self, total_chunks: int, total_rows: int | None, *, enabled: bool | None = None
    ) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        disable = not self.enabled
        self.chunks = tqdm(
            total=total_chunks,
            desc="chunks",
            unit="chunk",
            position=0,
            disable=disable,
            dynamic_ncols=True,
        )
        self.rows = tqdm(
            total=total_rows,
            desc="rows",
            unit="row",
            unit_scale=True,
            position=1,
            disable=disable,
            dynamic_ncols=True,
        )
        self._tables: dict[str, Any] = {}

    def table_started(self, table: str, chunks: int) -> None:
        """Open a bar for a table about to run `chunks` chunks."""
        if table not in self._tables:
            self._tables[table] = tqdm(
                total=chunks,
                desc=table[:40],
                unit="chunk",
                leave=False,
                position=2 + len(self._tables),
                disable=not self.enabled,
                dynamic_ncols=True,
            )

    def add_rows(self, table: str, rows: int) -> None:
        """Rows written since the last report."""
        self.rows.update(rows)

    def chunk_done(self, table: str) -> None:
        """One more chunk of `table` finished (written, skipped or failed)."""
        self.chunks.update(1)
        bar = self._tables.get(table)
        if bar is not None:
            bar.update(1)
            if bar.n >= (bar.total or 0):
                bar.close()

    def close(self) -> None:
        """Close every bar."""
        for bar in self._tables.values():
            bar.close()
        self.rows.close()
        self.chunks.close()
