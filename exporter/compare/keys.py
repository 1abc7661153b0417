"""Key values as the comparator matches and shows them (storing and ordering them is
exporter/keys.py's, shared with the exporter).

Rows are matched between the two databases by the comparison form of their key
(`match_key`), so that 5 from one engine and 5.0 from another, or one instant in two time
zones, are the same key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exporter.canonical.digest import compare_cell
from exporter.model import ColumnKind


def match_key(kinds: Sequence[ColumnKind], values: Sequence[Any]) -> tuple[str | None, ...]:
    """What matches a row of one database to a row of the other: its key in the comparison
    form, column by column."""
    return tuple(compare_cell(kind, value) for kind, value in zip(kinds, values, strict=True))


def shown_key(kinds: Sequence[ColumnKind], values: Sequence[Any]) -> list[Any]:
    """A key as reports show it: integers and text as themselves, other values in the
    comparison form."""
    shown: list[Any] = []
    for kind, value in zip(kinds, values, strict=True):
        if value is None or isinstance(value, (str, bool)) or type(value) is int:
            shown.append(value)
        else:
            shown.append(compare_cell(kind, value))
    return shown
