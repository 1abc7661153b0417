"""A schema in export.schemas that does not exist, or an include pattern that matches nothing,
on a real SQLite database: one line naming it and listing what is there, exit 2, nothing
written (through the real CLI for one case; the comparator's `compare:` block alike)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
import yaml

from exporter import api
from exporter.compare.planner import select_source_tables
from exporter.config import parse_config
from exporter.config.compare import CompareSettings
from exporter.errors import ConfigError
from exporter.model import TableRef
from exporter.sources import get_source
from exporter.sources.sqlite import SqliteDialect
from tests.sqlite.conftest import Demo
from tests.sqlite.helpers import run_subprocess, source_tables


def _with_export(demo: Demo, **export: object) -> Path:
    data = yaml.safe_load(demo.config.read_text(encoding="utf-8"))
    data["export"].update(export)
    demo.config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return demo.config


def _plan_error(demo: Demo, **export: object) -> ConfigError:
    data = yaml.safe_load(_with_export(demo, **export).read_text(encoding="utf-8"))
    with pytest.raises(ConfigError) as caught:
        api.plan(parse_config(data))
    return caught.value


def test_the_cli_names_a_missing_schema_in_one_line(demo: Demo) -> None:
    config = _with_export(demo, schemas=["main", "mian"])

    result = run_subprocess(["export", "--config", str(config), "--no-progress"], demo.root)

    assert result.code == 2, result.err
    assert "Traceback" not in result.err
    assert result.err_lines == [
        "error EXP-1015: export.schemas: schema 'mian' does not exist or has no table this "
        "user can see (schemas with tables: main) (fix: check the name and its case, and the "
        "user's SELECT privileges on its tables)"
    ]
    assert not demo.out.exists()  # refused before any folder is made


def test_plan_names_a_pattern_that_matches_nothing_and_lists_the_tables(demo: Demo) -> None:
    err = _plan_error(demo, include=["main.orders", "main.custmers"])
    tables = ", ".join(f"main.{name}" for name in source_tables(demo.db))
    assert "main.customers" in tables
    assert err.message == (
        f"export.include: pattern 'main.custmers' matches no table (tables: {tables})"
    )


def test_a_pattern_for_another_schema_lists_the_schemas(demo: Demo) -> None:
    err = _plan_error(demo, include=["sales.*"])
    assert err.message == "export.include: pattern 'sales.*' matches no table (schemas: main)"


def test_a_schema_named_in_another_case_is_still_found(demo: Demo) -> None:
    # SQLite's schema names ignore case, so MAIN is main (other engines match exactly).
    planned = api.plan(
        parse_config(yaml.safe_load(_with_export(demo, schemas=["MAIN"]).read_text("utf-8")))
    )
    assert sorted(p.table.name for p in planned) == source_tables(demo.db)


def test_an_unattached_schema_lists_no_tables(demo: Demo) -> None:
    data = yaml.safe_load(demo.config.read_text(encoding="utf-8"))
    source = get_source(parse_config(data).source)
    with source.session() as conn:
        assert source.list_tables(conn, ["nowhere"]) == []
        mixed = source.list_tables(conn, ["nowhere", "main"])
        assert [t.name for t in mixed] == source_tables(demo.db)
        assert {t.schema for t in mixed} == {"main"}
        assert conn.fetch_all(SqliteDialect().attached_schemas()) == [("main",)]


def test_the_attached_schemas_statement_parses() -> None:
    sql = SqliteDialect().attached_schemas().sql
    assert sqlglot.parse_one(sql, read="sqlite").sql("sqlite") == sql


def test_the_comparator_names_compare_schemas(demo: Demo) -> None:
    data = yaml.safe_load(demo.config.read_text(encoding="utf-8"))
    source = get_source(parse_config(data).source)
    with source.session() as conn:
        with pytest.raises(ConfigError) as caught:
            select_source_tables(source, conn, CompareSettings(schemas=["nope"]), ())
        assert caught.value.message.startswith(
            "compare.schemas: schema 'nope' does not exist or has no table this user can see "
            "(schemas with tables: main)"
        )
        with pytest.raises(ConfigError) as caught:
            select_source_tables(source, conn, CompareSettings(tables=["main.ordrs"]), ())
        tables = ", ".join(f"main.{name}" for name in source_tables(demo.db))
        assert caught.value.message == (
            "compare.tables: no table matches: main.ordrs not found on the source (tables in "
            f"those schemas: {tables})"
        )
        chosen = select_source_tables(source, conn, CompareSettings(include=["main.orders"]), ())
        assert chosen == [TableRef("main", "orders")]
