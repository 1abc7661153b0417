"""What one table's comparison is: the table on each side, the columns compared (matched by
name, of compatible kinds), the key, and the key ranges (chunks) both sides are cut into.

The plan is frozen into the session before any chunk runs, so that a resumed session compares
exactly the same ranges. Plain data: it pickles to worker processes and goes to JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exporter.keys import KeyValues, decode_key, encode_key
from exporter.model import Column, ColumnKind, TableRef

_EXACT_NUMBERS = {ColumnKind.INTEGER, ColumnKind.DECIMAL}


def compatible(left: ColumnKind, right: ColumnKind) -> bool:
    """Whether values of these kinds can be compared by their comparison form: the same kind,
    or two exact numbers (an integer and a decimal print alike when equal)."""
    return left == right or {left, right} <= _EXACT_NUMBERS


@dataclass(frozen=True)
class TablePair:
    """A table and its counterpart: the columns compared, in the source's order, each with the
    target column of the same name; `key` holds their positions among them."""

    source: TableRef
    target: TableRef
    source_columns: tuple[Column, ...]
    target_columns: tuple[Column, ...]
    key: tuple[int, ...]

    @property
    def name(self) -> str:
        """The source's SCHEMA.TABLE: how sessions and reports name the pair."""
        return self.source.qualified

    @property
    def source_key(self) -> tuple[Column, ...]:
        """The key's columns on the source."""
        return tuple(self.source_columns[i] for i in self.key)

    @property
    def target_key(self) -> tuple[Column, ...]:
        """The key's columns on the target."""
        return tuple(self.target_columns[i] for i in self.key)

    @property
    def key_kinds(self) -> tuple[ColumnKind, ...]:
        """The kinds the key's values are matched by (the source's)."""
        return tuple(column.kind for column in self.source_key)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": [self.source.schema, self.source.name],
            "target": [self.target.schema, self.target.name],
            "source_columns": [c.to_json() for c in self.source_columns],
            "target_columns": [c.to_json() for c in self.target_columns],
            "key": list(self.key),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TablePair:
        return cls(
            source=TableRef(*data["source"]),
            target=TableRef(*data["target"]),
            source_columns=tuple(Column.from_json(c) for c in data["source_columns"]),
            target_columns=tuple(Column.from_json(c) for c in data["target_columns"]),
            key=tuple(data["key"]),
        )


@dataclass(frozen=True)
class KeyRange:
    """Chunk `index`: the keys k with lower <= k < upper (an open end is None)."""

    index: int
    lower: KeyValues | None
    upper: KeyValues | None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "lower": None if self.lower is None else encode_key(self.lower),
            "upper": None if self.upper is None else encode_key(self.upper),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyRange:
        lower, upper = data["lower"], data["upper"]
        return cls(
            data["index"],
            None if lower is None else decode_key(lower),
            None if upper is None else decode_key(upper),
        )


def ranges_from(boundaries: list[KeyValues]) -> tuple[KeyRange, ...]:
    """Half-open ranges cut at sorted, distinct `boundaries`: the first open below, the last
    open above, so that every key, whatever its value, falls in exactly one."""
    edges: list[KeyValues | None] = [None, *boundaries, None]
    return tuple(
        KeyRange(i, low, high) for i, (low, high) in enumerate(zip(edges, edges[1:], strict=False))
    )


@dataclass(frozen=True)
class PairPlan:
    """A table pair and its chunks, as frozen in the session."""

    pair: TablePair
    ranges: tuple[KeyRange, ...]
    estimated_rows: int
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "pair": self.pair.to_json(),
            "estimated_rows": self.estimated_rows,
            "created_at": self.created_at,
            "ranges": [r.to_json() for r in self.ranges],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PairPlan:
        return cls(
            pair=TablePair.from_json(data["pair"]),
            ranges=tuple(KeyRange.from_json(r) for r in data["ranges"]),
            estimated_rows=int(data["estimated_rows"]),
            created_at=data["created_at"],
        )
