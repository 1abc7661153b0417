"""Every statement the SQLite, PostgreSQL and Oracle dialects emit parses with sqlglot, quotes
its identifiers, and binds (never interpolates) its values.

Three rewrites happen before sqlglot sees the text (`parseable` below), all because of
sqlglot, not because the SQL is wrong:
- Oracle's `JSON_SERIALIZE(x RETURNING CLOB)` (and `RETURNING VARCHAR2(n)`; SQL Language
  Reference, JSON_SERIALIZE) loses its RETURNING clause: sqlglot 30 parses only
  `JSON_SERIALIZE(x)`; likewise `XMLSERIALIZE(CONTENT x AS CLOB)` (SQL Language Reference,
  XMLSERIALIZE) becomes `XMLSERIALIZE(x)`, a function sqlglot 30 does not know;
- psycopg's `%(name)s` placeholders become `:name`, which sqlglot reads as a placeholder;
- `COPY (...) TO STDOUT (options)` becomes `... TO STDOUT WITH (options)`: PostgreSQL accepts
  both (`[ [ WITH ] ( option [, ...] ) ]`), sqlglot 30 parses only the WITH form. The whole
  COPY then parses, inner SELECT included, so it is checked as a COPY, not just the SELECT.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from collections.abc import Iterator

import pytest
import sqlglot
from sqlglot import exp

from exporter.canonical.cells import BIGNUMERIC_MAX, BIGNUMERIC_MIN
from exporter.model import Chunk, ChunkBounds, Column, ColumnKind, FileFormat, TablePlan, TableRef
from exporter.sources.dialect import BulkOptions, Dialect, Query
from exporter.sources.oracle_sql import OracleDialect
from exporter.sources.postgres_sql import PostgresDialect
from exporter.sources.sqlite import SqliteDialect

SQLITE = SqliteDialect()
POSTGRES = PostgresDialect()
ORACLE = OracleDialect()
DIALECTS = [SQLITE, POSTGRES, ORACLE]

# Spaces, double quotes and reserved words everywhere a name can go.
TABLE = TableRef('my "schema"', 'order "details" select')
QUOTED_TABLE = '"my ""schema"""."order ""details"" select"'
SPLIT = 'key "col"'
COLUMNS = (
    Column(SPLIT, "int8", ColumnKind.INTEGER, nullable=False),
    Column("select", "numeric", ColumnKind.DECIMAL, precision=38, scale=2),
    Column('na"me', "text", ColumnKind.STRING),
    Column("group by", "float4", ColumnKind.FLOAT),
    Column("from", "bool", ColumnKind.BOOLEAN),
    Column("where", "date", ColumnKind.DATE),
    Column("table", "timestamp", ColumnKind.DATETIME),
    Column("at time zone", "timestamptz", ColumnKind.TIMESTAMP),
    Column("order", "time", ColumnKind.TIME),
    Column("bytes col", "bytea", ColumnKind.BYTES),
    Column('"j"', "jsonb", ColumnKind.JSON),
)
TEXT_POSITIONS = [i for i, c in enumerate(COLUMNS) if c.kind.is_text]
LOW, HIGH = 123456789, 987654321  # distinctive: must show up only in the bound parameters


def plan(strategy: str = "key", split: tuple[str, ...] = (SPLIT,)) -> TablePlan:
    return TablePlan(
        table=TABLE,
        columns=COLUMNS,
        size_bytes=1,
        strategy=strategy,  # type: ignore[arg-type]
        reason="test",
        chunks=(Chunk(0, ChunkBounds("whole")),),
        file_format=FileFormat("\\N", True),
        split_columns=split,
    )


