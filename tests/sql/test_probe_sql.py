"""Every statement `check` adds parses with sqlglot: the Oracle privilege probes
(oracle_probes_sql.py) in its Oracle dialect, and the probes every engine shares
(probes.py) in each engine's dialect. Each reads the views it names, binds its values, and
reads no row (`WHERE 1 = 0`), so a probe never costs a scan."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from exporter.model import TableRef
from exporter.sources import oracle_probes_sql as sql
from exporter.sources.dialect import Dialect, Query
from exporter.sources.oracle_sql import OracleDialect
from exporter.sources.postgres_sql import PostgresDialect
from exporter.sources.probes import catalog_readable, select_nothing
from exporter.sources.sqlite import SqliteDialect
from tests.sql.test_dialect_sql import QUOTED_TABLE, TABLE, parseable, placeholders

ORACLE = OracleDialect()
OWNED = TableRef("SALES", "ORDERS")

# name -> (statement, the views it reads)
ORACLE_PROBES: dict[str, tuple[Query, set[str]]] = {
    **{f"view_readable({v})": (sql.view_readable(v), {v}) for v in sql.PROBED_VIEWS},
    "session_privilege": (sql.session_privilege(sql.FLASHBACK_ANY_TABLE), {"session_privs"}),
    "flashback_grant": (sql.flashback_grant(OWNED, "EXPORTER"), {"all_tab_privs", "session_roles"}),
    "parameter_value": (sql.parameter_value(sql.UNDO_RETENTION), {"v$parameter"}),
}


def _parse(dialect: Dialect, query: Query) -> exp.Expr:
    tree = sqlglot.parse_one(parseable(dialect, query.sql), read=dialect.sqlglot_dialect)
    assert isinstance(tree, exp.Select), type(tree)
    assert not list(tree.find_all(exp.Command))  # sqlglot's "kept as text" fallback
    return tree


@pytest.mark.parametrize("name", list(ORACLE_PROBES))
def test_oracle_probe_parses_and_reads_only_its_views(name: str) -> None:
    query, views = ORACLE_PROBES[name]
    tree = _parse(ORACLE, query)
    assert {t.name.lower() for t in tree.find_all(exp.Table)} == views
    assert placeholders(ORACLE, query.sql) == set(query.params)


def test_oracle_probes_bind_every_value() -> None:
    grant = sql.flashback_grant(OWNED, "EXPORTER")
    assert grant.params == {"owner": "SALES", "name": "ORDERS", "grantee": "EXPORTER"}
    assert "SALES" not in grant.sql and "EXPORTER" not in grant.sql
    assert sql.session_privilege("FLASHBACK ANY TABLE").params == {
        "privilege": "FLASHBACK ANY TABLE"
    }
    assert sql.parameter_value("undo_retention").params == {"name": "undo_retention"}


@pytest.mark.parametrize("view", sql.PROBED_VIEWS)
def test_a_dictionary_view_is_probed_without_reading_a_row(view: str) -> None:
    tree = _parse(ORACLE, sql.view_readable(view))
    where = tree.find(exp.Where)
    assert where is not None and where.this.sql() == "1 = 0"


def test_only_the_ladders_views_can_be_probed() -> None:
    with pytest.raises(ValueError):
        sql.view_readable("dba_users")
    with pytest.raises(ValueError):
        catalog_readable("x; DROP TABLE t")


@pytest.mark.parametrize(
    "dialect", [SqliteDialect(), PostgresDialect(), ORACLE], ids=lambda d: d.name
)
@pytest.mark.parametrize("expression", ["1", "_rowid_"])
def test_select_nothing_quotes_the_table_and_reads_no_row(
    dialect: Dialect, expression: str
) -> None:
    query = select_nothing(dialect, TABLE, expression)
    assert QUOTED_TABLE in query.sql and query.params == {}
    tree = _parse(dialect, query)
    assert [(t.db, t.name) for t in tree.find_all(exp.Table)] == [(TABLE.schema, TABLE.name)]
    where = tree.find(exp.Where)
    assert where is not None and where.this.sql() == "1 = 0"


def test_sqlite_dbstat_probe_parses() -> None:
    tree = _parse(SqliteDialect(), catalog_readable("dbstat"))
    assert [t.name for t in tree.find_all(exp.Table)] == ["dbstat"]
