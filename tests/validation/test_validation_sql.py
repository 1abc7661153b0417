"""validation.sql, run through sqlglot (BigQuery -> DuckDB) against the written files themselves.

Every check is TRUE on the files as exported; deleting a row or changing a value after
loading makes at least one check FALSE. Also: metadata.json repeats the source's figures.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from exporter.config import ExportConfig, parse_config
from exporter.export.run import run_export
from exporter.fsutil import read_json
from exporter.layout import ExportLayout
from exporter.model import TableRef
from tests.validation.bq_duckdb import (
    dumps,
    load_table,
    ok_columns,
    quote,
    run_checks,
    table_files,
    target_of,
)

ODD_COLUMNS = ["order", "a b", "a_b", 'x"y', "1st", "row hash", "_TABLE_x", "Sum_order"]


def build_database(path: Path) -> None:
    """Tables with INTEGER, REAL, TEXT, NULLs, odd column names, an empty table."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL, big INTEGER, "
        "price REAL, name TEXT, note TEXT)"
    )
    rows = []
    for i in range(1, 3001):
        rows.append(
            (
                i,
                i % 7 - 3,
                3_000_000_000_000_000 * (i % 3 == 0) or None,  # near INT64 limits
                i / 8 if i % 5 else None,
                f"item {i}",
                ["", None, 'say "hi"', "two\nlines", "comma, here", "\\N-ish"][i % 6],
            )
        )
    db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)", rows)
    cols = ", ".join(f'"{c.replace(chr(34), chr(34) * 2)}" INTEGER' for c in ODD_COLUMNS)
    db.execute(f'CREATE TABLE "odd table" ({cols}, "real one" REAL)')
    db.executemany(
        f'INSERT INTO "odd table" VALUES ({", ".join("?" * (len(ODD_COLUMNS) + 1))})',
        [
            tuple([n * k if (n + k) % 4 else None for k in range(len(ODD_COLUMNS))] + [n / 3])
            for n in range(1, 40)
        ],
    )
    db.execute("CREATE TABLE empty (n INTEGER, t TEXT)")
    db.execute("CREATE TABLE nulls (n INTEGER, t TEXT)")
    db.executemany("INSERT INTO nulls VALUES (?, ?)", [(None, "a"), (None, None)])
    db.commit()
    db.close()


def export(tmp_path: Path, bigquery: dict[str, Any]) -> tuple[ExportConfig, ExportLayout, Path]:
    db = tmp_path / "src.sqlite"
    build_database(db)
    out = tmp_path / "out"
    config = parse_config(
        {
            "source": {"engine": "sqlite", "path": str(db)},
            "export": {
                "output_dir": str(out),
                "chunk_threshold_gb": 0.00002,  # ~20 KB: `items` is split into several chunks
                "chunk_size_mb": 0.02,
            },
            "bigquery": bigquery,
        }
    )
    run = run_export(config, inline=True, show_progress=False)
    assert run.ok, [r.errors for r in run.results]
    return config, ExportLayout(out), db


TABLES = [TableRef("main", n) for n in ("items", "odd table", "empty", "nulls")]


@pytest.fixture(scope="module", params=[{"project": "my-proj", "dataset": "ds"}, {}])
def exported(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ExportConfig, ExportLayout, Path]:
    return export(tmp_path_factory.mktemp("bq"), request.param)


def test_items_is_chunked(exported: tuple[ExportConfig, ExportLayout, Path]) -> None:
    _, layout, _ = exported
    assert len(layout.existing_chunk_files(TableRef("main", "items"))) > 1


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_check_true_on_the_files(
    exported: tuple[ExportConfig, ExportLayout, Path], table: TableRef
) -> None:
    config, layout, _ = exported
    plan, schema, sql = table_files(layout, table)
    sqlglot.parse(sql, read="bigquery")  # parses as BigQuery
    target = target_of(sql)
    if config.bigquery.project:
        assert target[:2] == ("my-proj", "ds")
    else:
        assert target[:2] == ("YOUR_PROJECT", "YOUR_DATASET")
    con = duckdb.connect()
    load_table(con, layout, plan, schema, target)
    row = run_checks(con, sql)
    assert row["all_checks_ok"] is True, dumps(row)
    assert all(v is True for v in ok_columns(row).values()), dumps(row)
    exact = [c for c in plan.columns if c.kind.is_exact_number]
    assert len(ok_columns(row)) == 2 + len(exact)  # all_checks_ok, row_count_ok, one per sum


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_a_missing_row_fails(
    exported: tuple[ExportConfig, ExportLayout, Path], table: TableRef
) -> None:
    _, layout, _ = exported
    plan, schema, sql = table_files(layout, table)
    con = duckdb.connect()
    name = load_table(con, layout, plan, schema, target_of(sql))
    if con.execute(f"SELECT COUNT(*) FROM {name}").fetchone() == (0,):
        con.execute(f"INSERT INTO {name} (row_hash) VALUES ('x')")  # empty table: one row more
    else:
        con.execute(f"DELETE FROM {name} WHERE rowid = (SELECT MIN(rowid) FROM {name})")
    row = run_checks(con, sql)
    assert row["row_count_ok"] is False and row["all_checks_ok"] is False, dumps(row)


