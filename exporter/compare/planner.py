"""Planning a comparison: which tables, their counterparts on the target, the columns and key
compared, and the key ranges both sides are cut into (from a sample of the source's keys:
nothing sorts or scans a whole table to plan it).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import math
from collections.abc import Sequence

from exporter.compare.plan import PairPlan, TablePair, compatible, ranges_from
from exporter.config.compare import CompareSettings
from exporter.errors import ERR_COMPARE_TABLE, ERR_NO_TABLE_MATCHES, error
from exporter.keys import KeyValues
from exporter.model import Column, TableRef
from exporter.selection import listing, select_on_source, select_tables
from exporter.sources.base import DbConn, Source

log = logging.getLogger(__name__)


def _refuse(table: TableRef, problem: str, hint: str) -> Exception:
    return error(ERR_COMPARE_TABLE, table=table, problem=problem, hint=hint)


def select_source_tables(
    source: Source, conn: DbConn, settings: CompareSettings, only: Sequence[str]
) -> list[TableRef]:
    """The source tables to compare: `compare.tables`, or the catalog's tables of
    `compare.schemas` that pass include/exclude; narrowed by --table."""
    if settings.tables:
        schemas = sorted({name.split(".", 1)[0] for name in settings.tables})
        found = source.list_tables(conn, schemas)
        wanted = {name.lower() for name in settings.tables}
        chosen = [t for t in found if t.qualified.lower() in wanted]
        missing = sorted(wanted - {t.qualified.lower() for t in chosen})
        if missing:
            raise error(
                ERR_NO_TABLE_MATCHES,
                key="compare.tables",
                block="compare",
                why=f"{listing(missing)} not found on the source (tables in those schemas: "
                f"{listing([t.qualified for t in found])})",
                hint="write each as SCHEMA.TABLE, as the catalog names it",
            )
        return select_tables(chosen, ["*"], [], only, block="compare")
    return select_on_source(source, conn, settings, only, block="compare")


def _by_name(names: Sequence[str], wanted: str) -> str | None:
    """`wanted` among `names`: exactly, else the one name equal ignoring case."""
    if wanted in names:
        return wanted
    folded = [name for name in names if name.lower() == wanted.lower()]
    return folded[0] if len(folded) == 1 else None


def find_target(
    target: Source, conn: DbConn, settings: CompareSettings, table: TableRef
) -> TableRef:
    """The target's counterpart of a source table (schema through `compare.schema_map`)."""
    schema = settings.schema_map.get(table.schema, table.schema)
    candidates = sorted({schema, schema.lower(), schema.upper()})
    found = target.list_tables(conn, candidates)
    schemas = sorted({t.schema for t in found})
    chosen_schema = _by_name(schemas, schema)
    names = [t.name for t in found if t.schema == chosen_schema]
    name = _by_name(names, table.name) if chosen_schema is not None else None
    if chosen_schema is None or name is None:
        raise _refuse(
            table,
            f"no table {schema}.{table.name} on the target",
            "map the schema with compare.schema_map, or leave the table out",
        )
    return TableRef(chosen_schema, name)


def _excluded(settings: CompareSettings, table: TableRef) -> set[str]:
    names: set[str] = set()
    for pattern, columns in settings.exclude_columns.items():
        if fnmatch.fnmatchcase(table.qualified.lower(), pattern.lower()):
            names |= {column.lower() for column in columns}
    return names