CHUNKS = {
    "whole": Chunk(0, ChunkBounds("whole")),
    "physical": Chunk(1, ChunkBounds("physical", LOW, HIGH)),
    "physical_first": Chunk(2, ChunkBounds("physical", None, HIGH)),
    "physical_last": Chunk(3, ChunkBounds("physical", LOW, None)),
    "key": Chunk(4, ChunkBounds("key", LOW, HIGH)),
    "key_first": Chunk(5, ChunkBounds("key", None, HIGH)),
    "key_last": Chunk(6, ChunkBounds("key", LOW, None)),
    "key_unbounded": Chunk(7, ChunkBounds("key", None, None)),
}
# A key of two columns (an integer and a text): bounds are tuples, compared as rows.
SPLIT2 = (SPLIT, 'na"me')
KEY2_CHUNKS = {
    "key2": Chunk(0, ChunkBounds("key", (LOW, "a"), (HIGH, "b"))),
    "key2_first": Chunk(1, ChunkBounds("key", None, (HIGH, "b"))),
    "key2_last": Chunk(2, ChunkBounds("key", (LOW, "a"), None)),
}
# Chunks of a partitioned table read its leaf partitions, never the parent.
LEAVES = (TableRef('my "schema"', "leaf 1"), TableRef("other", 'leaf "2"'))
# Oracle reads a leaf through the partitioned table: PARTITION (name), SUBPARTITION (name).
ORACLE_LEAVES = (TableRef("PARTITION", "leaf 1"), TableRef("SUBPARTITION", 'leaf "2"'))


def partition_chunks(dialect: Dialect) -> dict[str, Chunk]:
    leaves = ORACLE_LEAVES if isinstance(dialect, OracleDialect) else LEAVES
    return {
        "leaves": Chunk(0, ChunkBounds("whole", partitions=leaves)),
        "leaf_range": Chunk(1, ChunkBounds("physical", LOW, HIGH, partitions=leaves[1:])),
    }


PARTITION_CHUNKS = partition_chunks(SQLITE)


# Oracle's own types, each read its way: LOBs (with their empty-LOB flags), XMLTYPE, JSON,
# intervals and zoned timestamps.
ORACLE_COLUMNS = (
    Column(SPLIT, "NUMBER", ColumnKind.INTEGER, precision=10, scale=0),
    Column("clob col", "CLOB", ColumnKind.STRING),
    Column('n"clob', "NCLOB", ColumnKind.STRING),
    Column("blob", "BLOB", ColumnKind.BYTES),
    Column("xml", "XMLTYPE", ColumnKind.STRING),
    Column("json", "JSON", ColumnKind.JSON),
    Column("ym", "INTERVAL YEAR(2) TO MONTH", ColumnKind.STRING),
    Column("tsltz", "TIMESTAMP(6) WITH LOCAL TIME ZONE", ColumnKind.TIMESTAMP),
)
ORACLE_PLAN = TablePlan(
    table=TABLE,
    columns=ORACLE_COLUMNS,
    size_bytes=1,
    strategy="physical",
    reason="test",
    chunks=(Chunk(0, ChunkBounds("whole")),),
    file_format=FileFormat("", True),
)


KEY1 = (COLUMNS[0],)
KEY2 = (COLUMNS[0], COLUMNS[2])  # an integer and a text column


def compare_queries(dialect: Dialect) -> Iterator[tuple[str, Query]]:
    """The comparator's statements, with one- and two-column keys, open and closed ranges."""
    for name, key, low, high in (
        ("1", KEY1, (LOW,), (HIGH,)),
        ("2", KEY2, (LOW, "a"), (HIGH, "b")),
    ):
        cuts = [(LOW + 1, "c")[: len(key)], (LOW + 2, "d")[: len(key)]]
        yield f"chunk_figures(key{name})", dialect.chunk_figures(TABLE, COLUMNS, key, low, high)
        yield (
            f"chunk_figures(key{name}, cuts)",
            dialect.chunk_figures(TABLE, COLUMNS, key, low, None, cuts),
        )
        yield (
            f"chunk_figures(key{name}, open)",
            dialect.chunk_figures(TABLE, COLUMNS, key, None, None),
        )
        yield f"key_quantiles(key{name})", dialect.key_quantiles(TABLE, key, low, high, 100)
        yield f"key_digests(key{name})", dialect.key_digests(TABLE, COLUMNS, key, None, high)
        keys = [(LOW, "x")[: len(key)], (HIGH, "y")[: len(key)]]
        yield f"cells_for_keys(key{name})", dialect.cells_for_keys(TABLE, COLUMNS, key, keys)
        yield f"sample_keys(key{name})", dialect.sample_keys(TABLE, key, 2.5)
        yield f"sorted_sample_keys(key{name})", dialect.sorted_sample_keys(TABLE, key, 2.5)
        yield f"null_keys(key{name})", dialect.null_keys(TABLE, key)
    yield "row_estimate", dialect.row_estimate(TABLE)


