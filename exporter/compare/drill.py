"""One chunk compared: figures first, rows only where the figures differ.

Both databases compute, for a key range cut into buckets, each bucket's row count and exact
sum of row digests (canonical/digest.py). Equal figures: no row left either database. A bucket
whose figures differ is cut again at quantiles of its keys, until it holds few enough rows to
stream its (key, digest) pairs from both sides and match them; only the rows whose digests
differ are fetched in full, to name the columns that differ. Each query runs on both databases
at once (`both`), on the two connections the chunk task holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from exporter.compare.keys import match_key, shown_key
from exporter.compare.plan import TablePair
from exporter.errors import ERR_KEY_NOT_UNIQUE, ExporterError, error
from exporter.keys import KeyValues
from exporter.model import Column, TableRef
from exporter.sources.base import DbConn, Source

BUCKETS = 128  # pieces a range is cut into: fewer rows to stream where one differs
STREAM_ROWS = 4096  # a range with at most this many rows on each side is matched row by row
DETAIL_BATCH = 500  # keys per query that fetches differing rows in full

T = TypeVar("T")
U = TypeVar("U")
Figures = dict[int, tuple[int, int]]  # bucket -> (rows, sum of digests)

_helper: ThreadPoolExecutor | None = None


def both(first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
    """Run `first` on a helper thread and `second` here, at once (each on its own database),
    and return both results; neither is left running when either fails."""
    global _helper
    if _helper is None:
        _helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="compare-side")
    future = _helper.submit(first)
    try:
        result = second()
    finally:
        error_first = future.exception()  # waits: the connection is free again
    if error_first is not None:
        raise error_first
    return future.result(), result


@dataclass
class Side:
    """One database's view of a table pair: its source, connection, table, columns, key."""

    label: str  # "source" or "target"
    source: Source
    conn: DbConn
    table: TableRef
    columns: tuple[Column, ...]
    key: tuple[Column, ...]

    def _rows(self, query: Any) -> list[tuple[Any, ...]]:
        try:
            return self.conn.fetch_all(query)
        except ExporterError:
            raise
        except Exception as exc:
            raise self.source.explain_error(exc).within(self.label) from exc

    def figures(
        self, lower: KeyValues | None, upper: KeyValues | None, cuts: Sequence[KeyValues]
    ) -> Figures:
        query = self.source.dialect.chunk_figures(
            self.table, self.columns, self.key, lower, upper, cuts
        )
        return {int(b): (int(n), int(s or 0)) for b, n, s in self._rows(query)}

    def quantiles(self, lower: KeyValues | None, upper: KeyValues | None, step: int) -> list[Any]:
        query = self.source.dialect.key_quantiles(self.table, self.key, lower, upper, step)
        return [tuple(row) for row in self._rows(query)]

    def digests(self, lower: KeyValues | None, upper: KeyValues | None) -> list[tuple[Any, ...]]:
        query = self.source.dialect.key_digests(self.table, self.columns, self.key, lower, upper)
        return self._rows(query)

    def cells(self, keys: Sequence[KeyValues]) -> list[tuple[Any, ...]]:
        query = self.source.dialect.cells_for_keys(self.table, self.columns, self.key, keys)
        return self._rows(query)


@dataclass
class Findings:
    """What one chunk's comparison found."""

    rows_source: int = 0
    rows_target: int = 0
    missing_in_target: list[list[Any]] = field(default_factory=list)
    missing_in_source: list[list[Any]] = field(default_factory=list)
    different: list[dict[str, Any]] = field(default_factory=list)
    ranges_checked: int = 0
    keys_streamed: int = 0
    rows_fetched: int = 0


