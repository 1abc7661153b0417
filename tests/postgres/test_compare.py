"""The comparator on PostgreSQL against PostgreSQL (two databases on the test server): it
reports exactly the planted differences, no more (value-equal rewrites are equal), drills
through key ranges, names what it refuses, and moves no row when the tables agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from exporter.compare import drill
from exporter.compare.run import CompareRun, RunOptions, run_compare
from exporter.fsutil import read_json
from tests.postgres.compare_helpers import compare_config, connect, parsed, pg_block

pytestmark = pytest.mark.postgres

TABLE = '"Order Lines"'  # mixed case and a space
CREATE = f"""
CREATE TABLE {TABLE} (
    id bigint PRIMARY KEY,
    amount numeric(20, 10),
    price numeric,
    ts timestamptz,
    local_ts timestamp,
    note text,
    code varchar(20),
    data bytea,
    flag boolean,
    day date,
    ratio float8
)"""
FILL = f"""
INSERT INTO {TABLE}
SELECT g, g * 1.25, g / 7.0, TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1.5 seconds',
       TIMESTAMP '2024-01-01' + g * INTERVAL '1 minute', 'note ' || g, 'c' || (g % 50),
       decode(md5(g::text), 'hex'), g % 3 = 0, DATE '2020-01-01' + g % 900, g / 3.0
FROM generate_series(1, 5000) AS g"""


def _fill(database: str, *statements: str) -> None:
    with connect(database) as conn:
        for statement in (CREATE, FILL, *statements):
            conn.execute(statement)


def _run(config: dict[str, Any], **options: Any) -> CompareRun:
    return run_compare(
        parsed(config), config_file="test.yaml", options=RunOptions(inline=True, **options)
    )


def _report(run: CompareRun, table: str = "public_Order Lines") -> dict[str, Any]:
    data: dict[str, Any] = read_json(run.report_dir / f"{table}.json")
    return data


def _keys(rows: list[list[Any]]) -> list[Any]:
    return [row[0] for row in rows]


PLANTED = (
    f"UPDATE {TABLE} SET ts = ts + INTERVAL '1 microsecond' WHERE id = 10",
    f"UPDATE {TABLE} SET amount = amount + 0.0000000001 WHERE id = 20",
    f"UPDATE {TABLE} SET note = note || ' ' WHERE id = 30",
    f"UPDATE {TABLE} SET code = NULL WHERE id = 40",
    f"UPDATE {TABLE} SET note = NULL WHERE id = 50",  # '' on the source (below)
    f"UPDATE {TABLE} SET data = set_byte(data, 3, get_byte(data, 3) # 1) WHERE id = 60",
    f"DELETE FROM {TABLE} WHERE id = 70",
    f"INSERT INTO {TABLE} (id, note) VALUES (6000, 'only on the target')",
    f"UPDATE {TABLE} SET price = 1.50, ts = TIMESTAMPTZ '2024-01-01 12:00:00+02' WHERE id = 90",
)
SOURCE_ONLY = (
    f"UPDATE {TABLE} SET note = '' WHERE id = 50",
    f"DELETE FROM {TABLE} WHERE id = 80",
    f"UPDATE {TABLE} SET price = 1.5, ts = TIMESTAMPTZ '2024-01-01 10:00:00+00' WHERE id = 90",
)


def _planted(two_databases: tuple[str, str]) -> tuple[str, str]:
    source, target = two_databases
    _fill(source, *SOURCE_ONLY)
    # The target starts as the source did (row 80 stays there), then gets the changes.
    _fill(target, SOURCE_ONLY[0], SOURCE_ONLY[2], *PLANTED)
    return source, target


def _expected(report: dict[str, Any]) -> None:
    assert _keys(report["missing_in_target"]) == [70]
    assert _keys(report["missing_in_source"]) == [80, 6000]
    different = {row["key"][0]: row["columns"] for row in report["different_rows"]}
    assert sorted(different) == [10, 20, 30, 40, 50, 60]
    assert different[10] == {"ts": ["2024-01-01 00:00:15.000000", "2024-01-01 00:00:15.000001"]}
    assert different[20] == {"amount": ["25", "25.0000000001"]}
    assert different[30] == {"note": ['"note 30"', '"note 30 "']}
    assert different[40] == {"code": ['"c40"', None]}
    assert different[50] == {"note": ['""', None]}
    assert list(different[60]) == ["data"]


def test_exactly_the_planted_differences(two_databases: tuple[str, str], tmp_path: Path) -> None:
    source, target = _planted(two_databases)
    config = compare_config(pg_block(source), pg_block(target), tmp_path, chunk_rows=700)
    run = _run(config)
    report = _report(run)
    _expected(report)
    assert not run.equal
    state = run.session.tables["public_Order Lines"]
    assert (state.status, state.rows_source, state.rows_target) == ("completed", 4999, 5000)
    assert state.chunks_total == state.chunks_done > 1
    # The CSV says the same, one line per missing key and per differing column.
    lines = (run.report_dir / "public_Order Lines.csv").read_text().splitlines()
    assert lines[0] == "difference,key_id,column,source_value,target_value"
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(
        ["missing_in_target"] + ["missing_in_source"] * 2 + ["different"] * 6
    )
    assert 'different,30,note,"""note 30""","""note 30 """' in lines


def test_drilling_through_buckets_finds_the_same(
    two_databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With few rows streamed at a time the chunks are cut into buckets, and buckets into
    buckets, before any (key, digest) pair moves: the findings do not change."""
    monkeypatch.setattr(drill, "STREAM_ROWS", 40)
    source, target = _planted(two_databases)
    config = compare_config(pg_block(source), pg_block(target), tmp_path, chunk_rows=2500)
    run = _run(config)
    _expected(_report(run))
    state = run.session.tables["public_Order Lines"]
    assert state.keys_streamed < 40 * 2 * 12  # only the differing buckets' pairs
    assert run.figures["chunks_checked"] == 2
    # Two chunks of 32 buckets, and the differing buckets (about 78 rows) cut again.
    assert state.ranges_checked > 2 * 32 + 6 * 2