def queries(dialect: Dialect) -> Iterator[tuple[str, Query]]:
    """Every statement the dialect can emit, for the awkward table above."""
    yield "list_tables(None)", dialect.list_tables(None)
    yield "list_tables(schema)", dialect.list_tables(TABLE.schema)
    yield "table_columns", dialect.table_columns(TABLE)
    yield "primary_key", dialect.primary_key(TABLE)
    if (unique := dialect.unique_keys(TABLE)) is not None:
        yield "unique_keys", unique
    yield "table_size_bytes", dialect.table_size_bytes(TABLE)
    yield "key_range", dialect.key_range(TABLE, SPLIT)
    yield "count_rows", dialect.count_rows(TABLE)
    exact = [c for c in COLUMNS if c.kind.is_exact_number]
    yield "range_figures(table)", dialect.range_figures(plan(), CHUNKS["whole"], exact)
    yield "range_figures(table, none)", dialect.range_figures(plan(), CHUNKS["whole"], [])
    integers = [c for c in COLUMNS if c.kind is ColumnKind.INTEGER]
    yield "range_figures(table, integers)", dialect.range_figures(plan(), CHUNKS["whole"], integers)
    for name, chunk in CHUNKS.items():
        yield f"range_figures({name})", dialect.range_figures(plan(), chunk, exact)
    for name, chunk in partition_chunks(dialect).items():
        yield f"range_figures({name})", dialect.range_figures(plan("partitions", ()), chunk, exact)
    for name, chunk in CHUNKS.items():
        yield f"select_chunk({name})", dialect.select_chunk(plan(), chunk)
    for name, chunk in KEY2_CHUNKS.items():
        yield f"select_chunk({name})", dialect.select_chunk(plan(split=SPLIT2), chunk)
    for name, chunk in partition_chunks(dialect).items():
        yield f"select_chunk({name})", dialect.select_chunk(plan("partitions", ()), chunk)
    yield from compare_queries(dialect)
    if isinstance(dialect, SqliteDialect):
        yield "rowid_range", dialect.rowid_range(TABLE)
    if isinstance(dialect, OracleDialect):
        yield "session_user", dialect.session_user()
        for own in (True, False):
            yield f"segment_bytes(own={own})", dialect.segment_bytes(TABLE, own=own)
            yield f"leaf_segment_bytes(own={own})", dialect.leaf_segment_bytes(TABLE, own=own)
            yield (
                f"leaf_segment_bytes(own={own}, lobs=False)",
                dialect.leaf_segment_bytes(TABLE, own=own, lobs=False),
            )
        yield "table_statistics", dialect.table_statistics(TABLE)
        yield "leaf_partitions", dialect.leaf_partitions(TABLE)
        for leaf in (None, ORACLE_LEAVES[1]):
            yield f"extent_starts({leaf})", dialect.extent_starts(TABLE, leaf)
            for percent in (0.5, 100.0):
                yield (
                    f"sampled_rowids({leaf}, {percent})",
                    dialect.sampled_rowids(TABLE, leaf, percent),
                )
        yield "current_scn", dialect.current_scn()
        yield "recent_scn", dialect.recent_scn()
        for name, chunk in (("whole", CHUNKS["whole"]), ("physical", CHUNKS["physical"])):
            yield f"select_chunk(oracle types, {name})", dialect.select_chunk(ORACLE_PLAN, chunk)
        yield "organization", dialect.organization(TABLE)
        yield "snapshot_probe", dialect.snapshot_probe(TABLE, "123456789")
        yield "parallel_execute_starts", dialect.parallel_execute_starts("EXPORTER_1")
        as_of = dataclasses.replace(plan(), snapshot="123456789", snapshot_in_query=True)
        for name, chunk in (*CHUNKS.items(), *partition_chunks(dialect).items()):
            yield f"select_chunk(as of, {name})", dialect.select_chunk(as_of, chunk)
            yield f"range_figures(as of, {name})", dialect.range_figures(as_of, chunk, exact)
    if isinstance(dialect, PostgresDialect):
        yield "heap_blocks", dialect.heap_blocks(TABLE)
        yield "partition_leaves", dialect.partition_leaves(TABLE)
        for name, chunk in PARTITION_CHUNKS.items():
            yield (
                f"copy_chunk({name})",
                dialect.copy_chunk(plan("partitions", ()), chunk, BulkOptions("\\N", False)),
            )
        for name in ("whole", "physical", "key_first", "key_last"):
            for in_db in (False, True):
                options = BulkOptions("\\N", row_hash_in_db=in_db)
                yield (
                    f"copy_chunk({name}, hash_in_db={in_db})",
                    dialect.copy_chunk(plan(), CHUNKS[name], options),
                )