@pytest.mark.parametrize("table", [TABLES[0], TABLES[1]], ids=lambda t: t.name)
def test_a_changed_value_fails(
    exported: tuple[ExportConfig, ExportLayout, Path], table: TableRef
) -> None:
    _, layout, _ = exported
    plan, schema, sql = table_files(layout, table)
    con = duckdb.connect()
    name = load_table(con, layout, plan, schema, target_of(sql))
    names = [f["name"] for f in schema]
    failed = []
    for column, bq_name in zip(plan.columns, names, strict=False):
        if not column.kind.is_exact_number:
            continue
        col = quote(bq_name)
        con.execute("BEGIN")
        con.execute(
            f"UPDATE {name} SET {col} = {col} + 1 WHERE rowid = "
            f"(SELECT MIN(rowid) FROM {name} WHERE {col} IS NOT NULL)"
        )
        row = run_checks(con, sql)
        con.execute("ROLLBACK")
        assert row["row_count_ok"] is True, dumps(row)
        assert row["all_checks_ok"] is False, dumps(row)
        failed += [k for k, v in ok_columns(row).items() if v is False and k != "all_checks_ok"]
    assert len(failed) == sum(1 for c in plan.columns if c.kind.is_exact_number)
    assert len(set(failed)) == len(failed)  # each change failed its own, distinct check


def test_odd_names_get_valid_unique_bigquery_names(
    exported: tuple[ExportConfig, ExportLayout, Path],
) -> None:
    _, layout, _ = exported
    meta = read_json(layout.metadata_file(TableRef("main", "odd table")))
    names = {c["name"]: c["bigquery_name"] for c in meta["columns"]}
    assert names["order"] == "order"
    assert names["a b"] == "a_b" and names["a_b"] == "a_b_2"
    assert names['x"y'] == "x_y" and names["1st"] == "_1st"
    assert names["row hash"] == "row_hash_2"  # row_hash itself is the hash column
    assert names["_TABLE_x"] == "c_TABLE_x"
    assert meta["bigquery"]["table"].endswith(".main_odd_table")


def test_metadata_repeats_the_source_figures(
    exported: tuple[ExportConfig, ExportLayout, Path],
) -> None:
    config, layout, db = exported
    src = sqlite3.connect(db)
    for table in TABLES:
        meta = read_json(layout.metadata_file(table))
        plan, schema, _ = table_files(layout, table)
        exact = [c.name for c in plan.columns if c.kind.is_exact_number]
        sums = "".join(f', SUM("{c.replace(chr(34), chr(34) * 2)}")' for c in exact)
        count, *totals = src.execute(f'SELECT COUNT(*){sums} FROM "{table.name}"').fetchone()
        assert meta["status"] == "SUCCEEDED" and meta["errors"] == []
        assert meta["engine"] == "sqlite" and meta["schema"] == "main"
        assert meta["source_row_count"] == count == meta["exported_row_count"]
        assert sum(c["rows"] for c in meta["chunks"]) == count
        assert len(meta["chunks"]) == len(plan.chunks) == meta["chunk_plan"]["chunk_count"]
        by_column = {s["column"]: s for s in meta["column_sums"]}
        for name, total in zip(exact, totals, strict=True):
            expected = str(total if total is not None else 0)
            assert by_column[name]["source"] == expected == by_column[name]["exported"]
            assert by_column[name]["match"] is True
        assert [c["name"] for c in meta["columns"]] == [c.name for c in plan.columns]
        assert [c["bigquery_type"] for c in meta["columns"]] == [f["type"] for f in schema[:-1]]
        assert meta["row_hash"]["enabled"] is True and meta["row_hash"]["algorithm"] == "md5"
        assert meta["row_hash"]["computed"] == "client"
        assert meta["null_marker"] == "\\N"
        assert all(
            c["path"] == "rows" and c["file_name"].endswith(".csv.gz") for c in meta["chunks"]
        )
