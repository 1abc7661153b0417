"""Which tables a run takes: include/exclude globs on SCHEMA.TABLE, narrowed by --table (the
same rules for the export and the comparator, each with its own config block)."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from exporter.errors import ERR_TABLE_NOT_SELECTED, error
from exporter.model import TableRef


def matches(table: TableRef, patterns: Sequence[str]) -> bool:
    """Whether SCHEMA.TABLE matches one of the glob `patterns` (case-insensitive)."""
    name = table.qualified.lower()
    return any(fnmatch.fnmatchcase(name, p.lower()) for p in patterns)


def select_tables(
    found: Sequence[TableRef],
    include: Sequence[str],
    exclude: Sequence[str],
    only: Sequence[str] = (),
    *,
    block: str = "export",
) -> list[TableRef]:
    """Tables passing include/exclude (case-insensitive globs on SCHEMA.TABLE), narrowed to
    `only` (exact SCHEMA.TABLE names from --table) when given; an unknown name is an error
    whose hint names the config `block`."""
    chosen = [t for t in found if matches(t, include) and not matches(t, exclude)]
    if not only:
        return chosen
    by_name = {t.qualified.lower(): t for t in chosen}
    picked = []
    for name in only:
        if name.lower() not in by_name:
            raise error(ERR_TABLE_NOT_SELECTED, key="--table", name=name, block=block)
        picked.append(by_name[name.lower()])
    return picked