CASES = [
    pytest.param(dialect, query, id=f"{dialect.name}:{name}")
    for dialect in DIALECTS
    for name, query in queries(dialect)
]

_PSYCOPG_PARAM = re.compile(r"%\((\w+)\)s")
_SQLITE_PARAM = re.compile(r"(?<![\w:]):([A-Za-z_]\w*)")
_COPY_OPTIONS = re.compile(r"\) TO STDOUT \(")
_JSON_RETURNING = re.compile(r"(JSON_SERIALIZE\([^()]*?) RETURNING (?:CLOB|VARCHAR2\(\d+\))\)")
_XML_SERIALIZE = re.compile(r"XMLSERIALIZE\(CONTENT ([^()]*?) AS CLOB\)")


def strip_quoted(sql: str) -> str:
    """The SQL with quoted identifiers and string literals blanked out."""
    return re.sub(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'', "_", sql)


def placeholders(dialect: Dialect, sql: str) -> set[str]:
    pattern = _PSYCOPG_PARAM if isinstance(dialect, PostgresDialect) else _SQLITE_PARAM
    return set(pattern.findall(strip_quoted(sql)))


def parseable(dialect: Dialect, sql: str) -> str:
    """The text handed to sqlglot (see the module docstring for both rewrites)."""
    if isinstance(dialect, PostgresDialect):
        sql = _PSYCOPG_PARAM.sub(r":\1", sql)
        if sql.startswith("COPY ("):
            sql = _COPY_OPTIONS.sub(") TO STDOUT WITH (", sql)
    if isinstance(dialect, OracleDialect):
        sql = _JSON_RETURNING.sub(r"\1)", sql)
        sql = _XML_SERIALIZE.sub(r"XMLSERIALIZE(\1)", sql)
    return sql


def parse(dialect: Dialect, query: Query) -> exp.Expr:
    return sqlglot.parse_one(parseable(dialect, query.sql), read=dialect.sqlglot_dialect)


# -- every statement parses -----------------------------------------------------------------


@pytest.mark.parametrize(("dialect", "query"), CASES)
def test_statement_parses(dialect: Dialect, query: Query) -> None:
    tree = parse(dialect, query)
    # exp.Command is sqlglot's "did not understand, kept as text" fallback.
    assert isinstance(tree, (exp.Select, exp.Union, exp.Copy)), type(tree)
    assert not list(tree.find_all(exp.Command))


@pytest.mark.parametrize(("dialect", "query"), CASES)
def test_placeholders_and_bound_params_agree(dialect: Dialect, query: Query) -> None:
    assert placeholders(dialect, query.sql) == set(query.params)


@pytest.mark.parametrize(("dialect", "query"), CASES)
def test_values_are_never_interpolated(dialect: Dialect, query: Query) -> None:
    assert str(LOW) not in query.sql and str(HIGH) not in query.sql
    # Names reach the SQL text only as quoted identifiers, never as string literals.
    literals = re.findall(r"'((?:[^']|'')*)'", query.sql.replace('"', ""))
    for name in (TABLE.schema, TABLE.name, SPLIT):
        assert name.replace('"', "") not in literals


# -- identifiers ----------------------------------------------------------------------------


def table_nodes(tree: exp.Expr) -> list[tuple[str, str]]:
    return [(t.db, t.name) for t in tree.find_all(exp.Table)]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_quote_doubles_embedded_quotes(dialect: Dialect) -> None:
    assert dialect.quote('a"b') == '"a""b"'
    assert dialect.quote("select") == '"select"'
    assert dialect.quote('"') == '""""'
    assert dialect.qualified(TABLE) == QUOTED_TABLE


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("chunk", list(CHUNKS), ids=str)
def test_select_chunk_names_the_table_and_every_column(dialect: Dialect, chunk: str) -> None:
    query = dialect.select_chunk(plan(), CHUNKS[chunk])
    assert QUOTED_TABLE in query.sql
    assert '"na""me"' in query.sql and '"key ""col"""' in query.sql
    tree = parse(dialect, query)
    assert table_nodes(tree) == [(TABLE.schema, TABLE.name)]
    assert isinstance(tree, exp.Select)
    assert len(tree.expressions) == len(COLUMNS)
    selected = [next(e.find_all(exp.Column)).name for e in tree.expressions]
    assert selected == [c.name for c in COLUMNS]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
