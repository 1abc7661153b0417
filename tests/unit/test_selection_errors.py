"""exporter/selection.py: a schema of `schemas` without a table found, an include pattern that
matches nothing, and an exclude that leaves nothing are config errors (exit 2) that name the
key and the schema or pattern, and list what is there (capped)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from exporter.errors import EXIT_USAGE, ConfigError, ExporterError
from exporter.model import TableRef
from exporter.selection import listing, select_from_catalog

SALES = [TableRef("SALES", "ORDERS"), TableRef("SALES", "ORDER_LINES"), TableRef("SALES", "X")]
HR = [TableRef("HR", "EMPLOYEES")]


def _never() -> Sequence[TableRef]:
    raise AssertionError("the whole catalog is read only for a message")


def _raised(**kwargs: object) -> ExporterError:
    kwargs.setdefault("visible", _never)
    with pytest.raises(ConfigError) as caught:
        select_from_catalog(**kwargs)  # type: ignore[arg-type]
    assert caught.value.exit_code == EXIT_USAGE
    return caught.value


def test_listing_caps_and_counts_the_rest() -> None:
    assert listing([]) == "none"
    assert listing(["a", "b"]) == "a, b"
    names = [f"s{i:02d}" for i in range(25)]
    assert listing(names) == ", ".join(names[:20]) + " and 5 more"
    assert listing(names[:20]) == ", ".join(names[:20])


def test_the_happy_path_reads_no_more_of_the_catalog() -> None:
    chosen = select_from_catalog(
        SALES + HR, ["SALES", "HR"], ["sales.order*", "hr.*"], ["*.order_lines"], visible=_never
    )
    assert chosen == [TableRef("SALES", "ORDERS"), TableRef("HR", "EMPLOYEES")]


def test_a_schema_without_tables_is_named_and_the_visible_schemas_listed() -> None:
    visible = [*SALES, *HR, TableRef("APP", "T")]
    err = _raised(
        found=SALES,
        schemas=["SALES", "sales_archive"],
        include=["*"],
        exclude=[],
        visible=lambda: visible,
    )
    assert err.key == "export.schemas"
    assert err.one_line() == (
        "error EXP-1015: export.schemas: schema 'sales_archive' does not exist or has no "
        "table this user can see (schemas with tables: APP, HR, SALES) (fix: check the name "
        "and its case, and the user's SELECT privileges on its tables)"
    )


def test_the_schema_list_is_capped() -> None:
    visible = [TableRef(f"S{i:03d}", "T") for i in range(45)]
    err = _raised(found=[], schemas=["nope"], include=["*"], exclude=[], visible=lambda: visible)
    assert "(schemas with tables: S000, S001, " in err.message
    assert "S019 and 25 more)" in err.message and "S020" not in err.message


def test_the_comparator_names_its_own_block() -> None:
    err = _raised(
        found=[], schemas=["nope"], include=["*"], exclude=[], visible=list, block="compare"
    )
    assert err.message.startswith("compare.schemas: schema 'nope' does not exist")
    assert "(schemas with tables: none)" in err.message


def test_an_empty_source_says_so() -> None:
    err = _raised(found=[], schemas=[], include=["*"], exclude=[])
    assert err.one_line() == (
        "error EXP-1011: export.schemas: no table matches: the source has no table this "
        "user can see (fix: check source: and the user's SELECT privileges)"
    )


@pytest.mark.parametrize(
    ("pattern", "listed"),
    [
        # Its schema part matches: that schema's tables.
        ("sales.ordr*", "tables: SALES.ORDERS, SALES.ORDER_LINES, SALES.X"),
        # Its schema part matches nothing: the schemas.
        ("sale.*", "schemas: HR, SALES"),
        # No schema part at all: every table (patterns are on SCHEMA.TABLE).
        ("orders", "tables: HR.EMPLOYEES, SALES.ORDERS, SALES.ORDER_LINES, SALES.X"),
    ],
)
def test_an_include_pattern_matching_nothing_is_named(pattern: str, listed: str) -> None:
    err = _raised(found=HR + SALES, schemas=[], include=["hr.*", pattern], exclude=[])
    assert err.key == "export.include"
    assert err.one_line() == (
        f"error EXP-1016: export.include: pattern {pattern!r} matches no table ({listed}) "
        "(fix: patterns are case-insensitive globs on SCHEMA.TABLE, such as sales.order*)"
    )


def test_the_tables_listed_for_a_pattern_are_capped() -> None:
    found = [TableRef("BIG", f"T{i:03d}") for i in range(30)]
    err = _raised(found=found, schemas=["BIG"], include=["big.nope"], exclude=[])
    assert "BIG.T019 and 10 more)" in err.message and "BIG.T020" not in err.message


def test_an_exclude_that_leaves_nothing_says_how_many_it_left_out() -> None:
    err = _raised(found=SALES + HR, schemas=[], include=["sales.*"], exclude=["*"])
    assert err.key == "export.exclude"
    assert err.message == (
        "export.exclude: no table matches: it leaves out all 3 tables that export.include selects"
    )
