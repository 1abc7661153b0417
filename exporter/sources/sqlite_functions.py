"""SQL functions the SQLite source registers on its connections: SQLite has no MD5 and no fixed
text forms of its dynamically typed values, so the comparison form (canonical/digest.py) is
computed by Python inside the query. https://docs.python.org/3/library/sqlite3.html
(create_function, create_aggregate).

- `exporter_cell(kind, value)`: one cell in the comparison form (NULL stays NULL);
- `exporter_digest(kinds, value, ...)`: a row's 60-bit digest, `kinds` the comma-separated
  ColumnKind names of the values;
- `exporter_sum(digest)`: their exact sum, as text (SQLite's SUM stops at 2**63).

A value that has no comparison form in its column's kind (text in an INTEGER column, which
SQLite allows) gets a tagged text of its own instead of an error, so that the row is reported
as different rather than the whole table failing with an unexplained "user-defined function
raised exception".
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

from exporter.canonical.digest import NULL_CELL, compare_cell, digest60
from exporter.model import ColumnKind


@functools.lru_cache(maxsize=256)
def _kinds(text: str) -> tuple[ColumnKind, ...]:
    return tuple(ColumnKind(name) for name in text.split(","))


def _cell(kind: ColumnKind, value: Any) -> str | None:
    try:
        return compare_cell(kind, value)
    except (TypeError, ValueError, OverflowError, AttributeError):
        return f"!{type(value).__name__}:{value!r}"


def exporter_cell(kind: str, value: Any) -> str | None:
    """One cell in the comparison form."""
    return _cell(ColumnKind(kind), value)


def exporter_digest(kinds: str, *values: Any) -> int:
    """A row's 60-bit digest (fits SQLite's 64-bit integers)."""
    cells = (_cell(kind, value) for kind, value in zip(_kinds(kinds), values, strict=True))
    return digest60(",".join(NULL_CELL if cell is None else cell for cell in cells))


class _ExactSum:
    """The `exporter_sum` aggregate: Python's integers do not overflow."""

    def __init__(self) -> None:
        self.total: int | None = None

    def step(self, value: int | None, /) -> None:
        if value is not None:
            self.total = (self.total or 0) + int(value)

    def finalize(self) -> str | None:
        return None if self.total is None else str(self.total)


def register(conn: sqlite3.Connection) -> None:
    """Make the comparator's functions available on `conn`."""
    conn.create_function("exporter_cell", 2, exporter_cell, deterministic=True)
    conn.create_function("exporter_digest", -1, exporter_digest, deterministic=True)
    # typeshed says finalize() returns int; any SQLite value (text here) is allowed.
    conn.create_aggregate("exporter_sum", 1, _ExactSum)  # type: ignore[arg-type]