@pytest.mark.parametrize("chunk", list(PARTITION_CHUNKS), ids=str)
def test_partition_chunks_read_their_leaves_and_never_the_parent(
    dialect: Dialect, chunk: str
) -> None:
    bounds = partition_chunks(dialect)[chunk].bounds
    query = dialect.select_chunk(plan("partitions", ()), partition_chunks(dialect)[chunk])
    tree = parse(dialect, query)
    if isinstance(dialect, OracleDialect):  # the partitioned table, narrowed to each leaf
        assert table_nodes(tree) == [(TABLE.schema, TABLE.name)] * len(bounds.partitions)
        clauses = [f"{leaf.schema} ({dialect.quote(leaf.name)})" for leaf in bounds.partitions]
        assert all(clause in query.sql for clause in clauses)
    else:
        assert table_nodes(tree) == [(t.schema, t.name) for t in bounds.partitions]
    selects = list(tree.find_all(exp.Select))
    assert len(selects) == len(bounds.partitions)  # one SELECT per leaf, as UNION ALL
    assert isinstance(tree, exp.Select) or (
        isinstance(tree, exp.Union) and not tree.args["distinct"]
    )
    for select in selects:
        assert [next(e.find_all(exp.Column)).name for e in select.expressions] == [
            c.name for c in COLUMNS
        ]
    # Physical bounds within the one leaf they name; whole leaves need no WHERE.
    assert bool(list(tree.find_all(exp.Where))) == (bounds.kind == "physical")


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_composite_key_chunks_compare_the_whole_key(dialect: Dialect) -> None:
    query = dialect.select_chunk(plan(split=SPLIT2), KEY2_CHUNKS["key2"])
    assert set(query.params.values()) == {LOW, "a", HIGH, "b"}
    where = parse(dialect, query).find(exp.Where)
    assert where is not None
    assert {c.name for c in where.find_all(exp.Column)} == set(SPLIT2)
    # The columns' own order (their index serves it), not a forced binary collation.
    assert "COLLATE" not in query.sql


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_table_level_queries_quote_the_table(dialect: Dialect) -> None:
    for query in (
        dialect.key_range(TABLE, SPLIT),
        dialect.count_rows(TABLE),
        dialect.range_figures(plan(), CHUNKS["whole"], COLUMNS[:2]),
    ):
        assert QUOTED_TABLE in query.sql
        # Oracle reads the key's ends in two subqueries, each an index probe, FROM DUAL.
        tables = set(table_nodes(parse(dialect, query))) - {("", "DUAL")}
        assert tables == {(TABLE.schema, TABLE.name)}
    tree = parse(dialect, dialect.range_figures(plan(), CHUNKS["whole"], COLUMNS[:2]))
    assert [c.name for c in tree.find_all(exp.Column)] == [SPLIT, "select"]
    assert len(list(tree.find_all(exp.Sum))) == 2


def test_sqlite_catalog_queries_bind_the_names() -> None:
    for query in (
        SQLITE.table_columns(TABLE),
        SQLITE.primary_key(TABLE),
        SQLITE.table_size_bytes(TABLE),
    ):
        assert query.params == {"table": TABLE.name, "schema": TABLE.schema}
        assert TABLE.name not in query.sql
    query = SQLITE.list_tables(TABLE.schema)
    assert '"my ""schema""".sqlite_master' in query.sql
    assert query.params == {"schema": TABLE.schema}
    assert SQLITE.list_tables(None).params == {"schema": "main"}
    rowid = SQLITE.rowid_range(TABLE)
    assert QUOTED_TABLE in rowid.sql and rowid.params == {}