def match_columns(
    table: TableRef,
    source_columns: Sequence[Column],
    target_columns: Sequence[Column],
    excluded: set[str],
) -> tuple[tuple[Column, ...], tuple[Column, ...]]:
    """The compared columns of each side, in the source's order, paired by name."""
    kept = [c for c in source_columns if c.name.lower() not in excluded]
    by_target = {c.name: c for c in target_columns if c.name.lower() not in excluded}
    pairs: list[tuple[Column, Column]] = []
    missing = []
    for column in kept:
        name = _by_name(list(by_target), column.name)
        if name is None:
            missing.append(column.name)
            continue
        pairs.append((column, by_target.pop(name)))
    hint = "leave such columns out with compare.exclude_columns"
    if missing or by_target:
        only = [f"{n} (source only)" for n in missing] + [f"{n} (target only)" for n in by_target]
        raise _refuse(table, f"the columns differ: {', '.join(only)}", hint)
    for left, right in pairs:
        if not compatible(left.kind, right.kind):
            problem = (
                f"column {left.name} is {left.native_type} on the source and "
                f"{right.native_type} on the target, which compare differently"
            )
            raise _refuse(table, problem, hint)
    return tuple(s for s, _ in pairs), tuple(t for _, t in pairs)


def _key(
    settings: CompareSettings, source: Source, conn: DbConn, table: TableRef, names: list[str]
) -> tuple[list[str], bool]:
    """The key's column names, and whether they were given in the config (not a primary key)."""
    for name, columns in settings.key_columns.items():
        if name.lower() == table.qualified.lower():
            return list(columns), True
    primary = source.primary_key(conn, table)
    if not primary:
        raise _refuse(
            table,
            "it has no primary key",
            f'name the columns that identify a row: compare.key_columns: {{"{table}": [...]}}',
        )
    return primary, False


def _boundaries(
    source: Source, conn: DbConn, pair: TablePair, rows: int, parts: int
) -> list[KeyValues]:
    """`parts - 1` cut points at quantiles of a sample of the source's keys."""
    try:
        return source.sample_boundaries(conn, pair.source, pair.source_key, rows, parts)
    except TypeError:
        raise _refuse(
            pair.source,
            "its key holds values of different types, which have no common order",
            "name another key in compare.key_columns",
        ) from None


def plan_pair(
    settings: CompareSettings,
    source: Source,
    src_conn: DbConn,
    target: Source,
    tgt_conn: DbConn,
    table: TableRef,
) -> PairPlan:
    """The frozen plan of one table's comparison (an error names what keeps it from one)."""
    target_table = find_target(target, tgt_conn, settings, table)
    src_all = source.describe(src_conn, table)
    tgt_all = target.describe(tgt_conn, target_table)
    src_cols, tgt_cols = match_columns(table, src_all, tgt_all, _excluded(settings, table))
    for side, columns in ((source, src_cols), (target, tgt_cols)):
        for column in columns:
            refusal = side.dialect.compare_refusal(column)
            if refusal:
                problem = f"column {column.name}: {refusal}"
                raise _refuse(table, problem, "leave it out with compare.exclude_columns")
    names = [c.name for c in src_cols]
    key_names, given = _key(settings, source, src_conn, table, names)
    positions = []
    for name in key_names:
        found = _by_name(names, name)
        if found is None:
            raise _refuse(table, f"key column {name} is not compared", "check compare.key_columns")
        positions.append(names.index(found))
    pair = TablePair(table, target_table, src_cols, tgt_cols, tuple(positions))
    if given:  # a declared key cannot hold NULL; a configured one is checked on both sides
        for side, conn, ref, key in (
            (source, src_conn, table, pair.source_key),
            (target, tgt_conn, target_table, pair.target_key),
        ):
            ((nulls,),) = conn.fetch_all(side.dialect.null_keys(ref, key))
            if nulls:
                raise _refuse(table, f"{nulls} rows of {ref} have a NULL key", "pick another key")
    rows = source.estimate_rows(src_conn, table)
    parts = max(1, math.ceil(rows / settings.chunk_rows))
    boundaries = _boundaries(source, src_conn, pair, rows, parts) if parts > 1 else []
    ranges = ranges_from(boundaries)
    log.info(
        "plan %s -> %s: about %d rows, key (%s), %d chunk(s)",
        table,
        target_table,
        rows,
        ", ".join(c.name for c in pair.source_key),
        len(ranges),
    )
    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return PairPlan(pair, ranges, rows, created)
