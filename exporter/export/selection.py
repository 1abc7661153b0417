"""Which tables a run exports: include/exclude globs on SCHEMA.TABLE, narrowed by --table."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from exporter.config.models import ExportSettings
from exporter.errors import ERR_TABLE_NOT_SELECTED, error
from exporter.model import TableRef


def _matches(table: TableRef, patterns: Sequence[str]) -> bool:
    name = table.qualified.lower()
    return any(fnmatch.fnmatchcase(name, p.lower()) for p in patterns)


def select_tables(
    found: Sequence[TableRef], settings: ExportSettings, only: Sequence[str] = ()
) -> list[TableRef]:
    """Tables passing include/exclude (case-insensitive globs on SCHEMA.TABLE), narrowed to
    `only` (exact SCHEMA.TABLE names from --table) when given; an unknown name is an error."""
    chosen = [
        t for t in found if _matches(t, settings.include) and not _matches(t, settings.exclude)
    ]
    if not only:
        return chosen
    by_name = {t.qualified.lower(): t for t in chosen}
    picked = []
    for name in only:
        if name.lower() not in by_name:
            raise error(ERR_TABLE_NOT_SELECTED, key="--table", name=name)
        picked.append(by_name[name.lower()])
    return picked