def test_postgres_catalog_queries_bind_the_quoted_name() -> None:
    for query in (
        POSTGRES.table_columns(TABLE),
        POSTGRES.primary_key(TABLE),
        POSTGRES.table_size_bytes(TABLE),
        POSTGRES.heap_blocks(TABLE),
    ):
        # Bound as text and cast to regclass, which parses the quoted, qualified name.
        assert query.params == {"rel": QUOTED_TABLE}
        assert "CAST(%(rel)s AS regclass)" in query.sql
        assert TABLE.name not in query.sql
    assert POSTGRES.list_tables(TABLE.schema).params == {"schema": TABLE.schema}
    assert POSTGRES.list_tables(None).params == {}


# -- chunk bounds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chunk", "params"),
    [
        ("whole", {}),
        ("physical", {"lower": LOW, "upper": HIGH}),
        ("physical_first", {"upper": HIGH}),
        ("physical_last", {"lower": LOW}),
        ("key", {"lower": LOW, "upper": HIGH}),
        ("key_first", {"upper": HIGH}),
        ("key_last", {"lower": LOW}),
        ("key_unbounded", {}),
    ],
)
def test_sqlite_chunk_bounds_are_bound(chunk: str, params: dict[str, int]) -> None:
    query = SQLITE.select_chunk(plan(), CHUNKS[chunk])
    assert dict(query.params) == params
    tree = parse(SQLITE, query)
    where = tree.args.get("where")
    assert (where is None) == (not params)
    if where is not None:
        locator = "_rowid_" if chunk.startswith("physical") else SPLIT
        assert {c.name for c in where.find_all(exp.Column)} == {locator}
        assert len(list(where.find_all(exp.GTE))) == ("lower" in params)
        assert len(list(where.find_all(exp.LT))) == ("upper" in params)


@pytest.mark.parametrize(
    ("chunk", "params"),
    [
        ("whole", {}),
        ("physical", {"lower": f"({LOW},0)", "upper": f"({HIGH},0)"}),
        ("physical_first", {"upper": f"({HIGH},0)"}),
        ("physical_last", {"lower": f"({LOW},0)"}),
        ("key", {"lower": LOW, "upper": HIGH}),
        ("key_first", {"upper": HIGH}),
        ("key_last", {"lower": LOW}),
        ("key_unbounded", {}),
    ],
)
def test_postgres_chunk_bounds_are_bound(chunk: str, params: dict[str, object]) -> None:
    query = POSTGRES.select_chunk(plan(), CHUNKS[chunk])
    assert dict(query.params) == params
    tree = parse(POSTGRES, query)
    where = tree.args.get("where")
    assert (where is None) == (not params)
    if where is not None:
        locator = "ctid" if chunk.startswith("physical") else SPLIT
        assert {c.name for c in where.find_all(exp.Column)} == {locator}
        if chunk.startswith("physical"):  # block numbers compared as tids: (block,0)
            casts = list(where.find_all(exp.Cast))
            assert len(casts) == len(params)
            assert all(c.to.sql("postgres").lower() == "tid" for c in casts)


# -- PostgreSQL COPY ------------------------------------------------------------------------


@pytest.mark.parametrize("in_db", [False, True])
@pytest.mark.parametrize("chunk", ["whole", "physical", "key_last"])
def test_copy_chunk_shape(chunk: str, in_db: bool) -> None:
    query = POSTGRES.copy_chunk(plan(), CHUNKS[chunk], BulkOptions("\\N", in_db))
    assert query.params["null_marker"] == "\\N"
    # The range's bounds, and each DECIMAL column's name for its refusal (bound, never a
    # literal): "column 'select'" for the numeric column at position 1.
    assert {k: v for k, v in query.params.items() if k != "null_marker"} == {
        **POSTGRES.select_chunk(plan(), CHUNKS[chunk]).params,
        "column_1": "column 'select'",
    }
    tree = parse(POSTGRES, query)
    assert isinstance(tree, exp.Copy)
    assert [f.name for f in tree.args["files"]] == ["STDOUT"]
    select = tree.this.this  # Subquery -> Select
    assert isinstance(select, exp.Select)
    assert table_nodes(select) == [(TABLE.schema, TABLE.name)]
    aliases = [e.alias for e in select.expressions]
    expected = [f"c{i}" for i in range(len(COLUMNS))] + (["row_hash"] if in_db else [])
    assert aliases == expected
    options = {p.this.name.upper(): p.expression for p in tree.args["params"]}
    assert options["FORMAT"].name.lower() == "csv"
    assert isinstance(options["NULL"], exp.Placeholder)
    assert options["NULL"].name == "null_marker"
    forced = [c.name for c in options["FORCE_QUOTE"].find_all(exp.Column)]
    assert forced == [f"c{i}" for i in TEXT_POSITIONS]
    md5 = [f for f in select.find_all(exp.Anonymous, exp.MD5) if f.sql().lower().startswith("md5")]
    assert bool(md5) == in_db


