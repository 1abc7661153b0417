"""The frozen plan: a table that changed shape (or a changed file format) fails loudly instead
of being re-planned over existing chunk files; and `plan` shows the plan and writes nothing."""

from __future__ import annotations

import sqlite3

import pytest

from tests.sqlite.conftest import DEMO_EXPORT, Demo
from tests.sqlite.helpers import (
    chunk_files,
    export,
    file_state,
    report,
    run_inprocess,
    source_count,
    summary,
    table_dir,
    tree_state,
    write_config,
)


def test_changed_columns_fail_the_table_only(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys).code == 0
    orders = chunk_files(demo.out, "orders")
    plan_file = table_dir(demo.out, "orders") / "config" / "plan.json"
    plan_before = plan_file.read_bytes()
    kept = {i: file_state(p) for i, p in orders.items() if i != 1}
    orders[1].unlink()
    con = sqlite3.connect(demo.db)
    con.execute("ALTER TABLE orders ADD COLUMN coupon_code TEXT")
    con.commit()
    con.close()

    again = export(demo.config, capsys)

    assert again.code == 1
    assert "Traceback" not in again.err
    assert "3 of 4 table(s) succeeded" in again.out
    tables = summary(demo.out)
    entry = tables["orders"]
    assert entry["status"] == "FAILED"
    assert "columns changed" in entry["error"]
    assert "coupon_code" in entry["error"]
    assert "\n" not in entry["error"]
    assert report(demo.out)["status"] == "FAILED"
    for name in ("customers", "notes", "products"):
        assert tables[name]["status"] == "SUCCEEDED", (name, tables[name]["errors"])
        assert tables[name]["rows_exported"] == source_count(demo.db, name)
    # Nothing of the failed table was deleted, rewritten or re-planned.
    after = chunk_files(demo.out, "orders")
    assert sorted(after) == sorted(kept)
    assert {i: file_state(p) for i, p in after.items()} == kept
    assert plan_file.read_bytes() == plan_before


def test_changed_file_format_fails_the_table(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys, "--table", "main.notes").code == 0
    chunk = chunk_files(demo.out, "notes")[0]
    state = file_state(chunk)
    changed = write_config(demo.root, demo.db, demo.out, **{**DEMO_EXPORT, "null_marker": "NULL"})

    again = export(changed, capsys, "--table", "main.notes")

    assert again.code == 1
    entry = summary(demo.out)["notes"]
    assert entry["status"] == "FAILED"
    assert "null_marker" in entry["error"]
    assert file_state(chunk) == state


def test_plan_writes_nothing_before_export(demo: Demo, capsys: object) -> None:
    result = run_inprocess(["plan", "--config", str(demo.config)], capsys)

    assert result.code == 0, result.err
    assert not demo.out.exists(), "plan must not create the output folder"
    lines = result.out.splitlines()
    assert lines[0].split()[:4] == ["TABLE", "SIZE", "STRATEGY", "CHUNKS"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert sorted(rows) == ["main.customers", "main.notes", "main.orders", "main.products"]
    assert rows["main.orders"][2] == "physical"
    assert int(rows["main.orders"][3]) > 1
    for name in ("main.customers", "main.notes", "main.products"):
        assert rows[name][2:4] == ["whole", "1"], rows[name]


def test_plan_after_export_changes_nothing(demo: Demo, capsys: object) -> None:
    assert export(demo.config, capsys).code == 0
    before = tree_state(demo.out)
    n_orders = len(chunk_files(demo.out, "orders"))

    result = run_inprocess(["plan", "--config", str(demo.config)], capsys)

    assert result.code == 0, result.err
    assert tree_state(demo.out) == before
    orders = next(line for line in result.out.splitlines() if line.startswith("main.orders "))
    assert int(orders.split()[3]) == n_orders
    assert "frozen plan reused" in orders


@pytest.mark.parametrize("command", ["plan", "check"])
def test_plan_reports_a_changed_table(demo: Demo, capsys: object, command: str) -> None:
    assert export(demo.config, capsys, "--table", "main.products").code == 0
    before = tree_state(demo.out)
    con = sqlite3.connect(demo.db)
    con.execute("ALTER TABLE products ADD COLUMN colour TEXT")
    con.commit()
    con.close()

    result = run_inprocess([command, "--config", str(demo.config)], capsys)

    assert result.code == 1
    line = next(x for x in result.out.splitlines() if x.startswith("main.products "))
    assert "ERROR" in line and "columns changed" in line and "colour" in line
    assert ("row hashes by " in result.out) is (command == "check")
    assert tree_state(demo.out) == before