class ChunkDrill:
    """Compares one key range of a table pair on two sides (see the module docstring)."""

    def __init__(self, pair: TablePair, source: Side, target: Side) -> None:
        self.pair = pair
        self.source = source
        self.target = target
        self.kinds = pair.key_kinds
        self.found = Findings()

    def run(self, lower: KeyValues | None, upper: KeyValues | None, expected: int) -> Findings:
        """Compare the chunk [lower, upper), about `expected` rows on the source."""
        if expected > STREAM_ROWS:  # cut at once: a differing chunk then needs no second pass
            cuts = self._cuts(self.source, lower, upper, expected)
        else:
            cuts = []
        counts = self._level(lower, upper, cuts)
        self.found.rows_source, self.found.rows_target = counts
        return self.found

    def _cuts(
        self, side: Side, lower: KeyValues | None, upper: KeyValues | None, rows: int
    ) -> list[KeyValues]:
        step = max(2, math.ceil(rows / BUCKETS))
        keys = sorted(set(side.quantiles(lower, upper, step)))
        return [k for k in keys if (lower is None or k > lower) and (upper is None or k < upper)]

    def _level(
        self, lower: KeyValues | None, upper: KeyValues | None, cuts: list[KeyValues]
    ) -> tuple[int, int]:
        """Figures of [lower, upper) cut at `cuts` on both sides; every differing bucket is
        drilled into. Returns the range's rows on each side."""
        src, tgt = both(
            lambda: self.source.figures(lower, upper, cuts),
            lambda: self.target.figures(lower, upper, cuts),
        )
        self.found.ranges_checked += len(cuts) + 1
        edges: list[KeyValues | None] = [lower, *cuts, upper]
        for bucket in range(len(cuts) + 1):
            mine, theirs = src.get(bucket, (0, 0)), tgt.get(bucket, (0, 0))
            if mine != theirs:
                self._drill(edges[bucket], edges[bucket + 1], mine[0], theirs[0])
        return sum(n for n, _ in src.values()), sum(n for n, _ in tgt.values())

    def _drill(
        self, lower: KeyValues | None, upper: KeyValues | None, rows_src: int, rows_tgt: int
    ) -> None:
        rows = max(rows_src, rows_tgt)
        if rows <= STREAM_ROWS:
            self._match(lower, upper)
            return
        bigger = self.source if rows_src >= rows_tgt else self.target
        cuts = self._cuts(bigger, lower, upper, rows)
        if not cuts:  # one key holds the whole range (a key that is not unique)
            self._match(lower, upper)
            return
        self._level(lower, upper, cuts)

    def _keyed(self, side: Side, rows: list[tuple[Any, ...]]) -> dict[Any, tuple[Any, int]]:
        width = len(self.kinds)
        keyed: dict[Any, tuple[Any, int]] = {}
        for row in rows:
            raw = tuple(row[:width])
            match = match_key(self.kinds, raw)
            if match in keyed:
                shown = shown_key(self.kinds, raw)
                raise error(ERR_KEY_NOT_UNIQUE, table=self.pair.name, value=shown, side=side.label)
            keyed[match] = (raw, int(row[width]))
        return keyed

    def _match(self, lower: KeyValues | None, upper: KeyValues | None) -> None:
        """Stream (key, digest) of the range from both sides and match them by key."""
        src_rows, tgt_rows = both(
            lambda: self.source.digests(lower, upper), lambda: self.target.digests(lower, upper)
        )
        self.found.keys_streamed += len(src_rows) + len(tgt_rows)
        src, tgt = self._keyed(self.source, src_rows), self._keyed(self.target, tgt_rows)
        for match in _ordered(src.keys() - tgt.keys(), src):
            self.found.missing_in_target.append(shown_key(self.kinds, src[match][0]))
        for match in _ordered(tgt.keys() - src.keys(), tgt):
            self.found.missing_in_source.append(shown_key(self.kinds, tgt[match][0]))
        changed = _ordered({m for m in src.keys() & tgt.keys() if src[m][1] != tgt[m][1]}, src)
        for start in range(0, len(changed), DETAIL_BATCH):
            batch = changed[start : start + DETAIL_BATCH]
            self._detail(batch, [src[m][0] for m in batch], [tgt[m][0] for m in batch])

    def _detail(
        self, matches: list[Any], src_keys: list[KeyValues], tgt_keys: list[KeyValues]
    ) -> None:
        """Fetch the rows of these keys in full on both sides and name the differing cells."""
        src_rows, tgt_rows = both(
            lambda: self.source.cells(src_keys), lambda: self.target.cells(tgt_keys)
        )
        self.found.rows_fetched += len(src_rows) + len(tgt_rows)
        width = len(self.kinds)
        src_cells = {match_key(self.kinds, row[:width]): row[width:] for row in src_rows}
        tgt_cells = {match_key(self.kinds, row[:width]): row[width:] for row in tgt_rows}
        names = [column.name for column in self.pair.source_columns]
        for match, raw in zip(matches, src_keys, strict=True):
            mine, theirs = src_cells.get(match, ()), tgt_cells.get(match, ())
            columns = {
                name: [a, b] for name, a, b in zip(names, mine, theirs, strict=False) if a != b
            }
            self.found.different.append({"key": shown_key(self.kinds, raw), "columns": columns})


def _ordered(matches: set[Any], keyed: dict[Any, tuple[Any, int]]) -> list[Any]:
    """`matches` in key order (by their raw values), or by their text where the raw values
    have no common order."""
    try:
        return sorted(matches, key=lambda m: keyed[m][0])
    except TypeError:
        return sorted(matches, key=lambda m: tuple("" if v is None else v for v in m))