def test_copy_chunk_without_text_columns_has_no_force_quote() -> None:
    numbers = TablePlan(
        TABLE, COLUMNS[:2], 1, "whole", "t", (), FileFormat("\\N", False), split_columns=(SPLIT,)
    )
    query = POSTGRES.copy_chunk(numbers, CHUNKS["whole"], BulkOptions("\\N", False))
    assert "FORCE_QUOTE" not in query.sql
    assert isinstance(parse(POSTGRES, query), exp.Copy)


def test_record_expression_quotes_text_and_binds_the_marker() -> None:
    sql = POSTGRES.record_expression(COLUMNS)
    assert sql.count("%(null_marker)s") == len(COLUMNS)
    tree = sqlglot.parse_one("SELECT " + parseable(POSTGRES, sql), read="postgres")
    assert len(list(tree.find_all(exp.Coalesce))) == len(COLUMNS)


# -- SQLite statements run, not just parse --------------------------------------------------


def test_sqlite_statements_run_against_awkward_names() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"ATTACH ':memory:' AS {SQLITE.quote(TABLE.schema)}")
    defs = ", ".join(
        f"{SQLITE.quote(c.name)} {'INTEGER PRIMARY KEY' if c.name == SPLIT else 'TEXT'}"
        for c in COLUMNS
    )
    conn.execute(f"CREATE TABLE {SQLITE.qualified(TABLE)} ({defs})")
    marks = ", ".join("?" for _ in COLUMNS)
    conn.executemany(
        f"INSERT INTO {SQLITE.qualified(TABLE)} VALUES ({marks})",
        [(i, i * 10, *(["x"] * (len(COLUMNS) - 2))) for i in range(1, 11)],
    )

    def run(query: Query) -> list[tuple[object, ...]]:
        return conn.execute(query.sql, dict(query.params)).fetchall()

    assert run(SQLITE.list_tables(TABLE.schema)) == [(TABLE.schema, TABLE.name)]
    assert [r[0] for r in run(SQLITE.table_columns(TABLE))] == [c.name for c in COLUMNS]
    assert run(SQLITE.primary_key(TABLE)) == [(SPLIT,)]
    assert run(SQLITE.key_range(TABLE, SPLIT)) == [(1, 10)]
    assert run(SQLITE.rowid_range(TABLE)) == [(1, 10)]
    assert run(SQLITE.count_rows(TABLE)) == [(10,)]
    (row,) = run(SQLITE.range_figures(plan(), CHUNKS["whole"], COLUMNS[:2]))
    assert SQLITE.parse_figures(row, COLUMNS[:2]) == (10, [55, 550])
    # Integers only: summed in 32-bit halves.
    (row,) = run(SQLITE.range_figures(plan(), CHUNKS["whole"], COLUMNS[:1]))
    assert len(row) == 3 and SQLITE.parse_figures(row, COLUMNS[:1]) == (10, [55])
    leaf = Chunk(0, ChunkBounds("key", 3, 7))
    (row,) = run(SQLITE.range_figures(plan(), leaf, COLUMNS[:2]))
    assert SQLITE.parse_figures(row, COLUMNS[:2]) == (4, [18, 180])
    bounded = Chunk(0, ChunkBounds("key", 3, 7))
    assert [r[0] for r in run(SQLITE.select_chunk(plan(), bounded))] == [3, 4, 5, 6]
    physical = Chunk(0, ChunkBounds("physical", None, 3))
    assert [r[0] for r in run(SQLITE.select_chunk(plan(), physical))] == [1, 2]


# -- defects --------------------------------------------------------------------------------


