"""Oracle's batch path statements (ChunkSelect.batch_sql, read by oracle_arrow.py) parse with
sqlglot's Oracle dialect, bind the same values as the rows path's statement of the same chunk,
and read the same rows: the same tables, AS OF and WHERE, one select item per column (then
the LOB flags), differing only where a NUMBER or a ROWID is read as text. The statements of
the live module test_live_batch.py parse too (tests/sql/test_live_sql.py lists the others).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
import sqlglot
from sqlglot import exp

from exporter.model import Chunk, Column, ColumnKind, TablePlan
from exporter.sources.dialect import Query
from exporter.sources.oracle_types import BUILT_IN_TYPES, ChunkSelect, base_type
from tests.oracle import test_live_batch
from tests.sql.test_dialect_sql import (
    CHUNKS,
    KEY2_CHUNKS,
    ORACLE,
    ORACLE_PLAN,
    SPLIT,
    SPLIT2,
    parseable,
    partition_chunks,
    placeholders,
    plan,
)
from tests.sql.test_live_sql import NAMES

# Every type the exporter reads, under names that need quoting.
TYPES = [
    ("NUMBER", 10, 0),
    ("NUMBER", 38, 10),
    ("NUMBER", None, None),
    ("NUMBER", None, 0),
    ("NUMBER", 5, -2),
    ("FLOAT", None, None),
    ("BINARY_FLOAT", None, None),
    ("BINARY_DOUBLE", None, None),
    ("DATE", None, None),
    ("TIMESTAMP(9)", None, None),
    ("TIMESTAMP(6) WITH TIME ZONE", None, None),
    ("TIMESTAMP(6) WITH LOCAL TIME ZONE", None, None),
    ("VARCHAR2", None, None),
    ("CHAR", None, None),
    ("NVARCHAR2", None, None),
    ("NCHAR", None, None),
    ("LONG", None, None),
    ("CLOB", None, None),
    ("NCLOB", None, None),
    ("XMLTYPE", None, None),
    ("JSON", None, None),
    ("INTERVAL YEAR(2) TO MONTH", None, None),
    ("INTERVAL DAY(2) TO SECOND(6)", None, None),
    ("ROWID", None, None),
    ("UROWID", None, None),
    ("RAW", None, None),
    ("LONG RAW", None, None),
    ("BLOB", None, None),
    ("BOOLEAN", None, None),
]
ALL_TYPES = (
    Column(SPLIT, "NUMBER", ColumnKind.INTEGER, precision=10, scale=0),
    *(
        Column(f'{native} "{i}"', native, ORACLE.column_kind(native, p, s), precision=p, scale=s)
        for i, (native, p, s) in enumerate(TYPES)
    ),
)
ALL_TYPES_PLAN = dataclasses.replace(ORACLE_PLAN, columns=ALL_TYPES)
_AS_OF = {"snapshot": "123456789", "snapshot_in_query": True}


def _plans() -> Iterator[tuple[str, TablePlan, Chunk]]:
    for name, chunk in CHUNKS.items():
        yield (
            f"all types, {name}",
            dataclasses.replace(ALL_TYPES_PLAN, split_columns=(SPLIT,)),
            chunk,
        )
        yield f"as of, {name}", dataclasses.replace(plan(), **_AS_OF), chunk
    for name, chunk in KEY2_CHUNKS.items():
        yield f"key2, {name}", plan(split=SPLIT2), chunk
    for name, chunk in partition_chunks(ORACLE).items():
        yield f"partitions, {name}", plan("partitions", ()), chunk
        partitioned = dataclasses.replace(ALL_TYPES_PLAN, strategy="partitions", **_AS_OF)
        yield f"all types as of, {name}", partitioned, chunk


CASES = [pytest.param(p, c, id=name) for name, p, c in _plans()]


def _tree(query: Query) -> exp.Expr:
    tree = sqlglot.parse_one(parseable(ORACLE, query.sql), read="oracle")
    assert isinstance(tree, (exp.Select, exp.Union)), type(tree)
    assert not list(tree.find_all(exp.Command))
    return tree


def _selects(tree: exp.Expr) -> list[exp.Select]:
    return list(tree.find_all(exp.Select))


def test_every_type_is_in_the_plan() -> None:
    assert {base_type(c.native_type) for c in ALL_TYPES} == BUILT_IN_TYPES


@pytest.mark.parametrize(("table_plan", "chunk"), CASES)
def test_the_batch_statement_parses_and_reads_the_rows_of_the_rows_statement(
    table_plan: TablePlan, chunk: Chunk
) -> None:
    query = ORACLE.select_chunk(table_plan, chunk)
    assert isinstance(query, ChunkSelect)
    batch = Query(query.batch_sql, query.params)
    rows_tree, batch_tree = _tree(query), _tree(batch)
    assert placeholders(ORACLE, batch.sql) == set(query.params)
    rows_selects, batch_selects = _selects(rows_tree), _selects(batch_tree)
    assert len(rows_selects) == len(batch_selects) >= 1
    for rows_select, batch_select in zip(rows_selects, batch_selects, strict=True):
        # The same tables, AS OF and WHERE: only the select lists may differ.
        for part in ("from", "where"):
            assert batch_select.args.get(part) == rows_select.args.get(part), part
        assert len(batch_select.expressions) == len(rows_select.expressions)
        items = zip(rows_select.expressions, batch_select.expressions, strict=False)
        for column, (rows_item, batch_item) in zip(table_plan.columns, items, strict=False):
            native = base_type(column.native_type)
            differs = batch_item != rows_item
            text = native in ("ROWID", "UROWID") or (
                native in ("NUMBER", "FLOAT") and "TO_CHAR" in batch_item.sql("oracle").upper()
            )
            assert differs is text, (column.name, batch_item.sql("oracle"))


def test_a_number_read_as_text_is_one_to_char_of_its_column() -> None:
    query = ORACLE.select_chunk(ALL_TYPES_PLAN, CHUNKS["whole"])
    assert isinstance(query, ChunkSelect)
    (select,) = _selects(_tree(Query(query.batch_sql, query.params)))
    to_chars = [e for e in select.expressions if "TO_CHAR" in e.sql("oracle").upper()]
    # unconstrained NUMBER, NUMBER(*, 0), NUMBER(5, -2), FLOAT, and the two intervals
    assert len(to_chars) == 6
    for item in to_chars:
        (column,) = list(item.find_all(exp.Column))
        assert column.name in {c.name for c in ALL_TYPES}


# key -> (why sqlglot cannot parse it, with the reference that shows it valid; the rewrite
# that leaves what sqlglot parses). An exception sqlglot learns to parse fails the test.
UNPARSED = {
    "create_nums": (
        "a negative scale is a parse error in sqlglot 30: NUMBER(p, s) takes s from -84 to"
        " 127, https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/"
        "Data-Types.html (NUMBER Data Type)",
        ("NUMBER(5, -2)", "NUMBER(5, 2)"),
    ),
}


@pytest.mark.parametrize("key", sorted(test_live_batch.statements(NAMES)))
def test_the_live_batch_statements_parse(key: str) -> None:
    sql = test_live_batch.statements(NAMES)[key]
    if key in UNPARSED:
        reason, (unparsed, parsed) = UNPARSED[key]
        with pytest.raises(sqlglot.errors.ParseError):
            sqlglot.parse_one(sql, read="oracle")
        assert unparsed in sql, reason
        sql = sql.replace(unparsed, parsed)
    tree = sqlglot.parse_one(sql, read="oracle")
    assert not isinstance(tree, exp.Command) and not list(tree.find_all(exp.Command)), key
    kinds = (exp.Create, exp.Drop, exp.Insert, exp.Update, exp.Delete)
    assert isinstance(tree, kinds), (key, type(tree))
    # Names reach the SQL only as quoted identifiers.
    unquoted = re.sub(r'"[^"]*"', "", sql)
    assert NAMES.owner not in unquoted and NAMES.table("") not in unquoted, sql
