"""Which tables a run takes: include/exclude globs on SCHEMA.TABLE, narrowed by --table (the
same rules for the export and the comparator, each with its own config block)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from exporter.errors import (
    ERR_NO_TABLE_MATCHES,
    ERR_PATTERN_MATCHES_NOTHING,
    ERR_SCHEMA_NOT_FOUND,
    ERR_TABLE_NOT_SELECTED,
    error,
)
from exporter.model import TableRef


class Catalog(Protocol):
    """What lists the tables a user can see (a Source)."""

    def list_tables(self, conn: Any, schemas: Sequence[str]) -> list[TableRef]: ...


class Selection(Protocol):
    """A config block that selects tables (export: and compare:)."""

    @property
    def schemas(self) -> list[str]: ...
    @property
    def include(self) -> list[str]: ...
    @property
    def exclude(self) -> list[str]: ...


LISTED = 20
"""Names listed in a message before the rest are only counted."""


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


def listing(names: Sequence[str], limit: int = LISTED) -> str:
    """`a, b, c`, the first `limit` names and `and N more` (`none` when empty)."""
    if not names:
        return "none"
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown


def _candidates(pattern: str, found: Sequence[TableRef]) -> str:
    """What a pattern that matched nothing could have meant: the tables of the schemas its
    SCHEMA part matches, else every table (a pattern without a dot), else the schemas."""
    schemas = sorted({t.schema for t in found})
    if "." in pattern:
        part = pattern.split(".", 1)[0].lower()
        near = [s for s in schemas if fnmatch.fnmatchcase(s.lower(), part)]
        if not near:
            return f"schemas: {listing(schemas)}"
        found = [t for t in found if t.schema in near]
    return f"tables: {listing([t.qualified for t in found])}"


def select_from_catalog(
    found: Sequence[TableRef],
    schemas: Sequence[str],
    include: Sequence[str],
    exclude: Sequence[str],
    only: Sequence[str] = (),
    *,
    visible: Callable[[], Sequence[TableRef]],
    block: str = "export",
) -> list[TableRef]:
    """`select_tables` over the tables `found` in `{block}.schemas` (every schema when empty),
    after checking the config against them: a schema named there without a table found, and
    an include pattern that matches no table, are errors that name it and list what is there
    (`visible()`: every table the user can see, read only for such a message)."""
    for schema in schemas:
        if not any(t.schema == schema for t in found):
            present = sorted({t.schema for t in visible()})
            raise error(
                ERR_SCHEMA_NOT_FOUND,
                key=f"{block}.schemas",
                schema=schema,
                present=listing(present),
            )
    if not found:
        raise error(
            ERR_NO_TABLE_MATCHES,
            key=f"{block}.schemas",
            block=block,
            why="the source has no table this user can see",
            hint="check source: and the user's SELECT privileges",
        )
    for pattern in include:
        if not any(matches(t, [pattern]) for t in found):
            raise error(
                ERR_PATTERN_MATCHES_NOTHING,
                key=f"{block}.include",
                pattern=pattern,
                present=_candidates(pattern, found),
            )
    chosen = select_tables(found, include, exclude, only, block=block)
    if not chosen:
        kept = sum(1 for t in found if matches(t, include))
        raise error(
            ERR_NO_TABLE_MATCHES,
            key=f"{block}.exclude",
            block=block,
            why=f"it leaves out all {kept} tables that {block}.include selects",
        )
    return chosen


def select_on_source(
    catalog: Catalog,
    conn: Any,
    settings: Selection,
    only: Sequence[str] = (),
    *,
    block: str = "export",
) -> list[TableRef]:
    """`select_from_catalog` over the tables `catalog` lists through `conn` in the schemas of
    `settings` (the `{block}:` block); every visible table is listed only for a message."""
    return select_from_catalog(
        catalog.list_tables(conn, settings.schemas),
        settings.schemas,
        settings.include,
        settings.exclude,
        only,
        visible=lambda: catalog.list_tables(conn, ()),
        block=block,
    )