def test_postgres_percent_in_identifiers_is_escaped() -> None:
    odd = TablePlan(
        TableRef("public", "growth %"),
        (Column("rate %", "int8", ColumnKind.INTEGER),),
        1,
        "key",
        "t",
        (),
        FileFormat("\\N", True),
        split_columns=("rate %",),
    )
    statements = [
        POSTGRES.select_chunk(odd, CHUNKS["key"]).sql,
        POSTGRES.copy_chunk(odd, CHUNKS["whole"], BulkOptions("\\N", True)).sql,
    ]
    for sql in statements:
        # With parameters, every '%' must start a placeholder or be doubled.
        assert re.sub(r"%%|%\(\w+\)s", "", sql).count("%") == 0, sql


def test_sqlite_rowid_name_avoids_user_columns() -> None:
    assert SQLITE.rowid_name(["id", "pad"]) == "_rowid_"
    assert SQLITE.rowid_name(["_ROWID_", "pad"]) == "rowid"  # SQLite names ignore case
    assert SQLITE.rowid_name(["_rowid_", "RowId"]) == "oid"
    assert SQLITE.rowid_name(["_rowid_", "rowid", "OID"]) is None


# -- the comparator's key ranges ------------------------------------------------------------


def test_composite_key_ranges_use_row_values_or_the_expanded_form() -> None:
    low, high = (LOW, "a"), (HIGH, "b")
    pg = parse(POSTGRES, POSTGRES.chunk_figures(TABLE, COLUMNS, KEY2, low, high))
    where = pg.find(exp.Where)
    assert where is not None and len(list(where.find_all(exp.Tuple))) == 4  # two per bound
    assert 'COLLATE "C"' in POSTGRES.key_term(COLUMNS[2])  # text keys in byte order
    ora = parse(ORACLE, ORACLE.chunk_figures(TABLE, COLUMNS, KEY2, low, high))
    ora_where = ora.find(exp.Where)
    assert ora_where is not None and not list(ora_where.find_all(exp.Tuple))
    # (a, b) >= (x, y) -> a > x OR (a = x AND b >= y), for both bounds.
    assert len(list(ora_where.find_all(exp.Or))) == 2
    assert len(list(ora_where.find_all(exp.GT))) == 1 and len(list(ora_where.find_all(exp.LT))) == 2


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: d.name)
def test_chunk_figures_cut_a_range_into_buckets(dialect: Dialect) -> None:
    cuts = [(LOW + 1,), (LOW + 2,), (LOW + 3,)]
    query = dialect.chunk_figures(TABLE, COLUMNS, KEY1, (LOW,), (HIGH,), cuts)
    tree = parse(dialect, query)
    # A binary search: one comparison per cut in all, log2 of them on any row's way.
    (bucket,) = [a for a in tree.find_all(exp.Alias) if a.alias == "b"]
    cases = list(bucket.find_all(exp.Case))
    assert len(cases) == len(cuts) and all(len(c.args["ifs"]) == 1 for c in cases)
    assert {c.this.sql() if c.this else "" for c in cases} == {""}  # searched CASEs
    assert {f"b{i}_0" for i in range(len(cuts))} <= set(query.params)
    assert [query.params[f"b{i}_0"] for i in range(len(cuts))] == [c[0] for c in cuts]


@pytest.mark.parametrize(
    ("precision", "scale", "ranged"),
    [(None, None, True), (60, 0, True), (77, 38, True), (38, 10, False), (76, 38, False)],
)
def test_copy_checks_bignumerics_range_only_where_the_type_allows_beyond_it(
    precision: int | None, scale: int | None, ranged: bool
) -> None:
    """The range test costs every row, so it is made only for a numeric that may hold more
    than 38 integer digits; its literal is BIGNUMERIC's maximum, every digit; and the
    statement still parses."""
    amount = Column("amount", "numeric", ColumnKind.DECIMAL, precision=precision, scale=scale)
    numbers = TablePlan(
        TABLE,
        (COLUMNS[0], amount),
        1,
        "whole",
        "t",
        (),
        FileFormat("\\N", False),
        split_columns=(SPLIT,),
    )
    query = POSTGRES.copy_chunk(numbers, CHUNKS["whole"], BulkOptions("\\N", False))
    bounds = f'"amount" BETWEEN {BIGNUMERIC_MIN} AND {BIGNUMERIC_MAX}'
    assert (bounds in query.sql) is ranged
    assert ("outside the range of BigQuery BIGNUMERIC" in query.sql) is ranged
    assert isinstance(parse(POSTGRES, query), exp.Copy)