def test_identical_tables_move_no_row(two_databases: tuple[str, str], tmp_path: Path) -> None:
    source, target = two_databases
    for database in two_databases:
        with connect(database) as conn:
            conn.execute("CREATE TABLE wide (id bigint PRIMARY KEY, a text, b numeric, c float8)")
            conn.execute(
                "INSERT INTO wide SELECT g, md5(g::text), g * 0.001, sin(g) "
                "FROM generate_series(1, 1000000) AS g"
            )
            conn.execute("ANALYZE wide")
    config = compare_config(pg_block(source), pg_block(target), tmp_path, tables=["public.wide"])
    run = run_compare(
        parsed(config), config_file="c.yaml", options=RunOptions(workers=2, show_progress=False)
    )
    assert run.equal
    assert run.figures["rows_source"] == run.figures["rows_target"] == 1_000_000
    assert run.figures["rows_fetched_for_detail"] == 0
    assert run.figures["keys_streamed"] == 0
    assert run.figures["chunks_checked"] == 10


def test_text_and_composite_keys(two_databases: tuple[str, str], tmp_path: Path) -> None:
    source, target = two_databases
    table = "CREATE TABLE pairs (region text, n int, v text, PRIMARY KEY (region, n))"
    fill = (
        "INSERT INTO pairs SELECT r, n, r || n FROM unnest(ARRAY['a', 'B', 'b', 'é', 'Z', 'a b']) "
        "AS r, generate_series(1, 400) AS n"
    )
    for database in two_databases:
        with connect(database) as conn:
            conn.execute(table)
            conn.execute(fill)
    with connect(target) as conn:
        conn.execute("UPDATE pairs SET v = 'changed' WHERE region = 'é' AND n = 7")
        conn.execute("DELETE FROM pairs WHERE region = 'Z' AND n = 400")
    config = compare_config(pg_block(source), pg_block(target), tmp_path, chunk_rows=300)
    run = _run(config)
    report = _report(run, "public_pairs")
    assert report["key"] == ["region", "n"]
    assert report["missing_in_target"] == [["Z", 400]]
    assert [row["key"] for row in report["different_rows"]] == [["é", 7]]
    assert run.session.tables["public_pairs"].chunks_total > 3


def test_a_table_without_a_key_is_refused_unless_one_is_named(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    source, target = two_databases
    for database in two_databases:
        with connect(database) as conn:
            conn.execute("CREATE TABLE loose (a int, b text)")
            conn.execute("INSERT INTO loose SELECT g, 'x' FROM generate_series(1, 50) AS g")
    config = compare_config(pg_block(source), pg_block(target), tmp_path / "1")
    state = _run(config).session.tables["public_loose"]
    assert state.status == "failed"
    assert "no primary key" in (state.error or "") and "compare.key_columns" in (state.error or "")
    keyed = compare_config(
        pg_block(source), pg_block(target), tmp_path / "2", key_columns={"public.loose": ["a"]}
    )
    assert _run(keyed).equal


def test_columns_that_differ_are_named(two_databases: tuple[str, str], tmp_path: Path) -> None:
    source, target = two_databases
    with connect(source) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, a text, extra text)")
    with connect(target) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, a date)")
    config = compare_config(pg_block(source), pg_block(target), tmp_path / "1")
    error = _run(config).session.tables["public_t"].error or ""
    assert "extra (source only)" in error and "exclude_columns" in error
    excluded = compare_config(
        pg_block(source), pg_block(target), tmp_path / "2", exclude_columns={"*": ["extra"]}
    )
    error = _run(excluded).session.tables["public_t"].error or ""
    assert "column a is text on the source and date on the target" in error
