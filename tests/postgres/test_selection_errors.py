"""On PostgreSQL: a schema in export.schemas that does not exist (or is written in another
case), and an include pattern that matches nothing, are named with what is there; the
comparator's `compare:` block alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from exporter import api
from exporter.compare.planner import select_source_tables
from exporter.config.compare import CompareSettings
from exporter.errors import ConfigError
from exporter.model import TableRef
from exporter.sources import get_source
from tests.conftest import make_config, pg_source


@pytest.fixture()
def mixed_schema(pg: Any) -> Iterator[str]:
    """A schema with a mixed-case name holding two tables, dropped afterwards. Its name begins
    with a digit, so that it sorts first in any list of schemas (which is capped)."""
    name = f"0Sales_{uuid.uuid4().hex[:8]}"
    pg.execute(f'CREATE SCHEMA "{name}"')
    pg.execute(f'CREATE TABLE "{name}".orders (id int PRIMARY KEY)')
    pg.execute(f'CREATE TABLE "{name}".order_lines (id int PRIMARY KEY)')
    try:
        yield name
    finally:
        pg.execute(f'DROP SCHEMA "{name}" CASCADE')


def _plan_error(tmp_path: Path, **export: Any) -> ConfigError:
    config = make_config(pg_source(), tmp_path / "out", **export)
    with pytest.raises(ConfigError) as caught:
        api.plan(config)
    assert not (tmp_path / "out").exists()
    return caught.value


def test_a_schema_in_another_case_is_named_and_the_real_one_listed(
    mixed_schema: str, tmp_path: Path
) -> None:
    # PostgreSQL matches schema names exactly: the lower-case spelling does not exist.
    wrong = mixed_schema.lower()
    err = _plan_error(tmp_path, schemas=[mixed_schema, wrong])
    assert err.key == "export.schemas"
    assert err.message.startswith(
        f"export.schemas: schema '{wrong}' does not exist or has no table this user can see "
        f"(schemas with tables: {mixed_schema}"
    )
    assert err.exit_code == 2


def test_an_empty_schema_is_refused_too(pg: Any, mixed_schema: str, tmp_path: Path) -> None:
    empty = f"exp_empty_{uuid.uuid4().hex[:8]}"
    pg.execute(f'CREATE SCHEMA "{empty}"')
    try:
        err = _plan_error(tmp_path, schemas=[empty, mixed_schema])
    finally:
        pg.execute(f'DROP SCHEMA "{empty}"')
    assert err.message.startswith(f"export.schemas: schema '{empty}' does not exist")
    assert f"(schemas with tables: {mixed_schema}" in err.message


def test_a_pattern_that_matches_nothing_lists_the_schemas_tables(
    mixed_schema: str, tmp_path: Path
) -> None:
    pattern = f"{mixed_schema}.customers"
    err = _plan_error(tmp_path, schemas=[mixed_schema], include=[f"{mixed_schema}.o*", pattern])
    assert err.key == "export.include"
    assert err.message == (
        f"export.include: pattern {pattern!r} matches no table (tables: "
        f"{mixed_schema}.order_lines, {mixed_schema}.orders)"
    )


def test_patterns_that_match_plan_the_tables(mixed_schema: str, tmp_path: Path) -> None:
    config = make_config(
        pg_source(), tmp_path / "out", schemas=[mixed_schema], include=[f"{mixed_schema}.o*"]
    )
    planned = api.plan(config)
    assert sorted(p.table.name for p in planned) == ["order_lines", "orders"]
    assert all(p.error is None for p in planned)


def test_the_comparator_names_compare_schemas(mixed_schema: str) -> None:
    source = get_source(make_config(pg_source(), Path("unused")).source)
    missing = f"no_such_{uuid.uuid4().hex[:8]}"
    with source.session() as conn:
        with pytest.raises(ConfigError) as caught:
            select_source_tables(source, conn, CompareSettings(schemas=[mixed_schema, missing]), ())
        assert caught.value.message.startswith(
            f"compare.schemas: schema '{missing}' does not exist or has no table this user "
            f"can see (schemas with tables: {mixed_schema}"
        )
        settings = CompareSettings(schemas=[mixed_schema], include=["*.nope"])
        with pytest.raises(ConfigError) as caught:
            select_source_tables(source, conn, settings, ())
        assert caught.value.message == (
            "compare.include: pattern '*.nope' matches no table (tables: "
            f"{mixed_schema}.order_lines, {mixed_schema}.orders)"
        )
        settings = CompareSettings(schemas=[mixed_schema], exclude=["*.order_lines"])
        chosen = select_source_tables(source, conn, settings, ())
        assert chosen == [TableRef(mixed_schema, "orders")]
